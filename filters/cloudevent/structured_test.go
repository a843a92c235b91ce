package cloudevent

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/filters/event"
)

func TestReadStructured(t *testing.T) {
	tests := []struct {
		name string
		body string
		want event.Event
	}{
		{
			name: "spec example with JSON data and nulls",
			body: `{"specversion":"1.0","type":"com.example.someevent","source":"/mycontext","subject":null,
				"id":"C234-1234-1234","time":"2018-04-05T17:31:00Z","comexampleextension1":"value",
				"comexampleothervalue":5,"unsetextension":null,"datacontenttype":"application/json",
				"data":{"appinfoA":"abc","appinfoB":123,"appinfoC":true}}`,
			want: event.Event{SpecVersion: "1.0", ID: "C234-1234-1234", Source: "/mycontext",
				Type: "com.example.someevent", Time: "2018-04-05T17:31:00Z", DataContentType: "application/json",
				Extensions: []event.Attr{{Name: "comexampleextension1", Value: "value"}, {Name: "comexampleothervalue", Value: "5", Kind: event.AttrNumber}},
				Data:       []byte(`{"appinfoA":"abc","appinfoB":123,"appinfoC":true}`), DataKind: event.DataJSON},
		},
		{
			name: "spec example with XML string data",
			body: `{"specversion":"1.0","type":"com.example.someevent","source":"/mycontext","id":"B234-1234-1234",
				"datacontenttype":"text/xml","data":"<much wow=\"xml\"/>"}`,
			want: event.Event{SpecVersion: "1.0", ID: "B234-1234-1234", Source: "/mycontext",
				Type: "com.example.someevent", DataContentType: "text/xml",
				Data: []byte(`<much wow="xml"/>`), DataKind: event.DataText},
		},
		{
			name: "data_base64",
			body: `{"specversion":"1.0","type":"t","source":"s","id":"1",
				"datacontenttype":"application/vnd.apache.thrift.binary","data_base64":"AAEC/w=="}`,
			want: event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t",
				DataContentType: "application/vnd.apache.thrift.binary", Data: []byte{0, 1, 2, 0xff}, DataKind: event.DataBinary},
		},
		{
			name: "JSON string data stays quoted",
			body: `{"specversion":"1.0","type":"t","source":"s","id":"1","data":"I'm a string"}`,
			want: event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t",
				Data: []byte(`"I'm a string"`), DataKind: event.DataJSON},
		},
		{
			name: "extension types in canonical string form, with their kinds",
			body: `{"specversion":"1.0","type":"t","source":"s","id":"1","b":true,"f":false,"n":-7,
				"e":1e2,"big":12345678901,"frac":1.5,"s":"x\u00e9","q":"42"}`,
			want: event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t",
				Extensions: []event.Attr{{Name: "b", Value: "true", Kind: event.AttrBool}, {Name: "f", Value: "false", Kind: event.AttrBool},
					{Name: "n", Value: "-7", Kind: event.AttrNumber}, {Name: "e", Value: "100", Kind: event.AttrNumber},
					{Name: "big", Value: "12345678901", Kind: event.AttrNumber}, {Name: "frac", Value: "1.5", Kind: event.AttrNumber},
					{Name: "s", Value: "xé"}, {Name: "q", Value: "42"}}},
		},
		{
			name: "transfer 转账",
			body: `{"specversion":"1.0","id":"t-1","source":"Bank","type":"转账","subject":"Account","data":{"amount":1200}}`,
			want: event.Event{SpecVersion: "1.0", ID: "t-1", Source: "Bank", Type: "转账", Subject: "Account",
				Data: []byte(`{"amount":1200}`), DataKind: event.DataJSON},
		},
		{
			name: "null data and data_base64 is no data",
			body: `{"specversion":"1.0","type":"t","source":"s","id":"1","data":null,"data_base64":null}`,
			want: event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev event.Event
			if err := ReadStructured([]byte(tt.body), &ev); err != nil {
				t.Fatalf("ReadStructured: %v", err)
			}
			if !equalEvents(&ev, &tt.want) {
				t.Errorf("ReadStructured =\n%+v\nwant\n%+v", ev, tt.want)
			}
		})
	}
}

