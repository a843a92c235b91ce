package cloudevent

import (
	"bytes"
	"encoding/base64"
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
// string form.
func ReadStructured(body []byte, ev *event.Event) error {
	ev.Reset()
	root, err := parseBody(body)
	if err != nil {
		return err
	}
	if !root.IsObject() {
		return invalid("", ErrBadJSON, problemNotObject)
	}
	return readObject(root, body, ev)
}

// ReadBatch reads a batched-mode body, a JSON array of JSON-format events,
// into dst[:0] and returns it; the events of dst (and their Extensions
// capacity) are reused. An empty array is a valid, empty batch. A batch of
// more than maxEvents events is refused with ErrBatchTooLarge (maxEvents <= 0
// means no limit). Events are read in order and the first fault is returned,
// with its position in InvalidError.Index.
func ReadBatch(body []byte, maxEvents int, dst []event.Event) ([]event.Event, error) {
	dst = dst[:0]
	root, err := parseBody(body)
	if err != nil {
		return dst, err
	}
	if !root.IsArray() {
		return dst, invalid("", ErrBadJSON, problemNotArray)
	}
	root.ForEach(func(_, value gjson.Result) bool {
		index := len(dst)
		if maxEvents > 0 && index >= maxEvents {
			err = &InvalidError{Reason: ErrBatchTooLarge,
				Detail: "more than " + strconv.Itoa(maxEvents) + " events in batch", Index: -1}
			return false
		}
		if index < cap(dst) {
			dst = dst[:index+1]
			dst[index].Reset()
		} else {
			dst = append(dst, event.Event{})
		}
		if !value.IsObject() {
			err = &InvalidError{Reason: ErrBadJSON, Detail: problemNotObject, Index: index}
			return false
		}
		if err = readObject(value, body, &dst[index]); err != nil {
			if ie, ok := err.(*InvalidError); ok {
				ie.Index = index
			}
			return false
		}
		return true
	})
	if err != nil {
		return dst[:0], err
	}
	return dst, nil
}

// parseBody checks that body is valid UTF-8 and valid JSON and returns its
// top-level value. The strings of the result alias body.
func parseBody(body []byte) (gjson.Result, error) {
	if !utf8.Valid(body) {
		return gjson.Result{}, invalid("", ErrBadEncoding, problemBodyUTF8)
	}
	if nestedTooDeeply(body) {
		return gjson.Result{}, invalid("", ErrBadJSON, problemNesting)
	}
	json := bytesView(body)
	if !gjson.Valid(json) {
		return gjson.Result{}, invalid("", ErrBadJSON, "")
	}
	return gjson.Parse(json), nil
}

// maxNesting bounds how deeply arrays and objects may nest in a body. The
// JSON validator recurses once per level; the bound keeps its stack small
// whatever a client sends.
const maxNesting = 1000

// nestedTooDeeply reports whether arrays and objects in body nest more than
// maxNesting levels. Bodies with fewer brackets than that are answered by
// counting alone.
func nestedTooDeeply(body []byte) bool {
	if bytes.Count(body, []byte{'['})+bytes.Count(body, []byte{'{'}) <= maxNesting {
		return false
	}
	depth := 0
	inString := false
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			if depth++; depth > maxNesting {
				return true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return false
}

// bytesView returns b as a string without copying. The string must not
// outlive b's contents, so results derived from it are copied (strings.Clone)
// or turned back into sub-slices of b before they leave this package.
func bytesView(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// objectReader reads the members of one JSON-format event.
type objectReader struct {
	ev       *event.Event
	body     []byte
	seen     attributeSet
	data     gjson.Result // the data member, if given and not null
	dataB64  gjson.Result // the data_base64 member, if given and not null
	dataSeen bool
	b64Seen  bool
	err      error
}

// readObject reads the event in obj, a JSON object inside body.
func readObject(obj gjson.Result, body []byte, ev *event.Event) error {
	r := objectReader{ev: ev, body: body}
	obj.ForEach(r.member)
	if r.err != nil {
		return r.err
	}
	if err := checkRequired(ev, &r.seen, ""); err != nil {
		return err
	}
	return r.setData()
}

// member reads one member; it returns false to stop at the first fault.
func (r *objectReader) member(key, value gjson.Result) bool {
	name := key.Str
	switch name {
	case "data":
		if r.dataSeen {
			r.err = invalid("data", ErrDuplicateAttribute, "")
			return false
		}
		r.dataSeen = true
		if value.Type != gjson.Null {
			r.data = value
		}
		return true
	case "data_base64":
		if r.b64Seen {
			r.err = invalid("data_base64", ErrDuplicateAttribute, "")
			return false
		}
		r.b64Seen = true
		if value.Type != gjson.Null {
			r.dataB64 = value
		}
		return true
	}
	if core := coreAttribute(name); core != attrNone {
		r.err = r.setCore(core, value)
	} else {
		r.err = r.addExtension(name, value)
	}
	return r.err == nil
}

// setCore stores a core attribute, which must be a JSON string or null.
func (r *objectReader) setCore(core coreAttr, value gjson.Result) error {
	if r.seen.has(core) {
		return invalid(core.name(), ErrDuplicateAttribute, "")
	}
	switch value.Type {
	case gjson.Null:
		r.seen.addNull(core)
		return nil
	case gjson.String:
	default:
		return invalid(core.name(), ErrBadAttributeType, "must be a JSON string")
	}
	r.seen.add(core)
	s, err := ownedString(core.name(), value)
	if err != nil {
		return err
	}
	*coreField(r.ev, core) = s
	return nil
}

// addExtension stores an extension attribute: a JSON string, number or
// boolean; null means unset.
func (r *objectReader) addExtension(name string, value gjson.Result) error {
	if !validAttributeName(name) {
		return invalid(shownName(name), ErrBadAttributeName, "")
	}
	for i := range r.ev.Extensions {
		if r.ev.Extensions[i].Name == name {
			return invalid(name, ErrDuplicateAttribute, "")
		}
	}
	var s string
	switch value.Type {
	case gjson.Null:
		return nil
	case gjson.String:
		var err error
		if s, err = ownedString(name, value); err != nil {
			return err
		}
	case gjson.True:
		s = "true"
	case gjson.False:
		s = "false"
	case gjson.Number:
		s = canonicalNumber(value)
	default:
		return invalid(name, ErrBadAttributeType, "must be a JSON string, number or boolean")
	}
	r.ev.Extensions = append(r.ev.Extensions, event.Attr{Name: strings.Clone(name), Value: s})
	return nil
}

// setData sets the event's data from data or data_base64.
func (r *objectReader) setData() error {
	switch {
	case r.data.Exists() && r.dataB64.Exists():
		return invalid("data", ErrDataConflict, "")
	case r.dataB64.Exists():
		if r.dataB64.Type != gjson.String {
			return invalid("data_base64", ErrBadAttributeType, "must be a JSON string")
		}
		data, err := base64.StdEncoding.DecodeString(r.dataB64.Str)
		if err != nil {
			return invalid("data_base64", ErrBadEncoding, problemBase64)
		}
		r.ev.Data, r.ev.DataKind = data, event.DataBinary
	case r.data.Exists():
		if r.ev.DataContentType == "" || IsJSONMediaType(r.ev.DataContentType) {
			r.ev.Data, r.ev.DataKind = r.slice(r.data.Index, len(r.data.Raw)), event.DataJSON
			return nil
		}
		if r.data.Type != gjson.String {
			return invalid("data", ErrBadAttributeType, problemDataString)
		}
		if hasEscape(r.data.Raw) {
			r.ev.Data = []byte(r.data.Str)
		} else {
			r.ev.Data = r.slice(r.data.Index+1, len(r.data.Raw)-2)
		}
		r.ev.DataKind = event.DataText
	}
	return nil
}

// slice returns n bytes of the body from offset.
func (r *objectReader) slice(offset, n int) []byte {
	return r.body[offset : offset+n : offset+n]
}

// ownedString returns the content of a JSON string value as a string that
// does not alias the body, after checking it is a valid String value.
func ownedString(name string, value gjson.Result) (string, error) {
	if problem := checkString(value.Str); problem != "" {
		return "", invalid(name, ErrBadEncoding, problem)
	}
	if hasEscape(value.Raw) {
		return value.Str, nil // unescaping made a copy
	}
	return strings.Clone(value.Str), nil
}

func hasEscape(raw string) bool { return strings.IndexByte(raw, '\\') >= 0 }

// canonicalNumber renders a JSON number as a CloudEvents Integer when it is
// integral and fits 32 bits; other numbers keep their JSON text.
func canonicalNumber(value gjson.Result) string {
	f := value.Num
	if f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strings.Clone(value.Raw)
}
