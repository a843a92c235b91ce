package cloudevent

import (
	"encoding/base64"
	"unicode/utf8"
	"unsafe"

	"github.com/eventroute/eventroute/filters/event"
	"github.com/eventroute/eventroute/internal/jsonstr"
)

// AppendStructured appends ev in the CloudEvents JSON format, the body of an
// application/cloudevents+json request. An extension of kind AttrNumber or
// AttrBool is written as a JSON number or boolean (its Value bare), any other
// as a JSON string; a number or boolean whose Value is not a JSON number or
// "true"/"false" is written as a string. JSON data is written as is (a JSON
// string stays quoted), text data as a JSON string, binary data as
// data_base64. JSON data that is not valid JSON (binary mode does not check
// it) and text that is not valid UTF-8 are written as data_base64, so the body
// is always valid JSON and the data bytes survive.
func AppendStructured(dst []byte, ev *event.Event) []byte {
	dst = append(dst, '{')
	first := true
	member := func(name, value string) {
		if value == "" {
			return
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonstr.Append(dst, name)
		dst = append(dst, ':')
		dst = jsonstr.Append(dst, value)
	}
	member("specversion", ev.SpecVersion)
	member("id", ev.ID)
	member("source", ev.Source)
	member("type", ev.Type)
	member("subject", ev.Subject)
	member("time", ev.Time)
	member("datacontenttype", ev.DataContentType)
	member("dataschema", ev.DataSchema)
	for i := range ev.Extensions {
		x := &ev.Extensions[i]
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = jsonstr.Append(dst, x.Name)
		dst = append(dst, ':')
		if bareLiteral(x) {
			dst = append(dst, x.Value...)
		} else {
			dst = jsonstr.Append(dst, x.Value)
		}
	}
	if ev.DataKind == event.DataNone {
		return append(dst, '}')
	}
	if !first {
		dst = append(dst, ',')
	}
	switch {
	case ev.DataKind == event.DataJSON && isJSONText(ev.Data):
		dst = append(dst, `"data":`...)
		dst = append(dst, ev.Data...)
	case ev.DataKind == event.DataText && utf8.Valid(ev.Data):
		dst = append(dst, `"data":`...)
		dst = jsonstr.Append(dst, bytesView(ev.Data))
	default:
		dst = append(dst, `"data_base64":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, ev.Data)
		dst = append(dst, '"')
	}
	return append(dst, '}')
}

// AppendBatch appends evs in the CloudEvents JSON batch format, the body of an
// application/cloudevents-batch+json request.
func AppendBatch(dst []byte, evs []*event.Event) []byte {
	dst = append(dst, '[')
	for i, ev := range evs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendStructured(dst, ev)
	}
	return append(dst, ']')
}

// AppendBinaryHeaders appends the headers of ev in binary mode: one ce-
// header per attribute, its value (an extension's Value, whatever its kind)
// percent-encoded per the HTTP binding (upper-case hex), and Content-Type for
// datacontenttype. JSON data without a
// datacontenttype gets Content-Type application/json, as the JSON format
// implies it.
func AppendBinaryHeaders(dst [][2]string, ev *event.Event) [][2]string {
	header := func(name, value string) {
		if value != "" {
			dst = append(dst, [2]string{name, encodeHeaderValue(value)})
		}
	}
	header("ce-specversion", ev.SpecVersion)
	header("ce-id", ev.ID)
	header("ce-source", ev.Source)
	header("ce-type", ev.Type)
	header("ce-subject", ev.Subject)
	header("ce-time", ev.Time)
	header("ce-dataschema", ev.DataSchema)
	for _, x := range ev.Extensions {
		dst = append(dst, [2]string{"ce-" + x.Name, encodeHeaderValue(x.Value)})
	}
	switch {
	case ev.DataContentType != "":
		dst = append(dst, [2]string{"content-type", ev.DataContentType})
	case ev.DataKind == event.DataJSON:
		dst = append(dst, [2]string{"content-type", "application/json"})
	}
	return dst
}

// BinaryBody returns the body of ev in binary mode: the data bytes (JSON data
// as its JSON text, so string data stays quoted), nil without data.
func BinaryBody(ev *event.Event) []byte {
	if ev.DataKind == event.DataNone {
		return nil
	}
	return ev.Data
}

// bareLiteral reports whether an extension is written as its Value bare: a
// number whose Value is a JSON number, or a boolean whose Value is "true" or
// "false".
func bareLiteral(x *event.Attr) bool {
	switch x.Kind {
	case event.AttrBool:
		return x.Value == "true" || x.Value == "false"
	case event.AttrNumber:
		b := unsafe.Slice(unsafe.StringData(x.Value), len(x.Value)) // read only
		end, ok := scanNumber(b, 0)
		return ok && end == len(b)
	}
	return false
}

// isJSONText reports whether data is one valid JSON value in valid UTF-8.
func isJSONText(data []byte) bool {
	if !utf8.Valid(data) {
		return false
	}
	_, problem := scanJSON(data, 0, nil)
	return problem == ""
}
