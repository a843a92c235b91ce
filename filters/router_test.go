package filters_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventroute/eventroute/filters"
	"github.com/eventroute/eventroute/filters/cloudevent"
	"github.com/eventroute/eventroute/filters/event"
)

func TestCompileDefaults(t *testing.T) {
	r := mustCompile(t, []byte(`{"subscribers":{"zeta":{"cluster":"z"},"alpha":{"cluster":"a","path":"/in"}},
		"routes":[{"name":"r","match":[],"to":"zeta"}]}`))
	cfg := r.Config()
	if len(cfg.Subscribers) != 2 || cfg.Subscribers[0].Name != "alpha" || cfg.Subscribers[1].Name != "zeta" {
		t.Fatalf("subscribers not sorted by name: %+v", cfg.Subscribers)
	}
	if cfg.Routes[0].Subscriber != 1 {
		t.Errorf("route subscriber = %d, want 1 (zeta)", cfg.Routes[0].Subscriber)
	}
	z := cfg.Subscribers[1]
	want := filters.Subscriber{Name: "zeta", Cluster: "z", Authority: "zeta", Path: "/", Timeout: 5 * time.Second,
		Format: filters.FormatOriginal, DeadLetter: -1,
		Retry: filters.Retry{Attempts: 1, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 5 * time.Second}}
	if z.Name != want.Name || z.Cluster != want.Cluster || z.Authority != want.Authority || z.Path != want.Path ||
		z.PathSet || z.Timeout != want.Timeout || z.Format != want.Format || z.DeadLetter != -1 || z.Retry != want.Retry {
		t.Errorf("defaults = %+v, want %+v", z, want)
	}
	if a := cfg.Subscribers[0]; a.Path != "/in" || !a.PathSet {
		t.Errorf("alpha path = %q set %v, want /in set", a.Path, a.PathSet)
	}
	wantLimits := filters.Limits{MaxBodyBytes: 1 << 20, MaxBatchEvents: 1000, MaxPendingDeliveries: 1024,
		MaxPendingBytes: 16 << 20, MaxHops: 1, HoldTimeout: time.Second}
	if cfg.Limits != wantLimits {
		t.Errorf("limits = %+v, want %+v", cfg.Limits, wantLimits)
	}
	if cfg.RouteHeader != "x-eventroute-subscriber" || cfg.OnInvalid != filters.OnInvalidReject || cfg.HoldHeaders ||
		cfg.Broker.Enabled || cfg.Broker.Ack != filters.AckAccepted {
		t.Errorf("top-level defaults wrong: %+v", cfg)
	}
	if !cfg.Recognize.Binary || !cfg.Recognize.Structured || !cfg.Recognize.Batch {
		t.Errorf("CloudEvents modes not enabled by default: %+v", cfg.Recognize)
	}
}

func TestCompileSettings(t *testing.T) {
	r := mustCompile(t, []byte(`{"subscribers":{"a":{"cluster":"a","format":"structured","timeout":"250ms",
		"retry":{"attempts":4,"initialBackoff":"10ms","maxBackoff":"1s"},"deadLetter":"d"},"d":{"cluster":"d","format":"binary"}},
		"mirrors":[{"name":"m","match":[],"to":["d","a"],"percent":12.5}],
		"onInvalid":"pass","holdHeaders":true,"routeHeader":"x-sub","broker":{"enabled":true,"ack":"delivered"},
		"limits":{"maxBodyBytes":10,"maxBatchEvents":2,"maxPendingDeliveries":3,"maxPendingBytes":4,"maxHops":5,"holdTimeout":"3s"}}`))
	cfg := r.Config()
	a := cfg.Subscribers[0]
	if a.Format != filters.FormatStructured || a.Timeout != 250*time.Millisecond || a.DeadLetter != 1 ||
		a.Retry != (filters.Retry{Attempts: 4, InitialBackoff: 10 * time.Millisecond, MaxBackoff: time.Second}) {
		t.Errorf("subscriber a = %+v", a)
	}
	if cfg.Subscribers[1].Format != filters.FormatBinary {
		t.Errorf("subscriber d format = %v", cfg.Subscribers[1].Format)
	}
	if m := cfg.Mirrors[0]; m.Percent != 12.5 || len(m.Subscribers) != 2 || m.Subscribers[0] != 1 || m.Subscribers[1] != 0 {
		t.Errorf("mirror = %+v, want percent 12.5 to [d a] = [1 0]", m)
	}
	if cfg.OnInvalid != filters.OnInvalidPass || !cfg.HoldHeaders || cfg.RouteHeader != "x-sub" ||
		!cfg.Broker.Enabled || cfg.Broker.Ack != filters.AckDelivered {
		t.Errorf("settings = %+v", cfg)
	}
	if cfg.Limits != (filters.Limits{MaxBodyBytes: 10, MaxBatchEvents: 2, MaxPendingDeliveries: 3, MaxPendingBytes: 4,
		MaxHops: 5, HoldTimeout: 3 * time.Second}) {
		t.Errorf("limits = %+v", cfg.Limits)
	}
}

