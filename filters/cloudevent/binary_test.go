package cloudevent

import (
	"errors"
	"reflect"
	"testing"

	"github.com/eventroute/eventroute/filters/event"
)

// transferHeaders is the transfer event 转账 in binary mode, as sdk-go sends it
// (raw UTF-8, no percent-encoding).
func transferHeaders() [][2]string {
	return [][2]string{
		{":method", "POST"},
		{":path", "/"},
		{":authority", "bank"},
		{"content-type", "application/json"},
		{"ce-specversion", "1.0"},
		{"ce-id", "t-1"},
		{"ce-source", "Bank"},
		{"ce-type", "转账"},
		{"ce-subject", "Account"},
		{"ce-traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
		{"user-agent", "curl"},
	}
}

func TestReadBinary(t *testing.T) {
	body := []byte(`{"amount":1200}`)
	var ev event.Event
	if err := ReadBinary(transferHeaders(), body, &ev); err != nil {
		t.Fatalf("ReadBinary: %v", err)
	}
	want := event.Event{
		SpecVersion: "1.0", ID: "t-1", Source: "Bank", Type: "转账", Subject: "Account",
		DataContentType: "application/json",
		Extensions:      []event.Attr{{Name: "traceparent", Value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}},
		Data:            body, DataKind: event.DataJSON,
	}
	if !reflect.DeepEqual(ev, want) {
		t.Errorf("ReadBinary =\n%+v\nwant\n%+v", ev, want)
	}
	if &ev.Data[0] != &body[0] {
		t.Error("Data does not alias the body")
	}
}

func TestReadBinaryDecodes(t *testing.T) {
	headers := [][2]string{
		{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "/s"},
		{"ce-type", "Euro%20%E2%82%AC%20%F0%9F%98%80"},
		{"Ce-MyExt", `"quoted value"`},
		{"content-type", "text/plain; charset=utf-8"},
	}
	var ev event.Event
	if err := ReadBinary(headers, []byte("hello"), &ev); err != nil {
		t.Fatalf("ReadBinary: %v", err)
	}
	if ev.Type != "Euro € 😀" {
		t.Errorf("type = %q", ev.Type)
	}
	if v, ok := ev.Attribute("myext"); !ok || v != "quoted value" {
		t.Errorf("myext = %q, %v", v, ok)
	}
	if ev.DataKind != event.DataText || string(ev.Data) != "hello" {
		t.Errorf("data = %v %q", ev.DataKind, ev.Data)
	}
}

func TestReadBinaryDataKinds(t *testing.T) {
	tests := []struct {
		contentType string
		body        string
		want        event.DataKind
	}{
		{"application/json", `{"a":1}`, event.DataJSON},
		{"application/vnd.x+json", `[1]`, event.DataJSON},
		{"text/plain", "hi", event.DataText},
		{"application/xml", "<a/>", event.DataText},
		{"text/plain", "\xff\xfe", event.DataBinary},
		{"application/octet-stream", "hi", event.DataBinary},
		{"", "hi", event.DataBinary},
		{"application/json", "", event.DataNone},
	}
	for _, tt := range tests {
		headers := [][2]string{{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "s"}, {"ce-type", "t"}}
		if tt.contentType != "" {
			headers = append(headers, [2]string{"content-type", tt.contentType})
		}
		var ev event.Event
		if err := ReadBinary(headers, []byte(tt.body), &ev); err != nil {
			t.Fatalf("ReadBinary(%q): %v", tt.contentType, err)
		}
		if ev.DataKind != tt.want {
			t.Errorf("content type %q body %q: kind %v, want %v", tt.contentType, tt.body, ev.DataKind, tt.want)
		}
	}
}

func TestReadBinaryInvalid(t *testing.T) {
	base := func(extra ...[2]string) [][2]string {
		h := [][2]string{{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "s"}, {"ce-type", "t"}}
		return append(h, extra...)
	}
	without := func(name string) [][2]string {
		var h [][2]string
		for _, kv := range base() {
			if kv[0] != name {
				h = append(h, kv)
			}
		}
		return h
	}
	tests := []struct {
		name    string
		headers [][2]string
		reason  Reason
		message string
	}{
		{"missing source", without("ce-source"), ErrMissingAttribute, "missing ce-source"},
		{"missing specversion", without("ce-specversion"), ErrMissingAttribute, "missing ce-specversion"},
		{"empty id", append(without("ce-id"), [2]string{"ce-id", ""}), ErrEmptyAttribute, "ce-id: empty"},
		{"empty subject", base([2]string{"ce-subject", ""}), ErrEmptyAttribute, "ce-subject: empty"},
		{"bad specversion", append(without("ce-specversion"), [2]string{"ce-specversion", "0.3"}), ErrBadSpecVersion, "ce-specversion: unsupported specversion, want 1.0"},
		{"overlong", base([2]string{"ce-subject", "%C0%A0"}), ErrBadEncoding, "ce-subject: invalid UTF-8 after percent-decoding"},
		{"invalid utf-8", base([2]string{"ce-subject", "\xff"}), ErrBadEncoding, "ce-subject: invalid UTF-8"},
		{"datacontenttype header", base([2]string{"ce-datacontenttype", "application/json"}), ErrDuplicateAttribute, ""},
		{"repeated header", base([2]string{"ce-type", "u"}), ErrDuplicateAttribute, "ce-type: given more than once"},
		{"repeated extension", base([2]string{"ce-x", "1"}, [2]string{"ce-x", "2"}), ErrDuplicateAttribute, ""},
		{"bad extension name", base([2]string{"ce-my-ext", "1"}), ErrBadAttributeName, "ce-my-ext: invalid attribute name, want [a-z0-9]+"},
		{"extension named data", base([2]string{"ce-data", "1"}), ErrBadAttributeName, ""},
		{"empty extension name", base([2]string{"ce-", "1"}), ErrBadAttributeName, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev event.Event
			err := ReadBinary(tt.headers, nil, &ev)
			if !errors.Is(err, tt.reason) {
				t.Fatalf("ReadBinary error = %v, want %s", err, tt.reason.Name())
			}
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Index != -1 {
				t.Fatalf("error %#v is not an *InvalidError outside a batch", err)
			}
			if tt.message != "" && err.Error() != tt.message {
				t.Errorf("message %q, want %q", err.Error(), tt.message)
			}
		})
	}
}

