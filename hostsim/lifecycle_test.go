package hostsim

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestEnvoy_StartSequencePerRootAndCloseRunsPluginDone(t *testing.T) {
	t.Parallel()
	h, err := NewHost(context.Background(), loadGuest(t, "hs-lifecycle"),
		Options{Plugin: PluginConfig{VMConfiguration: []byte("vmcfg"), Configuration: []byte("one")}})
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `vm_start config="vmcfg"`)
	mustLog(t, h, `plugin_start root=1 config="one"`)
	if _, err := h.Do(context.Background(), Request{Headers: get("/")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, "stream_start id=2 root=1")
	mustLog(t, h, "stream_done id=2")
	if err := h.Reconfigure(context.Background(), []byte("two")); err != nil {
		t.Fatal(err)
	}
	// A new configuration is a new root context: on_vm_start runs again for it, then the old root is done.
	if n := len(logLines(h, "vm_start")); n != 2 {
		t.Fatalf("vm_start ran %d times, want once per root context", n)
	}
	mustLog(t, h, `plugin_start root=3 config="two"`)
	mustLog(t, h, "plugin_done root=1")
	if _, err := h.Do(context.Background(), Request{Headers: get("/")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, "stream_start id=4 root=3")
	if err := h.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, "plugin_done root=3")
}

func TestEnvoy_CloseStreamResetsAfterCallback(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "hs-lifecycle", Options{})
	res, err := h.Do(context.Background(), Request{Headers: get("/", "x-close", "1")}, func(RequestState) Response {
		t.Error("upstream called for a reset stream")
		return Response{}
	})
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, "close status=0")
	if !res.Reset || res.Request.Forwarded {
		t.Fatalf("result %+v", res)
	}
	mustLog(t, h, "stream_done id=2")
}

func TestEnvoy_ContextIDsNeverReusedPerVM(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "hs-lifecycle", Options{Workers: 2})
	for i := 0; i < 4; i++ {
		if _, err := h.Do(context.Background(), Request{Headers: get("/")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	// Each worker VM has its own root 1 and numbers its own streams 2, 3.
	for _, want := range []string{"stream_start id=2 root=1", "stream_start id=3 root=1"} {
		n := 0
		for _, l := range logLines(h, "stream_start") {
			if l == want {
				n++
			}
		}
		if n != 2 {
			t.Fatalf("%q logged %d times, want once per VM\n%s", want, n, dumpLogs(h))
		}
	}
}

func TestRealClockDrivesTicks(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "tick", Options{Plugin: PluginConfig{Configuration: []byte("5,3")}})
	deadline := time.Now().Add(5 * time.Second)
	for len(logLines(h, "tick n=")) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(logLines(h, "tick n=")); n != 3 {
		t.Fatalf("ticks with the real clock: %d, want 3", n)
	}
}

func TestEmptyGuestRequestLifecycleAllocations(t *testing.T) {
	h := newTestHost(t, "empty", Options{})
	req, resp := get("/"), Headers{{":status", "200"}}
	allocs := testing.AllocsPerRun(200, func() {
		s := h.NewStream(context.Background())
		_ = s.SendRequestHeaders(req, true)
		_ = s.SendResponseHeaders(resp, true)
		_ = s.Complete()
	})
	if allocs > 4 {
		t.Fatalf("%v host allocations per request lifecycle, want ≤ 4", allocs)
	}
	t.Log(fmt.Sprintf("%.1f allocs per request lifecycle", allocs))
}

func TestEnvoy_BodyBufferedDuringPausedHeadersReachesFilterAfterContinue(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	auth := Cluster{Handler: func(context.Context, *CallRequest) *CallResponse {
		<-release
		return &CallResponse{}
	}}
	h := newTestHost(t, "hs-holdbody", Options{Clusters: map[string]Cluster{"auth": auth}})
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(post("/"), false); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"aaaa", "bbbb", "cc"} {
		if err := s.SendRequestBody([]byte(c), c == "cc"); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(logLines(h, "body ")); n != 0 {
		t.Fatalf("%d body callbacks while the headers were paused (StopAllIterationAndWatermark)", n)
	}
	close(release)
	if err := s.WaitRequestComplete(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := logLines(h, "body ")
	if len(got) != 1 || got[0] != "body size=10 eos=true" {
		t.Fatalf("body callbacks after continue: %q, want one with the whole buffered body", got)
	}
	if st := s.Request(); string(st.Body) != "aaaabbbbcc" {
		t.Fatalf("forwarded %q", st.Body)
	}
	_ = s.Complete()
}

func TestEnvoy_BufferOverLimitGets413(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "body", Options{MaxBufferBytes: 10})
	res, err := h.Do(context.Background(), Request{Headers: post("/"), Body: []byte("0123456789abcdefghij"), Chunks: 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.LocalReply == nil || res.LocalReply.Status != 413 || res.LocalReply.Details != "request_payload_too_large" || res.Upstream {
		t.Fatalf("result %+v", res)
	}
}