func TestRecognizeToggles(t *testing.T) {
	base := `{"subscribers":{"s":{"cluster":"s"}},"routes":[{"name":"r","match":[],"to":"s"}]`
	for _, tc := range []struct {
		name                      string
		recognize                 string
		binary, structured, batch bool
	}{
		{"absent", ``, true, true, true},
		{"json only keeps CloudEvents on", `,"recognize":{"json":[]}`, true, true, true},
		{"empty cloudevents keeps defaults", `,"recognize":{"cloudevents":{}}`, true, true, true},
		{"binary off", `,"recognize":{"cloudevents":{"binary":false}}`, false, true, true},
		{"all off", `,"recognize":{"cloudevents":{"binary":false,"structured":false,"batch":false}}`, false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustCompile(t, []byte(base+tc.recognize+`}`))
			rec := r.Config().Recognize
			if rec.Binary != tc.binary || rec.Structured != tc.structured || rec.Batch != tc.batch {
				t.Errorf("recognize = %+v", rec)
			}
			modes := map[event.Mode][][2]string{
				event.ModeBinary:     binaryHeaders("t"),
				event.ModeStructured: {{":path", "/"}, {"content-type", "application/cloudevents+json"}},
				event.ModeBatch:      {{":path", "/"}, {"content-type", "application/cloudevents-batch+json"}},
			}
			for mode, on := range map[event.Mode]bool{event.ModeBinary: tc.binary, event.ModeStructured: tc.structured, event.ModeBatch: tc.batch} {
				got := r.Classify(modes[mode]).Mode
				if on && got != mode || !on && got != event.ModeNone {
					t.Errorf("%s request classified %s (enabled %v)", mode, got, on)
				}
			}
		})
	}
}

const profileConfig = `{"subscribers":{"s":{"cluster":"s"}},"routes":[{"name":"orders","match":[{"exact":{"type":"order.created"}}],"to":"s"}],
	"recognize":{"cloudevents":{"binary":false},"json":[
	{"name":"orders","contentTypes":["application/json"],"pathPrefix":"/orders",
	 "attributes":{"id":"eventId","type":"eventType","source":"origin","subject":"order.id","tenant":"tenant","time":"at"}},
	{"name":"hooks","contentTypes":["application/json","text/json"],"pathPrefix":"/hooks",
	 "attributes":{"id":{"header":"x-hook-id"},"type":{"header":"x-hook-event"}}},
	{"name":"any-path","contentTypes":["application/vnd.shop+json"],
	 "attributes":{"id":"id","type":"kind"}}]}}`

