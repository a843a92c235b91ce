package cloudevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/eventroute/eventroute/filters/event"
)

// Seed corpora live in testdata/fuzz/<Target>/ and run with every go test.

func FuzzDecodeHeaderValue(f *testing.F) {
	for _, s := range []string{"Euro%20%E2%82%AC%20%F0%9F%98%80", "100%", "转账", `"a \"b\""`, "%C0%A0", "%e2%82%ac", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		value, err := DecodeHeaderValue(raw)
		if err != nil {
			if !errors.Is(err, ErrBadEncoding) {
				t.Fatalf("error %v is not ErrBadEncoding", err)
			}
			return
		}
		if problem := checkString(value); problem != "" {
			t.Fatalf("accepted %q as %q: %s", raw, value, problem)
		}
		encoded := encodeHeaderValue(value)
		back, err := DecodeHeaderValue(encoded)
		if err != nil || back != value {
			t.Fatalf("round trip of %q: encoded %q, decoded %q, %v", value, encoded, back, err)
		}
	})
}

func FuzzReadBinary(f *testing.F) {
	f.Add("t-1", "Bank", "转账", "Account", "00-1-01", "application/json", []byte(`{"amount":1200}`))
	f.Add("1", "/s", "Euro%20%E2%82%AC", "", "", "text/plain", []byte("hello"))
	f.Add("1", "/s", "t", "100%", "%41", "", []byte{0, 1, 0xff})
	f.Add("", "/s", "t", "", "", "application/json", []byte(nil))
	f.Fuzz(func(t *testing.T, id, source, typ, subject, ext, contentType string, body []byte) {
		headers := [][2]string{{":method", "POST"}, {"ce-specversion", "1.0"}, {"ce-id", id}, {"ce-source", source}, {"ce-type", typ}}
		if subject != "" {
			headers = append(headers, [2]string{"ce-subject", subject})
		}
		if ext != "" {
			headers = append(headers, [2]string{"ce-ext", ext})
		}
		if contentType != "" {
			headers = append(headers, [2]string{"content-type", contentType})
		}
		var ev event.Event
		if err := ReadBinary(headers, body, &ev); err != nil {
			checkInvalidError(t, err)
			return
		}
		checkAccepted(t, &ev)
		var back event.Event
		if err := ReadBinary(AppendBinaryHeaders(nil, &ev), BinaryBody(&ev), &back); err != nil {
			t.Fatalf("binary round trip of %+v: %v", ev, err)
		}
		if !equalEvents(&back, &ev) {
			t.Fatalf("binary round trip:\n%+v\nwant\n%+v", back, ev)
		}
		checkStructuredRoundTrip(t, &ev)
	})
}

func FuzzReadStructured(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"t-1","source":"Bank","type":"转账","subject":"Account","data":{"amount":1200}}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","datacontenttype":"text/xml","data":"<a \"b\"/>","x":5,"y":true,"z":null}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"AAH/"}`))
	f.Add([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{},"data_base64":"AA=="}`))
	f.Add([]byte(`{"specversion":"1.0","id":"\u0041","source":"s","type":"t","e":1.5e3,"data":[1,"\ud83d\ude00"]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkScannerAgrees(t, body)
		var ev event.Event
		if err := ReadStructured(body, &ev); err != nil {
			checkInvalidError(t, err)
			return
		}
		checkAccepted(t, &ev)
		checkStructuredRoundTrip(t, &ev)
		var back event.Event
		if err := ReadBinary(AppendBinaryHeaders(nil, &ev), BinaryBody(&ev), &back); err != nil {
			t.Fatalf("binary encoding of %+v not readable: %v", ev, err)
		}
		if !bytes.Equal(back.Data, ev.Data) || back.ID != ev.ID || back.Type != ev.Type || len(back.Extensions) != len(ev.Extensions) {
			t.Fatalf("binary conversion:\n%+v\nwant\n%+v", back, ev)
		}
	})
}

func FuzzReadBatch(f *testing.F) {
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"Bank","type":"转账","subject":"Account","data":{"amount":1}},{"specversion":"1.0","id":"2","source":"s","type":"t"}]`), 2)
	f.Add([]byte(`[]`), 1)
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"s","type":"t","seq":7,"flag":true,"q":"7","f":-1.5e-3}]`), 0)
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"s","type":"t"},5]`), 10)
	f.Add([]byte(`[{"specversion":"1.0","id":"1","source":"s","type":"t"},{"specversion":"1.0","id":"1","source":"s","type":"t"}]`), 1)
	f.Fuzz(func(t *testing.T, body []byte, maxEvents int) {
		checkScannerAgrees(t, body)
		events, err := ReadBatch(body, maxEvents, nil)
		if err != nil {
			checkInvalidError(t, err)
			if len(events) != 0 {
				t.Fatalf("%d events returned with an error", len(events))
			}
			return
		}
		if maxEvents > 0 && len(events) > maxEvents {
			t.Fatalf("%d events accepted, limit %d", len(events), maxEvents)
		}
		ptrs := make([]*event.Event, len(events))
		for i := range events {
			checkAccepted(t, &events[i])
			ptrs[i] = &events[i]
		}
		back, err := ReadBatch(AppendBatch(nil, ptrs), 0, nil)
		if err != nil || len(back) != len(events) {
			t.Fatalf("batch round trip: %d events, %v", len(back), err)
		}
		for i := range back {
			if !equalEvents(&back[i], &events[i]) {
				t.Fatalf("batch round trip, event %d:\n%+v\nwant\n%+v", i, back[i], events[i])
			}
		}
	})
}

