package cloudevent

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	cebinding "github.com/cloudevents/sdk-go/v2/binding"
	ceevent "github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	cetypes "github.com/cloudevents/sdk-go/v2/types"

	"github.com/eventroute/eventroute/filters/event"
)

// sdkEvents are events built with sdk-go, covering every attribute, the
// extension types and the three kinds of data.
func sdkEvents(t *testing.T) []ceevent.Event {
	t.Helper()
	transfer := ceevent.New()
	transfer.SetID("t-1")
	transfer.SetSource("Bank")
	transfer.SetType("转账")
	transfer.SetSubject("Account")
	mustSetData(t, &transfer, ceevent.ApplicationJSON, map[string]any{"amount": 1200, "to": "Account"})

	full := ceevent.New()
	full.SetID("A234-1234-1234")
	full.SetSource("https://example.com/bank?branch=1")
	full.SetType("com.example.someevent")
	full.SetSubject("100% sure, with spaces")
	full.SetTime(time.Date(2018, 4, 5, 17, 31, 0, 0, time.UTC))
	full.SetDataSchema("https://example.com/schema.json")
	full.SetExtension("comexampleothervalue", 5)
	full.SetExtension("flag", true)
	full.SetExtension("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	mustSetData(t, &full, "text/plain", "hello, 世界")

	blob := ceevent.New()
	blob.SetID("b-1")
	blob.SetSource("/blobs")
	blob.SetType("com.example.blob")
	mustSetData(t, &blob, "application/octet-stream", []byte{0, 1, 2, 0xfe, 0xff})

	bare := ceevent.New()
	bare.SetID("n-1")
	bare.SetSource("/none")
	bare.SetType("com.example.nodata")

	return []ceevent.Event{transfer, full, blob, bare}
}

func mustSetData(t *testing.T, e *ceevent.Event, contentType string, data any) {
	t.Helper()
	if err := e.SetData(contentType, data); err != nil {
		t.Fatalf("SetData: %v", err)
	}
}

// sdkRequest has sdk-go write e into an HTTP request in binary or structured
// mode, and returns the request as Envoy would show it to the filter.
func sdkRequest(t *testing.T, e ceevent.Event, structured bool) ([][2]string, []byte) {
	t.Helper()
	ctx := cebinding.WithForceBinary(context.Background())
	if structured {
		ctx = cebinding.WithForceStructured(context.Background())
	}
	req := httptest.NewRequest(http.MethodPost, "http://bank.example/events", nil)
	if err := cehttp.WriteRequest(ctx, cebinding.ToMessage(&e), req); err != nil {
		t.Fatalf("WriteRequest: %v", err)
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			t.Fatal(err)
		}
	}
	return envoyHeaders(req), body
}

// envoyHeaders lists a request's headers as Envoy gives them: pseudo-headers
// first, lower-case names, one pair per value.
func envoyHeaders(req *http.Request) [][2]string {
	headers := [][2]string{{":method", req.Method}, {":path", req.URL.RequestURI()}, {":authority", req.Host}}
	names := make([]string, 0, len(req.Header))
	for name := range req.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range req.Header[name] {
			headers = append(headers, [2]string{strings.ToLower(name), v})
		}
	}
	return headers
}

// sdkAttributes lists every attribute of an sdk-go event in canonical string form.
func sdkAttributes(t *testing.T, e *ceevent.Event) map[string]string {
	t.Helper()
	m := map[string]string{"specversion": e.SpecVersion(), "id": e.ID(), "source": e.Source(), "type": e.Type()}
	optional := map[string]string{"subject": e.Subject(), "datacontenttype": e.DataContentType(), "dataschema": e.DataSchema()}
	if !e.Time().IsZero() {
		optional["time"] = e.Time().Format(time.RFC3339Nano)
	}
	for name, v := range optional {
		if v != "" {
			m[name] = v
		}
	}
	for name, v := range e.Extensions() {
		s, err := cetypes.Format(v)
		if err != nil {
			t.Fatalf("extension %s: %v", name, err)
		}
		m[name] = s
	}
	return m
}

// ourAttributes lists every present attribute of ev.
func ourAttributes(ev *event.Event) map[string]string {
	m := map[string]string{}
	for _, name := range []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"} {
		if v, ok := ev.Attribute(name); ok {
			m[name] = v
		}
	}
	for _, x := range ev.Extensions {
		m[x.Name] = x.Value
	}
	return m
}

