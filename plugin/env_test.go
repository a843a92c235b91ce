//go:build !wasm

package main_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim"
	"github.com/eventroute/eventroute/internal/wasmbuild"
)

// The plugin is tested as users run it: the compiled .wasm in hostsim.

var (
	runtimeOnce sync.Once
	sharedRT    *hostsim.Runtime
	runtimeErr  error
)

// pluginModule builds (cached) and loads build output of ./plugin.
func pluginModule(tb testing.TB) *hostsim.Module {
	tb.Helper()
	return loadModule(tb, "plugin")
}

func loadModule(tb testing.TB, pkg string) *hostsim.Module {
	tb.Helper()
	wasm := wasmbuild.Build(tb, pkg)
	runtimeOnce.Do(func() { sharedRT, runtimeErr = hostsim.NewRuntime(context.Background()) })
	if runtimeErr != nil {
		tb.Fatalf("runtime: %v", runtimeErr)
	}
	m, err := sharedRT.Load(context.Background(), wasm)
	if err != nil {
		tb.Fatalf("load %s: %v", pkg, err)
	}
	return m
}

// hostMode is one of the two Envoy behaviours every test runs in.
type hostMode struct {
	name string
	// hold: the host holds headers on Pause (allow_on_headers_stop_iteration)
	// and the plugin is told so ("holdHeaders": true).
	hold bool
}

var hostModes = []hostMode{{name: "default"}, {name: "holding", hold: true}}

// forModes runs f once per host mode as parallel subtests.
func forModes(t *testing.T, f func(t *testing.T, mode hostMode)) {
	t.Parallel()
	for _, mode := range hostModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			f(t, mode)
		})
	}
}

// subscriberEndpoint is an in-process cluster that records what it receives
// and answers with scripted statuses (the last one repeats; default 202).
type subscriberEndpoint struct {
	mu       sync.Mutex
	statuses []int
	reset    bool // answer with a reset instead of a response
	discard  bool // count calls without keeping them (benchmarks)
	count    int
	calls    []hostsim.CallRequest
	gate     chan struct{} // when set, answers wait until it is closed
}

func (s *subscriberEndpoint) handle(_ context.Context, req *hostsim.CallRequest) *hostsim.CallResponse {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count++
	if !s.discard {
		s.calls = append(s.calls, hostsim.CallRequest{Cluster: req.Cluster, Headers: req.Headers.Clone(),
			Body: append([]byte(nil), req.Body...), Timeout: req.Timeout})
	}
	if s.reset {
		return nil
	}
	status := 202
	if n := len(s.statuses); n > 0 {
		i := s.count - 1
		if i >= n {
			i = n - 1
		}
		status = s.statuses[i]
	}
	return &hostsim.CallResponse{Headers: hostsim.Headers{{":status", itoa(status)}}, Body: []byte("answer")}
}

// script sets the statuses of the next answers and forgets earlier calls.
func (s *subscriberEndpoint) script(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.statuses, s.calls, s.count = statuses, nil, 0
}

// holdAnswers makes the endpoint answer nothing until the returned function
// is called (deliveries stay pending meanwhile).
func (s *subscriberEndpoint) holdAnswers() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gate := make(chan struct{})
	s.gate = gate
	return func() {
		s.mu.Lock()
		s.gate = nil
		s.mu.Unlock()
		close(gate)
	}
}

func (s *subscriberEndpoint) received() []hostsim.CallRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hostsim.CallRequest(nil), s.calls...)
}

// env is one plugin instance in hostsim with a virtual clock.
type env struct {
	t     testing.TB
	host  *hostsim.Host
	clock *hostsim.VirtualClock
	subs  map[string]*subscriberEndpoint
}

type envOptions struct {
	config    string // plugin configuration
	allowStop bool   // AllowOnHeadersStopIteration
	principal string // downstream peer URI SAN
	endpoints []string
	workers   int  // worker VMs (default 1)
	inline    bool // subscribers answer on the dispatching worker (hostsim Cluster.Inline); never with gates
}

func newEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	e, err := startEnv(tb, o)
	if err != nil {
		tb.Fatalf("start: %v", err)
	}
	return e
}

