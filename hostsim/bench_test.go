package hostsim

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/eventroute/eventroute/internal/wasmbuild"
)

// BenchmarkEmptyGuest is the floor: a whole request lifecycle (context create, request headers, response
// headers, on_log, on_done, on_delete) through a guest that does nothing. It also reports compile and
// instantiate times.
func BenchmarkEmptyGuest(b *testing.B) {
	ctx := context.Background()
	wasm := wasmbuild.Build(b, "testdata/guests/empty")
	rt, err := NewRuntime(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close(ctx)
	t0 := time.Now()
	m, err := rt.Load(ctx, wasm)
	if err != nil {
		b.Fatal(err)
	}
	compile := time.Since(t0)
	t0 = time.Now()
	h, err := NewHost(ctx, m, Options{})
	if err != nil {
		b.Fatal(err)
	}
	instantiate := time.Since(t0)
	defer h.Close(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		benchGet(b, h)
	}
	b.StopTimer()
	b.ReportMetric(float64(compile.Microseconds())/1000, "compile-ms")
	b.ReportMetric(float64(instantiate.Microseconds())/1000, "instantiate-ms")
}

// benchGetRequest and benchOK are the request and answer of benchGet.
var (
	benchGetRequest = get("/bench")
	benchOK         = Headers{{":status", "200"}}
)

// benchGet plays one whole GET request without a body through h, answered 200.
func benchGet(b *testing.B, h *Host) {
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(benchGetRequest, true); err != nil {
		b.Fatal(err)
	}
	if err := s.SendResponseHeaders(benchOK, true); err != nil {
		b.Fatal(err)
	}
	if err := s.Complete(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStressGuest is a whole request through the stress guest: header read, body buffered over two
// chunks, a dispatch answered by an in-process cluster, resume, counters.
func BenchmarkStressGuest(b *testing.B) {
	ctx := context.Background()
	backend := Cluster{Handler: func(context.Context, *CallRequest) *CallResponse {
		return &CallResponse{Headers: Headers{{":status", "200"}}}
	}}
	h, err := NewHost(ctx, loadGuest(b, "stress"), Options{Clusters: map[string]Cluster{"backend": backend},
		Plugin: PluginConfig{Configuration: []byte("0")}})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(ctx)
	req := Request{Headers: post("/", "x-stress-id", "1"), Body: []byte("0123456789abcdef0123456789abcdef"), Chunks: 2}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := h.Do(ctx, req, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHostCall measures one proxy_get_header_map_value call as the guest sees it: each iteration runs a
// request whose headers callback makes 101 calls and one that makes 1, and the difference over 100 is
// reported as ns/hostcall. "present" copies a value out (re-entering the guest's proxy_on_memory_allocate);
// "absent" answers NotFound without copy-out; the "sdk-" cases read through proxywasm.GetHttpRequestHeader,
// adding the SDK's guest-side cost.
func BenchmarkHostCall(b *testing.B) {
	for _, tc := range []struct{ name, args string }{{"present", ":path"}, {"absent", "x-missing"},
		{"sdk-present", ":path sdk"}, {"sdk-absent", "x-missing sdk"}} {
		b.Run(tc.name, func(b *testing.B) {
			many := newTestHost(b, "hs-hostcalls", Options{Plugin: PluginConfig{Configuration: []byte("101 " + tc.args)}})
			one := newTestHost(b, "hs-hostcalls", Options{Plugin: PluginConfig{Configuration: []byte("1 " + tc.args)}})
			run := func(h *Host) time.Duration {
				t0 := time.Now()
				benchGet(b, h)
				return time.Since(t0)
			}
			var dMany, dOne time.Duration
			b.ReportAllocs()
			for b.Loop() {
				dMany += run(many)
				dOne += run(one)
			}
			b.ReportMetric(float64((dMany-dOne).Nanoseconds())/float64(b.N)/100, "ns/hostcall")
			for _, h := range []*Host{many, one} {
				for _, e := range h.Logs() {
					if e.Level >= LogError {
						b.Fatalf("guest: %s", e.Message)
					}
				}
			}
		})
	}
}

// BenchmarkDispatchWaitIdle is one dispatching request whose caller waits for the callback with WaitIdle: the
// wake-up latency of WaitIdle is part of every iteration. "goroutine" answers on the handler's own goroutine;
// "inline" is a Cluster.Inline handler answered on the dispatching worker after the call returns.
func BenchmarkDispatchWaitIdle(b *testing.B) {
	for _, inline := range []bool{false, true} {
		name := "goroutine"
		if inline {
			name = "inline"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			backend := Cluster{Inline: inline, Handler: func(context.Context, *CallRequest) *CallResponse {
				return &CallResponse{Headers: Headers{{":status", "200"}}}
			}}
			h := newTestHost(b, "dispatch", Options{Clusters: map[string]Cluster{"backend": backend}, Retain: 100})
			req := get("/", "x-cluster", "backend")
			b.ReportAllocs()
			cpu0 := processCPU(b)
			for b.Loop() {
				s := h.NewStream(ctx)
				if err := s.SendRequestHeaders(req, true); err != nil {
					b.Fatal(err)
				}
				if err := h.WaitIdle(ctx); err != nil {
					b.Fatal(err)
				}
				if !s.Request().Forwarded {
					b.Fatal("the dispatch callback did not resume the request")
				}
				if err := s.Complete(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((processCPU(b)-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU returns the CPU time (user and system) this process has used so far: on a shared machine it
// is steadier than wall time, which also counts the time other processes hold the cores.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
