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

// typedExtensions is a structured event in canonical form (as AppendStructured
// writes it) whose extensions have every JSON type, including a string that
// looks like a number and one that looks like a boolean.
const typedExtensions = `{"specversion":"1.0","id":"x-1","source":"s","type":"t",` +
	`"seq":42,"neg":-7,"frac":1.5,"big":12345678901,"zero":0,"sampled":true,"off":false,` +
	`"quoted":"42","truth":"true","note":"hi","data":{"a":1}}`

// TestExtensionTypesSurviveStructuredRoundTrip reads events in the JSON
// format and writes them back: each extension keeps its JSON type, byte for
// byte.
func TestExtensionTypesSurviveStructuredRoundTrip(t *testing.T) {
	var ev event.Event
	if err := ReadStructured([]byte(typedExtensions), &ev); err != nil {
		t.Fatal(err)
	}
	if got := string(AppendStructured(nil, &ev)); got != typedExtensions {
		t.Errorf("structured round trip =\n%s\nwant\n%s", got, typedExtensions)
	}

	other := `{"specversion":"1.0","id":"x-2","source":"s","type":"t","flag":true,"seq":7,"id2":"7"}`
	batch := "[" + typedExtensions + "," + other + "]"
	events, err := ReadBatch([]byte(batch), 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(AppendBatch(nil, []*event.Event{&events[0], &events[1]})); got != batch {
		t.Errorf("batch round trip =\n%s\nwant\n%s", got, batch)
	}
}

// TestExtensionTypesNonCanonicalNumbers: numbers are written in the canonical
// form they were read in (an integral number that fits 32 bits as an
// Integer), still as JSON numbers.
func TestExtensionTypesNonCanonicalNumbers(t *testing.T) {
	var ev event.Event
	body := `{"specversion":"1.0","id":"1","source":"s","type":"t","e":1e2,"f":5.0,"g":-0,"h":1.50,"i":1E400}`
	if err := ReadStructured([]byte(body), &ev); err != nil {
		t.Fatal(err)
	}
	want := `{"specversion":"1.0","id":"1","source":"s","type":"t","e":100,"f":5,"g":0,"h":1.50,"i":1E400}`
	if got := string(AppendStructured(nil, &ev)); got != want {
		t.Errorf("AppendStructured =\n%s\nwant\n%s", got, want)
	}
}

// TestExtensionKinds checks how each kind is written in both encodings. A
// kind whose Value does not fit it is written as a string, so the body stays
// valid JSON; binary mode writes every Value as it is.
func TestExtensionKinds(t *testing.T) {
	ev := &event.Event{SpecVersion: "1.0", ID: "1", Source: "s", Type: "t", Extensions: []event.Attr{
		{Name: "n", Value: "-12.5e3", Kind: event.AttrNumber},
		{Name: "b", Value: "false", Kind: event.AttrBool},
		{Name: "s", Value: "42"},
		{Name: "badn", Value: "12abc", Kind: event.AttrNumber},
		{Name: "emptyn", Value: "", Kind: event.AttrNumber},
		{Name: "badb", Value: "yes", Kind: event.AttrBool},
		{Name: "unknown", Value: "1", Kind: 99},
	}}
	got := string(AppendStructured(nil, ev))
	want := `{"specversion":"1.0","id":"1","source":"s","type":"t","n":-12.5e3,"b":false,"s":"42",` +
		`"badn":"12abc","emptyn":"","badb":"yes","unknown":"1"}`
	if got != want {
		t.Errorf("AppendStructured =\n%s\nwant\n%s", got, want)
	}
	if !json.Valid([]byte(got)) {
		t.Errorf("not valid JSON: %s", got)
	}
	headers := AppendBinaryHeaders(nil, ev)
	wantHeaders := [][2]string{{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "s"}, {"ce-type", "t"},
		{"ce-n", "-12.5e3"}, {"ce-b", "false"}, {"ce-s", "42"}, {"ce-badn", "12abc"}, {"ce-emptyn", ""},
		{"ce-badb", "yes"}, {"ce-unknown", "1"}}
	if !reflect.DeepEqual(headers, wantHeaders) {
		t.Errorf("AppendBinaryHeaders =\n%q\nwant\n%q", headers, wantHeaders)
	}
}

// TestExtensionKindsFromBinaryAreStrings: binary-mode headers carry no type,
// so a structured copy of a binary event writes every extension as a string.
func TestExtensionKindsFromBinaryAreStrings(t *testing.T) {
	headers := [][2]string{{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "s"}, {"ce-type", "t"},
		{"ce-seq", "42"}, {"ce-flag", "true"}}
	var ev event.Event
	if err := ReadBinary(headers, nil, &ev); err != nil {
		t.Fatal(err)
	}
	want := `{"specversion":"1.0","id":"1","source":"s","type":"t","seq":"42","flag":"true"}`
	if got := string(AppendStructured(nil, &ev)); got != want {
		t.Errorf("AppendStructured =\n%s\nwant\n%s", got, want)
	}
}