func TestReadStructuredInvalid(t *testing.T) {
	const ok = `"specversion":"1.0","id":"1","source":"s","type":"t"`
	tests := []struct {
		name   string
		body   string
		reason Reason
		text   string
	}{
		{"missing source", `{"specversion":"1.0","id":"1","type":"t"}`, ErrMissingAttribute, "missing source"},
		{"null source", `{"specversion":"1.0","id":"1","type":"t","source":null}`, ErrMissingAttribute, "missing source"},
		{"empty id", `{"specversion":"1.0","id":"","source":"s","type":"t"}`, ErrEmptyAttribute, "id: empty"},
		{"empty subject", `{` + ok + `,"subject":""}`, ErrEmptyAttribute, "subject: empty"},
		{"bad specversion", `{"specversion":"0.3","id":"1","source":"s","type":"t"}`, ErrBadSpecVersion, ""},
		{"numeric id", `{"specversion":"1.0","id":1,"source":"s","type":"t"}`, ErrBadAttributeType, ""},
		{"data and data_base64", `{` + ok + `,"data":{},"data_base64":"AA=="}`, ErrDataConflict, "data: data and data_base64 are exclusive"},
		{"bad base64", `{` + ok + `,"data_base64":"!!"}`, ErrBadEncoding, "data_base64: invalid base64"},
		{"bad JSON", `{` + ok + `,}`, ErrBadJSON, "invalid JSON"},
		{"truncated JSON", `{` + ok, ErrBadJSON, ""},
		{"not an object", `[{` + ok + `}]`, ErrBadJSON, "not a JSON object"},
		{"invalid UTF-8", "{" + ok + `,"subject":"a` + "\xff" + `"}`, ErrBadEncoding, "body is not valid UTF-8"},
		{"control character", `{` + ok + `,"subject":"a\u0001"}`, ErrBadEncoding, "subject: control character"},
		{"duplicate member", `{` + ok + `,"type":"u"}`, ErrDuplicateAttribute, ""},
		{"duplicate extension", `{` + ok + `,"x":1,"x":2}`, ErrDuplicateAttribute, ""},
		{"bad extension name", `{` + ok + `,"myExt":1}`, ErrBadAttributeName, "myExt: invalid attribute name, want [a-z0-9]+"},
		{"object extension", `{` + ok + `,"x":{}}`, ErrBadAttributeType, ""},
		{"text data not a string", `{` + ok + `,"datacontenttype":"text/plain","data":5}`, ErrBadAttributeType, ""},
		{"deep nesting", `{` + ok + `,"data":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, ErrBadJSON, "nested too deeply"},
		{"empty body", ``, ErrBadJSON, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev event.Event
			err := ReadStructured([]byte(tt.body), &ev)
			if !errors.Is(err, tt.reason) {
				t.Fatalf("ReadStructured error = %v, want %s", err, tt.reason.Name())
			}
			if tt.text != "" && err.Error() != tt.text {
				t.Errorf("message %q, want %q", err.Error(), tt.text)
			}
		})
	}
}

func TestReadStructuredDoesNotAliasAttributes(t *testing.T) {
	body := []byte(`{"specversion":"1.0","id":"abc","source":"s","type":"t","ext":"v","data":[1]}`)
	var ev event.Event
	if err := ReadStructured(body, &ev); err != nil {
		t.Fatal(err)
	}
	for i := range body {
		if body[i] != '[' && body[i] != '1' && body[i] != ']' {
			body[i] = 'X'
		}
	}
	if ev.ID != "abc" || ev.Type != "t" || ev.Extensions[0] != (event.Attr{Name: "ext", Value: "v"}) {
		t.Errorf("attributes changed with the body: %+v", ev)
	}
	if string(ev.Data) != "[1]" {
		t.Errorf("data = %q", ev.Data)
	}
}

func TestReadBatch(t *testing.T) {
	body := []byte(`[{"specversion":"1.0","id":"1","source":"Bank","type":"转账","subject":"Account","data":{"amount":1}},
		{"specversion":"1.0","id":"2","source":"s","type":"t","datacontenttype":"text/plain","data":"hi","x":1}]`)
	dst := make([]event.Event, 0, 1)
	events, err := ReadBatch(body, 10, dst)
	if err != nil {
		t.Fatalf("ReadBatch: %v", err)
	}
	if len(events) != 2 || events[0].Type != "转账" || string(events[0].Data) != `{"amount":1}` ||
		events[1].DataKind != event.DataText || string(events[1].Data) != "hi" || events[1].Extensions[0].Value != "1" {
		t.Fatalf("ReadBatch = %+v", events)
	}
	again, err := ReadBatch([]byte(`[{"specversion":"1.0","id":"9","source":"s","type":"t"}]`), 10, events)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0].ID != "9" || again[0].Subject != "" || again[0].Data != nil || &again[0] != &events[0] {
		t.Errorf("reused batch = %+v", again)
	}
	empty, err := ReadBatch([]byte(` [ ] `), 10, again)
	if err != nil || len(empty) != 0 {
		t.Errorf("empty batch = %v, %v", empty, err)
	}
}

func TestReadBatchInvalid(t *testing.T) {
	const ev = `{"specversion":"1.0","id":"1","source":"s","type":"t"}`
	tests := []struct {
		name   string
		body   string
		max    int
		reason Reason
		text   string
	}{
		{"too large", `[` + ev + `,` + ev + `,` + ev + `]`, 2, ErrBatchTooLarge, "more than 2 events in batch"},
		{"invalid second event", `[` + ev + `,{"specversion":"1.0","id":"2","type":"t"}]`, 10, ErrMissingAttribute, "event 1: missing source"},
		{"not an array", ev, 10, ErrBadJSON, "not a JSON array"},
		{"element not an object", `[` + ev + `,5]`, 10, ErrBadJSON, "event 1: not a JSON object"},
		{"bad JSON", `[` + ev + `,]`, 10, ErrBadJSON, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := ReadBatch([]byte(tt.body), tt.max, nil)
			if !errors.Is(err, tt.reason) {
				t.Fatalf("ReadBatch error = %v, want %s", err, tt.reason.Name())
			}
			if len(events) != 0 {
				t.Errorf("events returned with an error: %d", len(events))
			}
			if err.Error() != tt.text {
				t.Errorf("message %q, want %q", err.Error(), tt.text)
			}
		})
	}
}

// equalEvents compares events, treating nil and empty Extensions and Data alike.
func equalEvents(a, b *event.Event) bool {
	x, y := *a, *b
	if len(x.Extensions) == 0 {
		x.Extensions = nil
	}
	if len(y.Extensions) == 0 {
		y.Extensions = nil
	}
	if len(x.Data) == 0 {
		x.Data = nil
	}
	if len(y.Data) == 0 {
		y.Data = nil
	}
	return reflect.DeepEqual(x, y)
}

// structuredEvent returns a JSON-format event whose JSON data, a list of
// bank transfers, makes the body about size bytes long.
func structuredEvent(size int) []byte {
	head := `{"specversion":"1.0","id":"A234-1234-1234","source":"/bank/accounts","type":"com.bank.transfer",` +
		`"subject":"Account","time":"2018-04-05T17:31:00Z","datacontenttype":"application/json",` +
		`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01","data":{"transfers":[`
	var b strings.Builder
	b.WriteString(head)
	for i := 0; b.Len() < size-200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"tx-%06d","from":"DE89370400440532013000","to":"GB29NWBK60161331926819",`+
			`"amount":%d.50,"currency":"EUR","memo":"Monthly rent \"flat 4B\", paid by standing order","booked":true}`, i, 1000+i)
	}
	b.WriteString(`]}}`)
	return []byte(b.String())
}

func BenchmarkReadStructured1KiB(b *testing.B) {
	benchmarkReadStructured(b, 1024)
}

func BenchmarkReadStructured64KiB(b *testing.B) {
	benchmarkReadStructured(b, 64*1024)
}

func benchmarkReadStructured(b *testing.B, size int) {
	body := structuredEvent(size)
	var ev event.Event
	if err := ReadStructured(body, &ev); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ReadStructured(body, &ev); err != nil {
			b.Fatal(err)
		}
	}
}
