//go:build !wasm

package main_test

import (
	"bytes"
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim"
)

// Every benchmark reports its figure as a ratio to the empty guest
// (testdata/guests/empty) measured in the same loop: each iteration times one
// request through the plugin and one GET through the empty guest, so both
// see the same machine load. "x-floor" = plugin time / empty-guest time.

var getRequest = hostsim.Headers{{":method", "GET"}, {":path", "/accounts/7"}, {":authority", "gateway.bank"},
	{":scheme", "http"}, {"accept", "application/json"}, {"user-agent", "bench"}}

var okResponse = hostsim.Headers{{":status", "200"}}

// lifecycle plays one request: headers, optional body, a 200 answer, done.
func lifecycle(b testing.TB, h *hostsim.Host, headers hostsim.Headers, body []byte) *hostsim.Stream {
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(headers, len(body) == 0); err != nil {
		b.Fatal(err)
	}
	if len(body) > 0 {
		if err := s.SendRequestBody(body, true); err != nil {
			b.Fatal(err)
		}
	}
	if s.LocalReply() == nil {
		if err := s.SendResponseHeaders(okResponse, true); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Complete(); err != nil {
		b.Fatal(err)
	}
	return s
}

// floorPair times work against the empty guest's GET lifecycle.
type floorPair struct {
	empty          *hostsim.Host
	plugin, ground time.Duration
}

func newFloorPair(b *testing.B) *floorPair {
	b.Helper()
	h, err := hostsim.NewHost(context.Background(), loadModule(b, "testdata/guests/empty"), hostsim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close(context.Background()) })
	for range 200 {
		lifecycle(b, h, getRequest, nil)
	}
	return &floorPair{empty: h}
}

// run times f (one plugin request) and one empty-guest request b.N times,
// then reports the figures.
func (p *floorPair) run(b *testing.B, f func()) {
	for b.Loop() {
		p.timePlugin(f)
		p.timeFloor(b, 1)
	}
	p.report(b)
}

// timePlugin times plugin work.
func (p *floorPair) timePlugin(f func()) {
	t0 := time.Now()
	f()
	p.plugin += time.Since(t0)
}

// timeFloor times n empty-guest requests.
func (p *floorPair) timeFloor(b *testing.B, n int) {
	t0 := time.Now()
	for range n {
		lifecycle(b, p.empty, getRequest, nil)
	}
	p.ground += time.Since(t0)
}

func (p *floorPair) report(b *testing.B) {
	n := float64(b.N)
	b.ReportMetric(float64(p.plugin.Nanoseconds())/n, "plugin-ns/op")
	b.ReportMetric(float64(p.ground.Nanoseconds())/n, "floor-ns/op")
	b.ReportMetric(float64(p.plugin)/float64(p.ground), "x-floor")
}

func BenchmarkNonEventRequest(b *testing.B) {
	e := newEnv(b, envOptions{config: config(b, hostModes[0], "")})
	newFloorPair(b).run(b, func() { lifecycle(b, e.host, getRequest, nil) })
}

func BenchmarkBinaryEventRoutedAmong1000Routes(b *testing.B) {
	var routes strings.Builder
	routes.WriteString(`{"mirrors": [], "routes": [`)
	for i := range 1000 {
		if i > 0 {
			routes.WriteByte(',')
		}
		routes.WriteString(`{"name": "r` + strconv.Itoa(i) + `", "match": [{"exact": {"type": "t` + strconv.Itoa(i) +
			`"}}], "to": "accounts"}`)
	}
	routes.WriteString(`]}`)
	e := newEnv(b, envOptions{config: config(b, hostModes[0], routes.String())})
	headers, body := routedBinaryEvent()
	if s := lifecycle(b, e.host, headers, body); s.Request().Headers.Value("x-eventroute-subscriber") != "accounts" {
		b.Fatal("the benchmark event is not routed")
	}
	newFloorPair(b).run(b, func() { lifecycle(b, e.host, headers, body) })
}

// routedBinaryEvent is the binary-mode event of the routing benchmarks: its
// type matches route 777 of 1,000.
func routedBinaryEvent() (hostsim.Headers, []byte) {
	headers, body := binaryTransfer("bench")
	for i := range headers {
		if headers[i][0] == "ce-type" {
			headers[i][1] = "t777"
		}
	}
	return headers, body
}

// mirrorBatch is how many requests run between waits for their copies'
// answers (copies leave at once, answered on other goroutines). The floor is
// timed for as many requests after each wait, so the copies' work is counted
// for the plugin and never overlaps the floor.
const mirrorBatch = 64

func benchmarkMirror(b *testing.B, dataBytes int) {
	// The in-process subscribers answer inline (hostsim delivers the answer on the dispatching worker right
	// after the dispatching call returns), so the figure counts the plugin's and hostsim's work, not
	// goroutine hand-offs of the test's subscribers.
	e := newEnv(b, envOptions{inline: true, config: config(b, hostModes[0],
		`{"routes": [], "mirrors": [{"name": "two", "match": [], "to": ["audit", "orig"]}]}`)})
	body := mirroredEvent(dataBytes)
	e.subs["audit"].discard, e.subs["orig"].discard = true, true
	b.SetBytes(int64(len(body)))
	newFloorPair(b).runMirrored(b, func() { lifecycle(b, e.host, structuredHeaders(), body) }, e.idle)
	if got, want := e.metric("subscriber.orig.delivered"), e.metric("subscriber.orig.sent"); got != want || got == 0 {
		b.Fatalf("orig: delivered %d of %d", got, want)
	}
	if dropped := e.metric("subscriber.orig.dropped"); dropped != 0 {
		b.Fatalf("orig: %d dropped", dropped)
	}
}