// checkInvalidError fails unless err is an *InvalidError with a known reason.
func checkInvalidError(t *testing.T, err error) {
	t.Helper()
	var ie *InvalidError
	if !errors.As(err, &ie) || ie.Reason < 1 || ie.Reason > lastReason {
		t.Fatalf("error %#v is not an *InvalidError with a known reason", err)
	}
	if len(ie.Error()) > 200 {
		t.Fatalf("error message of %d bytes", len(ie.Error()))
	}
}

// checkAccepted fails unless ev has its required attributes.
func checkAccepted(t *testing.T, ev *event.Event) {
	t.Helper()
	if ev.SpecVersion != "1.0" || ev.ID == "" || ev.Source == "" || ev.Type == "" {
		t.Fatalf("accepted event lacks a required attribute: %+v", ev)
	}
	for _, x := range ev.Extensions {
		if !validAttributeName(x.Name) {
			t.Fatalf("accepted extension name %q", x.Name)
		}
	}
}

// checkStructuredRoundTrip fails unless the structured encoding of ev reads
// back as ev. JSON data that is not valid JSON comes back as binary data.
func checkStructuredRoundTrip(t *testing.T, ev *event.Event) {
	t.Helper()
	body := AppendStructured(nil, ev)
	var back event.Event
	if err := ReadStructured(body, &back); err != nil {
		t.Fatalf("structured encoding %s not readable: %v", body, err)
	}
	want := *ev
	switch {
	case want.DataKind == event.DataJSON && !isJSONText(want.Data):
		want.DataKind = event.DataBinary
	case want.DataKind == event.DataJSON:
		want.Data = bytes.Trim(want.Data, " \t\r\n")
	}
	if !equalEvents(&back, &want) {
		t.Fatalf("structured round trip via %s:\n%+v\nwant\n%+v", body, back, want)
	}
}

// checkScannerAgrees fails unless the JSON scanner judges body as
// encoding/json does (which does not check UTF-8 nor bound nesting).
func checkScannerAgrees(t *testing.T, body []byte) {
	t.Helper()
	values, problem := scanJSON(body, 2, nil)
	if problem == problemNesting {
		return
	}
	if valid := json.Valid(body); valid != (problem == "") {
		t.Fatalf("scanJSON says %q, encoding/json says valid=%v, for %q", problem, valid, body)
	}
	if problem != "" {
		return
	}
	for _, v := range values {
		if v.end <= v.start || !json.Valid(body[v.start:v.end]) {
			t.Fatalf("value span [%d:%d] of %q is not a JSON value", v.start, v.end, body)
		}
		if v.keyEnd > 0 && !json.Valid(body[v.keyStart:v.keyEnd]) {
			t.Fatalf("key span [%d:%d] of %q is not a JSON string", v.keyStart, v.keyEnd, body)
		}
	}
}
