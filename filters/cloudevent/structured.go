package cloudevent

import (
	"encoding/base64"
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/eventroute/eventroute/filters/event"
)

// ReadStructured reads one event in the CloudEvents JSON format (a
// structured-mode body) into ev, which is reset first and may be reused.
//
// Attributes are copied out of the body; data is not: for JSON data ev.Data is
// the data's JSON text inside body, for a string of a non-JSON
// datacontenttype it is the string's content (inside body unless it has
// escapes), and for data_base64 it is the decoded bytes. null means unset.
// Extensions of JSON type number or boolean are rendered in their canonical
// string form, and their type is kept in Attr.Kind so that AppendStructured
// and AppendBatch write them back as a JSON number or boolean.
func ReadStructured(body []byte, ev *event.Event) error {
	ev.Reset()
	var buf [24]jsonValue
	members, err := scanBody(body, 1, buf[:0])
	if err != nil {
		return err
	}
	if firstByte(body) != '{' {
		return invalid("", ErrBadJSON, problemNotObject)
	}
	_, err = readObject(body, members, ev, arenaFor(body, members))
	return err
}

// ReadBatch reads a batched-mode body, a JSON array of JSON-format events,
// into dst[:0] and returns it; the events of dst (and their Extensions
// capacity) are reused. An empty array is a valid, empty batch. A batch of
// more than maxEvents events is refused with ErrBatchTooLarge (maxEvents <= 0
// means no limit) before any event is read. Otherwise events are read in
// order and the first fault is returned, with the event's position in
// InvalidError.Index.
func ReadBatch(body []byte, maxEvents int, dst []event.Event) ([]event.Event, error) {
	dst = dst[:0]
	values, err := scanBody(body, 2, nil)
	if err != nil {
		return dst, err
	}
	if firstByte(body) != '[' {
		return dst, invalid("", ErrBadJSON, problemNotArray)
	}
	count := 0
	for i := range values {
		if values[i].depth == 1 {
			count++
		}
	}
	if maxEvents > 0 && count > maxEvents {
		return dst, invalid("", ErrBatchTooLarge, "more than "+strconv.Itoa(maxEvents)+" events in batch")
	}
	copies := arenaFor(body, values)
	for i := 0; i < len(values); {
		element := &values[i]
		end := i + 1
		for end < len(values) && values[end].depth == 2 {
			end++
		}
		index := len(dst)
		if index < cap(dst) {
			dst = dst[:index+1]
			dst[index].Reset()
		} else {
			dst = append(dst, event.Event{})
		}
		if element.kind(body) != '{' {
			return dst[:0], &InvalidError{Reason: ErrBadJSON, Detail: problemNotObject, Index: index}
		}
		if copies, err = readObject(body, values[i+1:end], &dst[index], copies); err != nil {
			var ie *InvalidError
			if errors.As(err, &ie) {
				ie.Index = index
			}
			return dst[:0], err
		}
		i = end
	}
	return dst, nil
}

// scanBody checks that body is valid UTF-8 and valid JSON and locates its
// values down to maxDepth.
func scanBody(body []byte, maxDepth int, values []jsonValue) ([]jsonValue, error) {
	if !utf8.Valid(body) {
		return nil, invalid("", ErrBadEncoding, problemBodyUTF8)
	}
	values, problem := scanJSON(body, maxDepth, values)
	if problem != "" {
		detail := ""
		if problem != problemJSON {
			detail = problem
		}
		return nil, invalid("", ErrBadJSON, detail)
	}
	return values, nil
}

// firstByte returns the first byte of body that is not white space.
func firstByte(body []byte) byte {
	if i := skipSpace(body, 0); i < len(body) {
		return body[i]
	}
	return 0
}

// objectReader reads the members of one JSON-format event.
type objectReader struct {
	ev                *event.Event
	body              []byte
	seen              attributeSet
	arena             []byte    // see arenaFor
	data              jsonValue // the data member, if given and not null (end > 0)
	dataB64           jsonValue // the data_base64 member, if given and not null (end > 0)
	seenData, seenB64 bool
}