func TestClassifyJSONProfiles(t *testing.T) {
	r := mustCompile(t, []byte(profileConfig))
	for _, tc := range []struct {
		name, contentType, path string
		mode                    event.Mode
		profile                 int
		needsBody               bool
	}{
		{"first profile", "application/json", "/orders", event.ModeJSON, 0, true},
		{"media type case and parameters ignored", "Application/JSON; charset=UTF-8", "/orders/7", event.ModeJSON, 0, true},
		{"query is not part of the path", "application/json", "/x?next=/orders", event.ModeNone, -1, false},
		{"query after the prefix", "application/json", "/orders?id=1", event.ModeJSON, 0, true},
		{"second profile, header attributes only", "text/json", "/hooks/github", event.ModeJSON, 1, false},
		{"no path prefix fits every path", "application/vnd.shop+json", "/anything", event.ModeJSON, 2, true},
		{"content type does not fit", "text/plain", "/orders", event.ModeNone, -1, false},
		{"binary CloudEvents disabled falls through to profiles", "application/json", "/elsewhere", event.ModeNone, -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := [][2]string{{":method", "POST"}, {":path", tc.path}, {"content-type", tc.contentType}, {"ce-specversion", "1.0"}}
			c := r.Classify(h)
			if c.Mode != tc.mode || c.Profile != tc.profile || c.NeedsBody != tc.needsBody {
				t.Errorf("Classify = %+v, want mode %s profile %d needsBody %v", c, tc.mode, tc.profile, tc.needsBody)
			}
			if c.RouteNeedsBody != tc.needsBody {
				t.Errorf("RouteNeedsBody = %v, want %v", c.RouteNeedsBody, tc.needsBody)
			}
		})
	}
}