// runMirrored times send (one request whose copies leave at once) b.N
// times, waiting with idle for the copies' answers every mirrorBatch
// requests, then times the floor for as many requests; it reports the
// figures (timers stopped) and returns how many requests it sent.
func (p *floorPair) runMirrored(b *testing.B, send, idle func()) int {
	i := 0
	for b.Loop() {
		p.timePlugin(func() {
			send()
			if i++; i%mirrorBatch == 0 {
				idle()
			}
		})
		if i%mirrorBatch == 0 {
			p.timeFloor(b, mirrorBatch)
		}
	}
	if rest := i % mirrorBatch; rest > 0 {
		p.timePlugin(idle)
		p.timeFloor(b, rest)
	}
	p.report(b)
	b.StopTimer()
	return i
}

func BenchmarkStructured1KiBMirroredTo2(b *testing.B)  { benchmarkMirror(b, 1024) }
func BenchmarkStructured64KiBMirroredTo2(b *testing.B) { benchmarkMirror(b, 64*1024) }

// mirroredEvent is the structured event of the mirror benchmarks, with
// dataBytes of data.
func mirroredEvent(dataBytes int) []byte {
	data := `{"pad":"` + strings.Repeat("x", max(0, dataBytes-10)) + `"}`
	return []byte(`{"specversion":"1.0","id":"m","source":"Bank","type":"转账","datacontenttype":"application/json","data":` +
		data + `}`)
}

// The Bound benchmarks run testdata/guests/bound on the request of the
// plugin benchmark they are named after: the guest makes only the host calls
// any plugin on this SDK must make for that request (see its package
// comment), so its x-floor is the smallest the plugin's can be.

// TestBoundGuest checks that the bound guest does, for each scenario, what
// the plugin does for the user on the same request, so the Bound benchmarks
// time real work.
func TestBoundGuest(t *testing.T) {
	h := newBoundHost(t, "non-event")
	if got := lifecycle(t, h, getRequest, nil).Request().Headers; !slices.Equal(got, getRequest) {
		t.Errorf("non-event: request headers %v", got)
	}
	if n, _ := h.Metric("eventroute.requests"); n != 1 {
		t.Errorf("non-event: %d requests counted", n)
	}
	h = newBoundHost(t, "binary-route")
	headers, body := routedBinaryEvent()
	got := lifecycle(t, h, headers, body).Request().Headers
	if got.Value("x-eventroute-subscriber") != "accounts" || got.Value(":authority") != "accounts.bank.svc.cluster.local" ||
		got.Value(":path") != "/events" {
		t.Errorf("binary-route: request headers %v", got)
	}
	h = newBoundHost(t, "structured-mirror")
	event := mirroredEvent(1024)
	lifecycle(t, h, structuredHeaders(), event)
	if err := h.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := h.Dispatches()
	if len(calls) != 2 {
		t.Fatalf("structured-mirror: %d calls, want 2", len(calls))
	}
	for _, c := range calls {
		if !bytes.Equal(c.Body, event) || c.Status != 200 {
			t.Errorf("structured-mirror: call to %s answered %d with a %d-byte body", c.Cluster, c.Status, len(c.Body))
		}
	}
	for _, c := range []string{"audit", "orig"} {
		if n, _ := h.Metric("eventroute.subscriber." + c + ".delivered"); n != 1 {
			t.Errorf("structured-mirror: %s delivered %d, want 1", c, n)
		}
	}
	if _, err := hostsim.NewHost(context.Background(), loadModule(t, "testdata/guests/bound"),
		hostsim.Options{Plugin: hostsim.PluginConfig{Configuration: []byte("nothing")}}); err == nil {
		t.Error("an unknown scenario started")
	}
}

// newBoundHost starts the bound guest for scenario, with clusters "audit"
// and "orig" answering 200 inline (as the mirror benchmarks' subscribers do).
func newBoundHost(b testing.TB, scenario string) *hostsim.Host {
	b.Helper()
	answer := func(context.Context, *hostsim.CallRequest) *hostsim.CallResponse {
		return &hostsim.CallResponse{Headers: hostsim.Headers{{":status", "200"}}}
	}
	h, err := hostsim.NewHost(context.Background(), loadModule(b, "testdata/guests/bound"), hostsim.Options{
		Plugin: hostsim.PluginConfig{Configuration: []byte(scenario)},
		Clusters: map[string]hostsim.Cluster{
			"audit": {Handler: answer, Inline: true}, "orig": {Handler: answer, Inline: true}},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

func BenchmarkBoundNonEventRequest(b *testing.B) {
	h := newBoundHost(b, "non-event")
	newFloorPair(b).run(b, func() { lifecycle(b, h, getRequest, nil) })
}

func BenchmarkBoundBinaryEventRouted(b *testing.B) {
	h := newBoundHost(b, "binary-route")
	headers, body := routedBinaryEvent()
	if s := lifecycle(b, h, headers, body); s.Request().Headers.Value(":path") != "/events" {
		b.Fatal("the bound guest did not rewrite the request")
	}
	newFloorPair(b).run(b, func() { lifecycle(b, h, headers, body) })
}

func BenchmarkBoundStructured1KiBMirroredTo2(b *testing.B) {
	h := newBoundHost(b, "structured-mirror")
	body := mirroredEvent(1024)
	b.SetBytes(int64(len(body)))
	i := newFloorPair(b).runMirrored(b, func() { lifecycle(b, h, structuredHeaders(), body) }, func() {
		if err := h.WaitIdle(context.Background()); err != nil {
			b.Fatal(err)
		}
	})
	for _, c := range []string{"audit", "orig"} {
		if got, _ := h.Metric("eventroute.subscriber." + c + ".delivered"); got != uint64(i) {
			b.Fatalf("%s: %d answers for %d requests", c, got, i)
		}
	}
}