// readObject reads the event whose members (depth-1 values of the object,
// nested values excluded) are given. Attribute strings are copied into arena,
// which is returned for the next event of a batch.
func readObject(body []byte, members []jsonValue, ev *event.Event, arena []byte) ([]byte, error) {
	r := objectReader{ev: ev, body: body, arena: arena}
	for i := range members {
		if members[i].depth != members[0].depth {
			continue
		}
		if err := r.member(&members[i]); err != nil {
			return r.arena, err
		}
	}
	if err := checkRequired(ev, &r.seen, ""); err != nil {
		return r.arena, err
	}
	return r.arena, r.setData()
}

// member reads one member.
func (r *objectReader) member(m *jsonValue) error {
	rawName := bytesView(r.body[m.keyStart:m.keyEnd])
	name := rawName[1 : len(rawName)-1]
	if m.keyEscaped {
		name = gjson.Parse(rawName).Str
	}
	isNull := m.kind(r.body) == 'n'
	switch name {
	case "data":
		if r.seenData {
			return invalid("data", ErrDuplicateAttribute, "")
		}
		r.seenData = true
		if !isNull {
			r.data = *m
		}
		return nil
	case "data_base64":
		if r.seenB64 {
			return invalid("data_base64", ErrDuplicateAttribute, "")
		}
		r.seenB64 = true
		if !isNull {
			r.dataB64 = *m
		}
		return nil
	}
	if core := event.CoreAttribute(name); core != event.CoreNone {
		return r.setCore(core, m)
	}
	return r.addExtension(name, m)
}

// setCore stores a core attribute, which must be a JSON string or null.
func (r *objectReader) setCore(core event.Core, m *jsonValue) error {
	if r.seen.has(core) {
		return invalid(core.Name(), ErrDuplicateAttribute, "")
	}
	switch m.kind(r.body) {
	case 'n':
		r.seen.addNull(core)
		return nil
	case '"':
	default:
		return invalid(core.Name(), ErrBadAttributeType, "must be a JSON string")
	}
	r.seen.add(core)
	s, err := r.ownedString(core.Name(), m)
	if err != nil {
		return err
	}
	*r.ev.Field(core) = s
	return nil
}

// addExtension stores an extension attribute: a JSON string, number or
// boolean, with its kind; null means unset.
func (r *objectReader) addExtension(name string, m *jsonValue) error {
	if !validAttributeName(name) {
		return invalid(shownName(name), ErrBadAttributeName, "")
	}
	for i := range r.ev.Extensions {
		if r.ev.Extensions[i].Name == name {
			return invalid(name, ErrDuplicateAttribute, "")
		}
	}
	var s string
	kind := event.AttrString
	switch m.kind(r.body) {
	case 'n':
		return nil
	case '"':
		var err error
		if s, err = r.ownedString(name, m); err != nil {
			return err
		}
	case 't':
		s, kind = "true", event.AttrBool
	case 'f':
		s, kind = "false", event.AttrBool
	case '{', '[':
		return invalid(name, ErrBadAttributeType, "must be a JSON string, number or boolean")
	default:
		s, kind = canonicalNumber(r.text(m)), event.AttrNumber
	}
	r.ev.Extensions = append(r.ev.Extensions, event.Attr{Name: r.copy(name), Value: s, Kind: kind})
	return nil
}

