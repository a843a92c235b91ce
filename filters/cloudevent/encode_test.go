package cloudevent

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/eventroute/eventroute/filters/event"
)

func transferEvent() *event.Event {
	return &event.Event{SpecVersion: "1.0", ID: "t-1", Source: "Bank", Type: "转账", Subject: "Account",
		Time: "2026-12-04T20:00:00Z", Extensions: []event.Attr{{Name: "traceparent", Value: "00-4bf9-01"}, {Name: "note", Value: `100% "sure"`}},
		Data: []byte(`{"amount":1200}`), DataKind: event.DataJSON}
}

func TestAppendStructured(t *testing.T) {
	tests := []struct {
		name string
		ev   *event.Event
		want string
	}{
		{"transfer", transferEvent(),
			`{"specversion":"1.0","id":"t-1","source":"Bank","type":"转账","subject":"Account","time":"2026-12-04T20:00:00Z",` +
				`"traceparent":"00-4bf9-01","note":"100% \"sure\"","data":{"amount":1200}}`},
		{"JSON string data stays quoted",
			&event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", DataContentType: "application/json", Data: []byte(`"hi"`), DataKind: event.DataJSON},
			`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/json","data":"hi"}`},
		{"text data as a string",
			&event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", DataContentType: "text/plain", Data: []byte("line\n\"q\"\x01"), DataKind: event.DataText},
			`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/plain","data":"line\n\"q\"\u0001"}`},
		{"binary data as data_base64",
			&event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", DataContentType: "application/octet-stream", Data: []byte{0, 1, 0xff}, DataKind: event.DataBinary},
			`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/octet-stream","data_base64":"AAH/"}`},
		{"invalid JSON data as data_base64",
			&event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", DataContentType: "application/json", Data: []byte(`{"a":`), DataKind: event.DataJSON},
			`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"application/json","data_base64":"eyJhIjo="}`},
		{"no data",
			&event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t"},
			`{"specversion":"1.0","id":"1","source":"s","type":"t"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendStructured(nil, tt.ev)
			if string(got) != tt.want {
				t.Errorf("AppendStructured =\n%s\nwant\n%s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("not valid JSON: %s", got)
			}
		})
	}
}

func TestAppendBatch(t *testing.T) {
	a := &event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t"}
	b := transferEvent()
	body := AppendBatch(nil, []*event.Event{a, b})
	events, err := ReadBatch(body, 0, nil)
	if err != nil {
		t.Fatalf("ReadBatch(%s): %v", body, err)
	}
	if len(events) != 2 || !equalEvents(&events[0], a) || !equalEvents(&events[1], b) {
		t.Errorf("batch round trip = %+v", events)
	}
	if got := string(AppendBatch(nil, nil)); got != "[]" {
		t.Errorf("empty batch = %s", got)
	}
}

func TestAppendBinaryHeaders(t *testing.T) {
	ev := transferEvent()
	got := AppendBinaryHeaders([][2]string{{":method", "POST"}}, ev)
	want := [][2]string{
		{":method", "POST"},
		{"ce-specversion", "1.0"},
		{"ce-id", "t-1"},
		{"ce-source", "Bank"},
		{"ce-type", "%E8%BD%AC%E8%B4%A6"},
		{"ce-subject", "Account"},
		{"ce-time", "2026-12-04T20:00:00Z"},
		{"ce-traceparent", "00-4bf9-01"},
		{"ce-note", "100%25%20%22sure%22"},
		{"content-type", "application/json"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AppendBinaryHeaders =\n%q\nwant\n%q", got, want)
	}
	if string(BinaryBody(ev)) != `{"amount":1200}` {
		t.Errorf("BinaryBody = %q", BinaryBody(ev))
	}
	if BinaryBody(&event.Event{}) != nil {
		t.Error("BinaryBody of an event without data is not nil")
	}
}

// TestRoundTrips converts events between the modes and back.
func TestRoundTrips(t *testing.T) {
	events := []*event.Event{
		transferEvent(),
		{SpecVersion: "1.0", ID: "Euro € 😀", Source: "/a b", Type: "t", DataContentType: "text/plain; charset=utf-8",
			Data: []byte("hello\nworld"), DataKind: event.DataText},
		{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", DataContentType: "image/png",
			Data: []byte{0x89, 'P', 'N', 'G', 0}, DataKind: event.DataBinary},
		{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", DataSchema: "https://x/s.json", Subject: "%41"},
	}
	for _, ev := range events {
		var back event.Event
		if err := ReadStructured(AppendStructured(nil, ev), &back); err != nil {
			t.Fatalf("structured round trip of %+v: %v", ev, err)
		}
		if !equalEvents(&back, ev) {
			t.Errorf("structured round trip:\n%+v\nwant\n%+v", back, ev)
		}
		if err := ReadBinary(AppendBinaryHeaders(nil, ev), BinaryBody(ev), &back); err != nil {
			t.Fatalf("binary round trip of %+v: %v", ev, err)
		}
		want := *ev
		if want.DataContentType == "" && want.DataKind == event.DataJSON {
			want.DataContentType = "application/json"
		}
		if !equalEvents(&back, &want) {
			t.Errorf("binary round trip:\n%+v\nwant\n%+v", back, want)
		}
	}
}
