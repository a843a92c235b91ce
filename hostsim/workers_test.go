package hostsim

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// stressRun drives n requests (8 concurrent clients) through the stress guest on the given number of worker
// VMs and returns what a user can observe: metrics, the forwarded request per id, and the dispatches per id.
func stressRun(t *testing.T, workers, n int) (map[string]uint64, map[string]string, []string) {
	t.Helper()
	clock := NewVirtualClock(time.Time{})
	backend := Cluster{Handler: func(_ context.Context, req *CallRequest) *CallResponse {
		id, _ := strconv.Atoi(req.Headers.Value("x-stress-id"))
		if id%5 == 0 {
			return nil // reset
		}
		return &CallResponse{Headers: Headers{{":status", "200"}}, Body: []byte("ok")}
	}}
	h := newTestHost(t, "stress", Options{Workers: workers, Clock: clock,
		Plugin: PluginConfig{Configuration: []byte("100")}, Clusters: map[string]Cluster{"backend": backend}})
	var mu sync.Mutex
	forwarded := map[string]string{}
	var wg sync.WaitGroup
	ids := make(chan int)
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				body := []byte(fmt.Sprintf("payload-%03d-%s", id, "abcdefghij"))
				res, err := h.Do(context.Background(), Request{Headers: post("/in", "x-stress-id", strconv.Itoa(id)),
					Body: body, Chunks: 3}, func(r RequestState) Response { return Response{Body: r.Body} })
				if err != nil {
					t.Errorf("request %d: %v", id, err)
					continue
				}
				mu.Lock()
				forwarded[strconv.Itoa(id)] = fmt.Sprintf("%s|%s|%s", res.Request.Headers.Value("x-stress-id"), res.Request.Body, res.Response.Body)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		ids <- i
	}
	close(ids)
	wg.Wait()
	if err := h.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	metrics := map[string]uint64{}
	for _, m := range h.Metrics() {
		metrics[m.Name] = m.Value
	}
	var calls []string
	for _, d := range h.Dispatches() {
		calls = append(calls, fmt.Sprintf("%s %s %s %s %d", d.Cluster, d.Headers.Value("x-stress-id"), d.Body, d.Outcome, d.Status))
	}
	sort.Strings(calls)
	return metrics, forwarded, calls
}

// TestStressGuestSameIn1And4WorkerVMs: a guest that reads a header, buffers a body, dispatches, ticks and
// records metrics behaves identically on 1 and 4 worker VMs, except stress.ticks: Envoy ticks every worker VM
// independently, so 4 VMs tick 4 times as often.
func TestStressGuestSameIn1And4WorkerVMs(t *testing.T) {
	t.Parallel()
	const n = 200
	m1, f1, d1 := stressRun(t, 1, n)
	m4, f4, d4 := stressRun(t, 4, n)
	if m1["stress.ticks"] != 10 || m4["stress.ticks"] != 40 {
		t.Errorf("ticks in 1s at 100ms: 1 VM %d (want 10), 4 VMs %d (want 40, one timer per VM)", m1["stress.ticks"], m4["stress.ticks"])
	}
	delete(m1, "stress.ticks")
	delete(m4, "stress.ticks")
	if fmt.Sprint(m1) != fmt.Sprint(m4) {
		t.Errorf("metrics differ:\n1 VM:  %v\n4 VMs: %v", m1, m4)
	}
	if m1["stress.requests"] != n || m1["stress.dispatched"] != m1["stress.responses"]+m1["stress.resets"] || m1["stress.resets"] != n/5 {
		t.Errorf("metrics %v", m1)
	}
	if fmt.Sprint(f1) != fmt.Sprint(f4) || len(f1) != n {
		t.Errorf("forwarded requests differ")
	}
	if fmt.Sprint(d1) != fmt.Sprint(d4) || len(d1) != n {
		t.Errorf("dispatches differ (%d vs %d)", len(d1), len(d4))
	}
}

func TestWaitDecisionWaitsForPausedBodyToBeContinued(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	backend := Cluster{Handler: func(context.Context, *CallRequest) *CallResponse {
		<-release
		return &CallResponse{}
	}}
	h := newTestHost(t, "stress", Options{Clusters: map[string]Cluster{"backend": backend}, Plugin: PluginConfig{Configuration: []byte("0")}})
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(post("/"), false); err != nil {
		t.Fatal(err)
	}
	if err := s.SendRequestBody([]byte("abc"), true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.WaitDecision(ctx); err == nil {
		t.Fatalf("decided while the body is paused waiting for the dispatch: %+v", s.Request())
	}
	close(release)
	if err := s.WaitDecision(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := s.Request(); !st.Complete || string(st.Body) != "abc" {
		t.Fatalf("request after decision %+v", st)
	}
	_ = s.Complete()
}