func TestReadBinaryReusesEvent(t *testing.T) {
	var ev event.Event
	first := append(transferHeaders(), [2]string{"ce-extra", "x"})
	if err := ReadBinary(first, []byte("{}"), &ev); err != nil {
		t.Fatal(err)
	}
	headers := [][2]string{{"ce-specversion", "1.0"}, {"ce-id", "2"}, {"ce-source", "s"}, {"ce-type", "t"}}
	if err := ReadBinary(headers, nil, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Subject != "" || len(ev.Extensions) != 0 || ev.Data != nil || ev.DataKind != event.DataNone || ev.DataContentType != "" {
		t.Errorf("state of the previous event survived: %+v", ev)
	}
}

func TestReadBinaryNoAllocation(t *testing.T) {
	headers := append(transferHeaders(), [2]string{"ce-time", "2026-12-04T20:00:00.5+01:00"}, [2]string{"ce-note", "100%"})
	body := []byte(`{"amount":1200}`)
	var ev event.Event
	if err := ReadBinary(headers, body, &ev); err != nil { // sizes ev.Extensions
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(1000, func() {
		if err := ReadBinary(headers, body, &ev); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("ReadBinary allocates %v times per event", allocs)
	}
}

func BenchmarkReadBinary(b *testing.B) {
	headers := transferHeaders()
	body := []byte(`{"amount":1200}`)
	var ev event.Event
	b.ReportAllocs()
	for b.Loop() {
		if err := ReadBinary(headers, body, &ev); err != nil {
			b.Fatal(err)
		}
	}
}

func TestIsTimestamp(t *testing.T) {
	valid := []string{"2018-04-05T17:31:00Z", "2018-04-05t17:31:00z", "2018-04-05T17:31:00.123456789Z",
		"2018-04-05T17:31:00+02:00", "1985-04-12T23:20:50.52-08:00", "2016-12-31T23:59:60Z"}
	invalid := []string{"", "yesterday", "2018-04-05", "2018-04-05 17:31:00Z", "2018-13-05T17:31:00Z",
		"2018-04-00T17:31:00Z", "2018-04-05T24:00:00Z", "2018-04-05T17:31:00", "2018-04-05T17:31:00.Z",
		"2018-04-05T17:31:00+0200", "2018-04-05T17:31:00+02:00x", "2018-04-05T17:31:00ZZ"}
	for _, s := range valid {
		if !isTimestamp(s) {
			t.Errorf("isTimestamp(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if isTimestamp(s) {
			t.Errorf("isTimestamp(%q) = true", s)
		}
	}
	var ev event.Event
	headers := [][2]string{{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "s"}, {"ce-type", "t"}, {"ce-time", "yesterday"}}
	if err := ReadBinary(headers, nil, &ev); !errors.Is(err, ErrBadAttributeValue) || err.Error() != "ce-time: not an RFC 3339 timestamp" {
		t.Errorf("ReadBinary with a bad time: %v", err)
	}
}