// setData sets the event's data from data or data_base64.
func (r *objectReader) setData() error {
	switch {
	case r.data.end > 0 && r.dataB64.end > 0:
		return invalid("data", ErrDataConflict, "")
	case r.dataB64.end > 0:
		if r.dataB64.kind(r.body) != '"' {
			return invalid("data_base64", ErrBadAttributeType, "must be a JSON string")
		}
		encoded := r.stringContent(&r.dataB64)
		data := make([]byte, base64.StdEncoding.DecodedLen(len(encoded)))
		n, err := base64.StdEncoding.Decode(data, []byte(encoded))
		if err != nil {
			return invalid("data_base64", ErrBadEncoding, problemBase64)
		}
		r.ev.Data, r.ev.DataKind = data[:n], event.DataBinary
	case r.data.end > 0:
		if r.ev.DataContentType == "" || IsJSONMediaType(r.ev.DataContentType) {
			r.ev.Data, r.ev.DataKind = r.slice(int(r.data.start), int(r.data.end)), event.DataJSON
			return nil
		}
		if r.data.kind(r.body) != '"' {
			return invalid("data", ErrBadAttributeType, problemDataString)
		}
		if r.data.escaped {
			r.ev.Data = []byte(gjson.Parse(r.text(&r.data)).Str)
		} else {
			r.ev.Data = r.slice(int(r.data.start)+1, int(r.data.end)-1)
		}
		r.ev.DataKind = event.DataText
	}
	return nil
}

// slice returns body[start:end] with no spare capacity.
func (r *objectReader) slice(start, end int) []byte {
	return r.body[start:end:end]
}

// text returns the JSON text of a value, aliasing the body.
func (r *objectReader) text(m *jsonValue) string {
	return bytesView(r.body[m.start:m.end])
}

// stringContent returns the content of a JSON string value; it aliases the
// body unless the string has escapes.
func (r *objectReader) stringContent(m *jsonValue) string {
	if m.escaped {
		return r.unescaped(m)
	}
	return bytesView(r.body[m.start+1 : m.end-1]) // inlined: calls are dear in the wasm guest
}

// unescaped returns the content of a JSON string value with escapes.
func (r *objectReader) unescaped(m *jsonValue) string {
	return gjson.Parse(r.text(m)).Str
}

// ownedString returns the content of a JSON string value as a string that
// does not alias the body, after checking it is a valid String value.
func (r *objectReader) ownedString(name string, m *jsonValue) (string, error) {
	s := r.stringContent(m)
	if problem := checkString(s); problem != "" {
		return "", invalid(name, ErrBadEncoding, problem)
	}
	switch {
	case m.escaped:
		return s, nil // unescaping made a copy
	case s == "1.0":
		return "1.0", nil
	}
	return r.copy(s), nil
}

// arenaFor returns the buffer that receives the copies of the attribute
// strings of a body, sized for the given values, so that reading an event
// allocates once for all its attributes rather than once per attribute.
func arenaFor(body []byte, values []jsonValue) []byte {
	size := 0
	for i := range values {
		v := &values[i]
		if c := body[v.start]; c == '{' || c == '[' {
			continue
		}
		// bytesView, not string(): a string conversion held in a variable
		// copies the key, which costs much in the wasm guest.
		if key := bytesView(body[v.keyStart:v.keyEnd]); key == `"data"` || key == `"data_base64"` {
			continue // data is not copied
		}
		size += int(v.end-v.start) + int(v.keyEnd-v.keyStart)
	}
	return make([]byte, 0, size)
}

// copy returns a copy of s in the arena. The bytes behind returned strings
// are never written again: when the arena is full, append moves on to a new
// array and the old one lives on with the strings that point into it.
func (r *objectReader) copy(s string) string {
	if s == "" {
		return ""
	}
	start := len(r.arena)
	r.arena = append(r.arena, s...)
	return unsafe.String(&r.arena[start], len(s))
}

// canonicalNumber renders a JSON number as a CloudEvents Integer when it is
// integral and fits 32 bits; other numbers keep their JSON text.
func canonicalNumber(text string) string {
	if i, err := strconv.ParseInt(text, 10, 32); err == nil {
		return strconv.FormatInt(i, 10)
	}
	f, err := strconv.ParseFloat(text, 64)
	if err == nil && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strings.Clone(text)
}

// bytesView returns b as a string without copying. The string must not
// outlive b's contents, so results derived from it are copied (strings.Clone)
// or turned back into sub-slices of b before they leave this package.
func bytesView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