func startEnv(tb testing.TB, o envOptions) (*env, error) {
	tb.Helper()
	clock := hostsim.NewVirtualClock(time.Unix(1_700_000_000, 0))
	e := &env{t: tb, clock: clock, subs: map[string]*subscriberEndpoint{}}
	clusters := map[string]hostsim.Cluster{}
	names := o.endpoints
	if names == nil {
		names = []string{"accounts", "audit", "dlq", "raw", "orig"}
	}
	for _, name := range names {
		s := &subscriberEndpoint{}
		e.subs[name] = s
		clusters[name] = hostsim.Cluster{Handler: s.handle, Inline: o.inline}
	}
	h, err := hostsim.NewHost(context.Background(), pluginModule(tb), hostsim.Options{
		Plugin: hostsim.PluginConfig{Name: "eventroute", RootID: "eventroute", VMID: "eventroute",
			Configuration: []byte(o.config), AllowOnHeadersStopIteration: o.allowStop},
		Clock:    clock,
		Workers:  o.workers,
		Clusters: clusters,
		Peer:     hostsim.Peer{URISAN: o.principal},
	})
	if err != nil {
		return nil, err
	}
	tb.Cleanup(func() { _ = h.Close(context.Background()) })
	e.host = h
	return e, nil
}

// exchange is what a client and the upstream observed for one request.
type exchange struct {
	forwarded bool
	request   hostsim.RequestState // as forwarded upstream
	reply     *hostsim.LocalReply  // local reply, or nil
	stream    *hostsim.Stream
}

// send plays one request: headers, then the body in one chunk. The stream is
// left open (finish it with complete) so held requests can be inspected.
func (e *env) send(headers hostsim.Headers, body []byte) *exchange {
	e.t.Helper()
	s := e.host.NewStream(context.Background())
	if err := s.SendRequestHeaders(headers, len(body) == 0); err != nil {
		e.t.Fatalf("request headers: %v", err)
	}
	if len(body) > 0 {
		if err := s.SendRequestBody(body, true); err != nil {
			e.t.Fatalf("request body: %v", err)
		}
	}
	return e.observe(s)
}

func (e *env) observe(s *hostsim.Stream) *exchange {
	st := s.Request()
	return &exchange{forwarded: st.Forwarded, request: st, reply: s.LocalReply(), stream: s}
}

// do plays a whole request and completes the stream with a 200 upstream
// answer when it was forwarded.
func (e *env) do(headers hostsim.Headers, body []byte) *exchange {
	e.t.Helper()
	x := e.send(headers, body)
	e.complete(x)
	return x
}

func (e *env) complete(x *exchange) {
	e.t.Helper()
	x.request = x.stream.Request()
	x.reply = x.stream.LocalReply()
	x.forwarded = x.request.Forwarded
	if x.reply == nil && x.request.Forwarded {
		if err := x.stream.SendResponseHeaders(hostsim.Headers{{":status", "200"}}, true); err != nil {
			e.t.Fatalf("response headers: %v", err)
		}
	}
	if err := x.stream.Complete(); err != nil {
		e.t.Fatalf("complete: %v", err)
	}
}

// advance moves the virtual clock (ticks fire, deliveries are dispatched)
// and waits until every dispatch was answered.
func (e *env) advance(d time.Duration) {
	e.t.Helper()
	step := time.Millisecond
	for elapsed := time.Duration(0); elapsed < d; elapsed += step {
		e.clock.Advance(step)
		if err := e.host.WaitIdle(context.Background()); err != nil {
			e.t.Fatalf("wait idle: %v", err)
		}
	}
}

// idle waits, without moving the clock, until every dispatch was answered:
// first attempts leave at once, so no tick is needed for them.
func (e *env) idle() {
	e.t.Helper()
	if err := e.host.WaitIdle(context.Background()); err != nil {
		e.t.Fatalf("wait idle: %v", err)
	}
}

// settle runs the clock long enough for every retry of the test configs.
func (e *env) settle() { e.advance(3 * time.Second) }

func (e *env) metric(name string) uint64 {
	v, _ := e.host.Metric("eventroute." + name)
	return v
}