func TestRecognizeJSONProfile(t *testing.T) {
	r := mustCompile(t, []byte(profileConfig))
	h := [][2]string{{":method", "POST"}, {":path", "/orders"}, {"content-type", "application/json"}}
	c := r.Classify(h)
	var b filters.Batch
	body := []byte(`{"eventId":"e-1","eventType":"order.created","origin":"/shop","order":{"id":42},"tenant":"acme","at":true}`)
	if err := r.Recognize(c, h, body, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 {
		t.Fatalf("got %d events, want 1", len(b.Events))
	}
	ev := &b.Events[0]
	got := attributesOf(ev)
	want := map[string]string{"specversion": "1.0", "id": "e-1", "type": "order.created", "source": "/shop",
		"subject": "42", "tenant": "acme", "time": "true"}
	if len(got) != len(want) {
		t.Errorf("attributes = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
	if ev.DataKind != event.DataJSON || string(ev.Data) != string(body) {
		t.Errorf("data = %s (%d), want the whole body as JSON", ev.Data, ev.DataKind)
	}
	if route := r.Route(ev); route != 0 {
		t.Errorf("route = %d, want 0", route)
	}

	for name, body := range map[string]string{
		"missing type":     `{"eventId":"e-1"}`,
		"missing id":       `{"eventType":"order.created"}`,
		"empty id":         `{"eventId":"","eventType":"order.created"}`,
		"object id":        `{"eventId":{"a":1},"eventType":"order.created"}`,
		"control char id":  `{"eventId":"a\u0001","eventType":"order.created"}`,
		"not JSON":         `eventId=e-1&eventType=order.created`,
		"truncated JSON":   `{"eventId":"e-1","eventType":"order.created"`,
		"empty body":       ``,
		"array, not event": `[{"eventId":"e-1","eventType":"order.created"}]`,
	} {
		if err := r.Recognize(c, h, []byte(body), &b); err != nil {
			t.Errorf("%s: error %v, want none", name, err)
		}
		if len(b.Events) != 0 {
			t.Errorf("%s: recognized %d events, want none", name, len(b.Events))
		}
	}
}

func TestRecognizeJSONProfileHeaders(t *testing.T) {
	r := mustCompile(t, []byte(profileConfig))
	h := [][2]string{{":method", "POST"}, {":path", "/hooks/x"}, {"content-type", "application/json"},
		{"x-hook-id", "h-9"}, {"x-hook-event", "push"}}
	c := r.Classify(h)
	if c.Mode != event.ModeJSON || c.Profile != 1 || c.NeedsBody {
		t.Fatalf("Classify = %+v, want profile 1 without body", c)
	}
	var b filters.Batch
	if err := r.Recognize(c, h, nil, &b); err != nil {
		t.Fatal(err)
	}
	if len(b.Events) != 1 || b.Events[0].ID != "h-9" || b.Events[0].Type != "push" || b.Events[0].DataKind != event.DataNone {
		t.Fatalf("events = %+v", b.Events)
	}
	if err := r.Recognize(c, h, []byte(`{"x":1}`), &b); err != nil || len(b.Events) != 1 ||
		b.Events[0].DataKind != event.DataJSON || string(b.Events[0].Data) != `{"x":1}` {
		t.Fatalf("with a JSON body: events = %+v, err %v", b.Events, err)
	}
	if err := r.Recognize(c, h[:4], nil, &b); err != nil || len(b.Events) != 0 {
		t.Errorf("without x-hook-event: events = %+v, err %v; want none", b.Events, err)
	}
}

func TestClassifyNeedsBody(t *testing.T) {
	const subs = `"subscribers":{"s":{"cluster":"s"}}`
	exactRoute := `"routes":[{"name":"r","match":[{"exact":{"type":"t"}}],"to":"s"}]`
	dataRoute := `"routes":[{"name":"r","match":[{"data":{"path":"a","exists":true}}],"to":"s"}]`
	mirror := `"mirrors":[{"name":"m","match":[{"exact":{"type":"t"}}],"to":["s"]}]`
	for _, tc := range []struct {
		name                         string
		config                       string
		binNeeds, binRoute, strRoute bool
	}{
		{"exact routes only", exactRoute, false, false, true},
		{"data route", dataRoute, true, true, true},
		{"mirror sends data", exactRoute + "," + mirror, true, false, true},
		{"mirrors only: no route depends on the body", mirror, true, false, false},
		{"broker delivers data", exactRoute + `,"broker":{"enabled":true}`, true, false, true},
		{"data publisher rule", exactRoute + `,"publishers":[{"match":[{"data":{"path":"a","exists":true}}],"principals":["p"]}]`, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := mustCompile(t, []byte("{"+subs+","+tc.config+"}"))
			c := r.Classify(binaryHeaders("t"))
			if c.Mode != event.ModeBinary || c.NeedsBody != tc.binNeeds || c.RouteNeedsBody != tc.binRoute {
				t.Errorf("binary: %+v, want NeedsBody %v RouteNeedsBody %v", c, tc.binNeeds, tc.binRoute)
			}
			for _, ct := range []string{"application/cloudevents+json", "application/cloudevents-batch+json"} {
				c := r.Classify([][2]string{{":path", "/"}, {"content-type", ct}})
				if !c.NeedsBody || c.RouteNeedsBody != tc.strRoute {
					t.Errorf("%s: %+v, want NeedsBody RouteNeedsBody %v", ct, c, tc.strRoute)
				}
			}
		})
	}
}

func TestRecognizeModes(t *testing.T) {
	r := mustCompile(t, exactTypeRoutes(3))
	var b filters.Batch
	h := binaryHeaders("com.bank.type1")
	if err := r.Recognize(r.Classify(h), h, nil, &b); err != nil || len(b.Events) != 1 || r.Route(&b.Events[0]) != 1 {
		t.Fatalf("binary: events %+v err %v", b.Events, err)
	}
	sh := [][2]string{{":path", "/"}, {"content-type", "application/cloudevents+json"}}
	if err := r.Recognize(r.Classify(sh), sh, structuredEvent("com.bank.type2", 200), &b); err != nil ||
		len(b.Events) != 1 || r.Route(&b.Events[0]) != 2 {
		t.Fatalf("structured: events %+v err %v", b.Events, err)
	}
	bh := [][2]string{{":path", "/"}, {"content-type", "application/cloudevents-batch+json"}}
	batch := `[` + string(structuredEvent("com.bank.type0", 0)) + `,` + string(structuredEvent("com.bank.type2", 0)) + `]`
	if err := r.Recognize(r.Classify(bh), bh, []byte(batch), &b); err != nil || len(b.Events) != 2 ||
		r.Route(&b.Events[0]) != 0 || r.Route(&b.Events[1]) != 2 {
		t.Fatalf("batch: events %+v err %v", b.Events, err)
	}
	// An invalid event is a *cloudevent.InvalidError.
	bad := `{"specversion":"1.0","id":"1","type":"t"}`
	err := r.Recognize(r.Classify(sh), sh, []byte(bad), &b)
	var inv *cloudevent.InvalidError
	if !errors.As(err, &inv) || !errors.Is(err, cloudevent.ErrMissingAttribute) {
		t.Fatalf("missing source: err %v, want a cloudevent.InvalidError ErrMissingAttribute", err)
	}
	// A batch over the limit.
	small := mustCompile(t, []byte(`{"subscribers":{"s":{"cluster":"s"}},"mirrors":[{"name":"m","match":[],"to":["s"]}],"limits":{"maxBatchEvents":1}}`))
	if err := small.Recognize(small.Classify(bh), bh, []byte(batch), &b); !errors.Is(err, cloudevent.ErrBatchTooLarge) {
		t.Fatalf("batch of 2 with maxBatchEvents 1: err %v, want ErrBatchTooLarge", err)
	}
	// Not an event.
	nh := [][2]string{{":path", "/"}, {"content-type", "text/plain"}}
	if c := r.Classify(nh); c.Mode != event.ModeNone {
		t.Fatalf("plain request classified %+v", c)
	} else if err := r.Recognize(c, nh, []byte("hi"), &b); err != nil || len(b.Events) != 0 {
		t.Fatalf("plain request: events %+v err %v", b.Events, err)
	}
}

// TestConfigErrorsDoNotEchoSecrets: errors name the place, never the payload.
func TestConfigErrorsDoNotEchoSecrets(t *testing.T) {
	secret := "s3cr3t-" + strings.Repeat("k", 100)
	for name, cfg := range map[string]string{
		"unknown field value": `{"subscribers":{"a":{"cluster":"a","token":"` + secret + `"}},"routes":[]}`,
		"wrong type value":    `{"subscribers":{"a":{"cluster":"a","authority":["` + secret + `"]}},"routes":[]}`,
		"bad JSON after it":   `{"subscribers":{"a":{"cluster":"` + secret + `"}},` + "\x00",
		"bad duration":        `{"subscribers":{"a":{"cluster":"a","timeout":"` + secret + `"}},"routes":[]}`,
		"bad header name":     `{"subscribers":{"a":{"cluster":"a"}},"routes":[{"name":"r","match":[],"to":"a"}],"routeHeader":"` + secret + ` x"}`,
	} {
		_, err := filters.Compile([]byte(cfg))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if strings.Contains(err.Error(), strings.Repeat("k", 50)) {
			t.Errorf("%s: error echoes the value: %q", name, err)
		}
		if len(err.Error()) > 200 {
			t.Errorf("%s: error is %d bytes long: %q", name, len(err.Error()), err)
		}
	}
}

// TestRouterConcurrentUse runs matching from several goroutines (run with -race).
func TestRouterConcurrentUse(t *testing.T) {
	r := mustCompile(t, exactTypeRoutes(100))
	done := make(chan bool)
	for g := range 4 {
		go func() {
			var b filters.Batch
			ok := true
			for i := range 200 {
				want := (g*200 + i) % 100
				h := binaryHeaders("com.bank.type" + itoa(want))
				ok = ok && binaryRoute(r, h, &b) == want
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("a goroutine routed an event wrongly")
		}
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

func TestCompileRejectsInvalidUTF8(t *testing.T) {
	_, err := filters.Compile([]byte("{\"subscribers\":{\"a\":{\"cluster\":\"\xff\"}},\"routes\":[]}"))
	if !errors.Is(err, filters.ErrBadJSON) {
		t.Fatalf("err = %v, want ErrBadJSON", err)
	}
}

func TestCompileUnescapesStrings(t *testing.T) {
	r := mustCompile(t, []byte(`{"subscribers":{"\u0061ccounts":{"cluster":"a"}},
		"routes":[{"name":"transfers","match":[{"exact":{"type":"\u8f6c\u8d26"}}],"to":"accounts"}]}`))
	ev := &event.Event{SpecVersion: "1.0", ID: "1", Source: "/bank", Type: "转账"}
	if got := r.Route(ev); got != 0 || r.Config().Subscribers[0].Name != "accounts" {
		t.Fatalf("route = %d, subscriber %q; want the escaped config to route 转账 to accounts", got, r.Config().Subscribers[0].Name)
	}
}