// checkSame fails unless ev carries the same attributes and data as e.
func checkSame(t *testing.T, what string, ev *event.Event, e *ceevent.Event) {
	t.Helper()
	got, want := ourAttributes(ev), sdkAttributes(t, e)
	if !equalMaps(got, want) {
		t.Errorf("%s: attributes\n%v\nwant (sdk-go)\n%v", what, got, want)
	}
	if !bytes.Equal(ev.Data, e.Data()) {
		t.Errorf("%s: data %q, want (sdk-go) %q", what, ev.Data, e.Data())
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestInteropReadSDKBinary(t *testing.T) {
	for _, e := range sdkEvents(t) {
		headers, body := sdkRequest(t, e, false)
		if mode := DetectMode(headers); mode != event.ModeBinary {
			t.Fatalf("%s: mode %v", e.ID(), mode)
		}
		var ev event.Event
		if err := ReadBinary(headers, body, &ev); err != nil {
			t.Fatalf("%s: ReadBinary: %v (headers %q)", e.ID(), err, headers)
		}
		checkSame(t, "binary "+e.ID(), &ev, &e)
	}
}

func TestInteropReadSDKStructured(t *testing.T) {
	for _, e := range sdkEvents(t) {
		headers, body := sdkRequest(t, e, true)
		if mode := DetectMode(headers); mode != event.ModeStructured {
			t.Fatalf("%s: mode %v", e.ID(), mode)
		}
		var ev event.Event
		if err := ReadStructured(body, &ev); err != nil {
			t.Fatalf("%s: ReadStructured: %v (body %s)", e.ID(), err, body)
		}
		checkSame(t, "structured "+e.ID(), &ev, &e)
	}
}

// readSDKBatch reads, with ReadBatch, sdk-go's JSON encoding of sdkEvents as
// a batch.
func readSDKBatch(t *testing.T) (sent []ceevent.Event, read []event.Event) {
	t.Helper()
	sent = sdkEvents(t)
	body, err := json.Marshal(sent)
	if err != nil {
		t.Fatal(err)
	}
	read, err = ReadBatch(body, 10, nil)
	if err != nil {
		t.Fatalf("ReadBatch: %v (body %s)", err, body)
	}
	return sent, read
}

func TestInteropReadSDKBatch(t *testing.T) {
	sent, events := readSDKBatch(t)
	if len(events) != len(sent) {
		t.Fatalf("%d events, want %d", len(events), len(sent))
	}
	for i := range sent {
		checkSame(t, "batch "+sent[i].ID(), &events[i], &sent[i])
	}
}

// sdkRead has sdk-go read a request we encoded.
func sdkRead(t *testing.T, headers [][2]string, body []byte) *ceevent.Event {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://subscriber/", bytes.NewReader(body))
	for _, h := range headers {
		req.Header.Add(h[0], h[1])
	}
	e, err := cebinding.ToEvent(context.Background(), cehttp.NewMessageFromHttpRequest(req))
	if err != nil {
		t.Fatalf("sdk-go ToEvent: %v (headers %q, body %s)", err, headers, body)
	}
	return e
}

func TestInteropSDKReadsStructured(t *testing.T) {
	for _, e := range sdkEvents(t) {
		_, body := sdkRequest(t, e, true)
		var ev event.Event
		if err := ReadStructured(body, &ev); err != nil {
			t.Fatal(err)
		}
		out := AppendStructured(nil, &ev)
		back := sdkRead(t, [][2]string{{"content-type", MediaTypeStructured}}, out)
		checkSame(t, "re-encoded structured "+e.ID(), &ev, back)
		checkSame(t, "sdk-go original "+e.ID(), &ev, &e)
	}
}

func TestInteropSDKReadsBatch(t *testing.T) {
	sent, events := readSDKBatch(t)
	ptrs := make([]*event.Event, len(events))
	for i := range events {
		ptrs[i] = &events[i]
	}
	out := AppendBatch(nil, ptrs)
	req := httptest.NewRequest(http.MethodPost, "http://subscriber/", bytes.NewReader(out))
	req.Header.Set("Content-Type", MediaTypeBatch)
	msg := cehttp.NewMessageFromHttpRequest(req)
	back, err := cebinding.ToEvents(context.Background(), msg, msg.BodyReader)
	if err != nil {
		t.Fatalf("sdk-go ToEvents: %v (body %s)", err, out)
	}
	if len(back) != len(sent) {
		t.Fatalf("sdk-go read %d events, want %d", len(back), len(sent))
	}
	for i := range back {
		checkSame(t, "re-encoded batch "+sent[i].ID(), &events[i], &back[i])
	}
}

// TestInteropSDKReadsBinary has sdk-go read our binary-mode encoding of events
// that arrived in every mode. sdk-go does not percent-decode header values
// (see the package doc), so its values are compared after the binding's
// decoding, done here with net/url; values that need no encoding match as
// they are.
func TestInteropSDKReadsBinary(t *testing.T) {
	for _, structured := range []bool{false, true} {
		for _, e := range sdkEvents(t) {
			headers, body := sdkRequest(t, e, structured)
			var ev event.Event
			var err error
			if structured {
				err = ReadStructured(body, &ev)
			} else {
				err = ReadBinary(headers, body, &ev)
			}
			if err != nil {
				t.Fatal(err)
			}
			back := sdkRead(t, AppendBinaryHeaders(nil, &ev), BinaryBody(&ev))
			got := sdkAttributes(t, back)
			for name, v := range got {
				decoded, err := url.PathUnescape(v)
				if err != nil {
					t.Fatalf("%s: sdk-go sees %s=%q, not percent-decodable: %v", e.ID(), name, v, err)
				}
				got[name] = decoded
			}
			want := sdkAttributes(t, &e)
			if !equalMaps(got, want) {
				t.Errorf("%s (structured %v): sdk-go reads\n%v\nwant\n%v", e.ID(), structured, got, want)
			}
			if !bytes.Equal(back.Data(), e.Data()) {
				t.Errorf("%s: sdk-go reads data %q, want %q", e.ID(), back.Data(), e.Data())
			}
		}
	}
}

// TestInteropSDKReadsExtensionTypes has sdk-go read our structured and batched
// encodings of events read in the JSON format: a number extension reaches it
// as a number (int32, the CloudEvents Integer) and a boolean as a bool, as the
// publisher sent them; a string that looks like a number stays a string.
func TestInteropSDKReadsExtensionTypes(t *testing.T) {
	const body = `{"specversion":"1.0","id":"x-1","source":"s","type":"t",` +
		`"seq":42,"neg":-7,"sampled":true,"off":false,"quoted":"42","truth":"true"}`
	want := map[string]any{"seq": int32(42), "neg": int32(-7), "sampled": true, "off": false,
		"quoted": "42", "truth": "true"}
	check := func(what string, got map[string]any, want map[string]any) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: sdk-go sees extensions %#v, want %#v", what, got, want)
		}
		for name, w := range want {
			if g := got[name]; g != w {
				t.Errorf("%s: sdk-go sees %s = %#v (%T), want %#v (%T)", what, name, g, g, w, w)
			}
		}
	}

	var ev event.Event
	if err := ReadStructured([]byte(body), &ev); err != nil {
		t.Fatal(err)
	}
	back := sdkRead(t, [][2]string{{"content-type", MediaTypeStructured}}, AppendStructured(nil, &ev))
	check("structured", back.Extensions(), want)

	events, err := ReadBatch([]byte("["+body+","+body+"]"), 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := AppendBatch(nil, []*event.Event{&events[0], &events[1]})
	req := httptest.NewRequest(http.MethodPost, "http://subscriber/", bytes.NewReader(out))
	req.Header.Set("Content-Type", MediaTypeBatch)
	msg := cehttp.NewMessageFromHttpRequest(req)
	batch, err := cebinding.ToEvents(context.Background(), msg, msg.BodyReader)
	if err != nil || len(batch) != 2 {
		t.Fatalf("sdk-go ToEvents: %d events, %v (body %s)", len(batch), err, out)
	}
	for i := range batch {
		check("batch", batch[i].Extensions(), want)
	}

	// An event sdk-go itself wrote (SetExtension with an int and a bool)
	// comes back to it with the same types after our re-encoding.
	for _, e := range sdkEvents(t) {
		_, body := sdkRequest(t, e, true)
		if err := ReadStructured(body, &ev); err != nil {
			t.Fatal(err)
		}
		back := sdkRead(t, [][2]string{{"content-type", MediaTypeStructured}}, AppendStructured(nil, &ev))
		check("sdk-go event "+e.ID(), back.Extensions(), e.Extensions())
	}
}