// wantMetrics checks metric values by name (without the eventroute. prefix).
func (e *env) wantMetrics(want map[string]uint64) {
	e.t.Helper()
	for name, v := range want {
		if got := e.metric(name); got != v {
			e.t.Errorf("metric %s = %d, want %d", name, got, v)
		}
	}
}

// checkInvariant checks sent = delivered + dead_lettered + dropped for every
// subscriber (call once nothing is pending).
func (e *env) checkInvariant(names ...string) {
	e.t.Helper()
	for _, n := range names {
		p := "subscriber." + n + "."
		sent, del, dl, drop := e.metric(p+"sent"), e.metric(p+"delivered"), e.metric(p+"dead_lettered"), e.metric(p+"dropped")
		if sent != del+dl+drop {
			e.t.Errorf("subscriber %s: sent %d != delivered %d + dead_lettered %d + dropped %d", n, sent, del, dl, drop)
		}
	}
}

func (e *env) logsContaining(s string) []hostsim.LogEntry {
	var out []hostsim.LogEntry
	for _, l := range e.host.Logs() {
		if strings.Contains(l.Message, s) {
			out = append(out, l)
		}
	}
	return out
}

// config renders a plugin configuration: the base below with overrides
// merged at the top level, and holdHeaders from the host mode.
func config(tb testing.TB, mode hostMode, overrides string) string {
	tb.Helper()
	base := map[string]any{}
	if err := json.Unmarshal([]byte(baseConfig), &base); err != nil {
		tb.Fatal(err)
	}
	if overrides != "" {
		var o map[string]any
		if err := json.Unmarshal([]byte(overrides), &o); err != nil {
			tb.Fatalf("overrides: %v", err)
		}
		for k, v := range o {
			base[k] = v
		}
	}
	base["holdHeaders"] = mode.hold
	out, err := json.Marshal(base)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

const baseConfig = `{
  "subscribers": {
    "accounts": {"cluster": "accounts", "authority": "accounts.bank.svc.cluster.local", "path": "/events",
                 "retry": {"attempts": 3, "initialBackoff": "100ms", "maxBackoff": "1s"}, "deadLetter": "dlq"},
    "audit": {"cluster": "audit", "format": "structured"},
    "raw": {"cluster": "raw", "format": "binary", "path": "/raw"},
    "orig": {"cluster": "orig", "path": "/orig"},
    "dlq": {"cluster": "dlq", "path": "/dlq"}
  },
  "routes": [
    {"name": "transfers", "match": [{"exact": {"type": "转账"}}], "to": "accounts"},
    {"name": "big", "match": [{"data": {"path": "amount", "gt": 1000}}], "to": "audit"}
  ],
  "mirrors": [
    {"name": "audit-bank", "match": [{"prefix": {"source": "Bank"}}], "to": ["audit"]}
  ]
}`

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func modeEnv(t *testing.T, mode hostMode, overrides string) *env {
	t.Helper()
	return newEnv(t, envOptions{config: config(t, mode, overrides), allowStop: mode.hold})
}

// Requests used across tests.

func binaryTransfer(id string) (hostsim.Headers, []byte) {
	return hostsim.Headers{
		{":method", "POST"}, {":path", "/publish"}, {":authority", "gateway.bank"}, {":scheme", "http"},
		{"content-type", "application/json"}, {"ce-specversion", "1.0"}, {"ce-id", id},
		{"ce-source", "Bank"}, {"ce-type", "转账"}, {"ce-subject", "Account"},
	}, []byte(`{"amount":100}`)
}

func structuredEvent(id, typ, source string, amount int) []byte {
	return []byte(`{"specversion":"1.0","id":"` + id + `","source":"` + source + `","type":"` + typ +
		`","subject":"Account","datacontenttype":"application/json","data":{"amount":` + itoa(amount) + `}}`)
}

func structuredHeaders() hostsim.Headers {
	return hostsim.Headers{{":method", "POST"}, {":path", "/publish"}, {":authority", "gateway.bank"},
		{":scheme", "http"}, {"content-type", "application/cloudevents+json; charset=utf-8"}}
}

func batchHeaders() hostsim.Headers {
	return hostsim.Headers{{":method", "POST"}, {":path", "/publish"}, {":authority", "gateway.bank"},
		{":scheme", "http"}, {"content-type", "application/cloudevents-batch+json"}}
}
