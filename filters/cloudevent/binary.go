package cloudevent

import (
	"strings"
	"unicode/utf8"

	"github.com/eventroute/eventroute/filters/event"
)

// ReadBinary reads a binary-mode CloudEvent into ev, which is reset first and
// may be reused across requests. Attributes come from the ce- headers
// (decoded by DecodeHeaderValue), datacontenttype from Content-Type, and the
// body is the data: ev.Data aliases body.
//
// Data is event.DataJSON for a JSON content type, event.DataText for a text or
// XML content type whose body is valid UTF-8, event.DataBinary otherwise, and
// event.DataNone for an empty body. JSON data is not validated here.
//
// Extension names are lower-cased. Nothing is allocated when no header value
// needs decoding and every ce- header name is already lower case, as Envoy
// gives them.
func ReadBinary(headers [][2]string, body []byte, ev *event.Event) error {
	ev.Reset()
	var seen attributeSet
	for i := range headers {
		name := headers[i][0]
		if len(name) < len("ce-") {
			continue
		}
		// A byte test dispatches on "ce-" before any comparison: c|0x20
		// is 'c' only for 'c' and 'C', 'e' only for 'e' and 'E'.
		if name[2] == '-' && name[0]|0x20 == 'c' && name[1]|0x20 == 'e' {
			if err := setHeaderAttribute(ev, &seen, name, headers[i][1]); err != nil {
				return err
			}
			continue
		}
		if ev.DataContentType == "" && equalLowerASCII(name, "content-type") {
			raw := headers[i][1]
			if problem := checkString(raw); problem != "" {
				return invalid("content-type", ErrBadEncoding, problem)
			}
			ev.DataContentType = raw
		}
	}
	if err := checkRequired(ev, &seen, "ce-"); err != nil {
		return err
	}
	setBinaryData(ev, body)
	return nil
}

// setHeaderAttribute stores the attribute of one ce- header.
func setHeaderAttribute(ev *event.Event, seen *attributeSet, header, raw string) error {
	attr := header[len("ce-"):]
	if !validAttributeName(attr) { // not already lower case, as Envoy gives it
		if attr = strings.ToLower(attr); !validAttributeName(attr) {
			return invalid(shownName(header), ErrBadAttributeName, "")
		}
	}
	value, problem := decodeHeaderValue(raw)
	if problem != "" {
		return invalid(header, ErrBadEncoding, problem)
	}
	core := event.CoreAttribute(attr)
	switch core {
	case event.CoreDataContentType:
		return invalid(header, ErrDuplicateAttribute, "must not be sent, Content-Type carries datacontenttype")
	case event.CoreNone:
		for i := range ev.Extensions {
			if ev.Extensions[i].Name == attr {
				return invalid(shownName(header), ErrDuplicateAttribute, "")
			}
		}
		ev.Extensions = append(ev.Extensions, event.Attr{Name: attr, Value: value})
		return nil
	}
	if seen.has(core) {
		return invalid(header, ErrDuplicateAttribute, "")
	}
	seen.add(core)
	*ev.Field(core) = value
	return nil
}

// setBinaryData sets the data of a binary-mode event from its body.
func setBinaryData(ev *event.Event, body []byte) {
	switch {
	case len(body) == 0:
		return
	case IsJSONMediaType(ev.DataContentType):
		ev.DataKind = event.DataJSON
	case isTextMediaType(ev.DataContentType) && utf8.Valid(body):
		ev.DataKind = event.DataText
	default:
		ev.DataKind = event.DataBinary
	}
	ev.Data = body
}

// validAttributeName reports whether name is a CloudEvents attribute name:
// one or more of a-z and 0-9, and not the reserved name "data".
func validAttributeName(name string) bool {
	if name == "" || name == "data" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
