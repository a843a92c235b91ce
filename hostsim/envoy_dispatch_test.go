package hostsim

import (
	"context"
	"net"
	"testing"
	"time"
)

func okCluster(body string) Cluster {
	return Cluster{Handler: func(_ context.Context, req *CallRequest) *CallResponse {
		return &CallResponse{Headers: Headers{{":status", "200"}, {"x-from", req.Cluster}}, Body: []byte(body)}
	}}
}

func dispatchReq(cluster string, extra ...string) Request {
	return Request{Headers: get("/d", append([]string{"x-cluster", cluster}, extra...)...)}
}

func TestEnvoy_DispatchResponseResumesPausedRequest(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "dispatch", Options{Clusters: map[string]Cluster{"svc": okCluster("hello")}})
	res, err := h.Do(context.Background(), dispatchReq("svc", "x-call-body", "ping"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `response status="200" headers=2 body_size=5 trailers=0`)
	mustLog(t, h, `response_body body="hello"`)
	mustLog(t, h, "mark err=ok")
	if got := res.Request.Headers.Value("x-dispatch-status"); got != "200" || !res.Request.Complete {
		t.Fatalf("request after the callback: %+v", res.Request)
	}
	d := h.Dispatches()
	if len(d) != 1 || d[0].Cluster != "svc" || string(d[0].Body) != "ping" || d[0].Headers.Value("content-length") != "4" ||
		d[0].Headers.Value(":method") != "POST" || d[0].Outcome != DispatchResponded || d[0].Status != 200 {
		t.Fatalf("dispatch record %+v", d)
	}
}

func TestEnvoy_DispatchTokensStartAt4StepBy4(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "dispatch", Options{Clusters: map[string]Cluster{"svc": okCluster("")}})
	for i := 0; i < 3; i++ {
		if _, err := h.Do(context.Background(), dispatchReq("svc"), nil); err != nil {
			t.Fatal(err)
		}
	}
	d := h.Dispatches()
	if len(d) != 3 || d[0].Token != 4 || d[1].Token != 8 || d[2].Token != 12 {
		t.Fatalf("tokens %+v", d)
	}
}

func TestEnvoy_DispatchUnknownClusterIsBadArgument(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "dispatch", Options{})
	res, err := h.Do(context.Background(), dispatchReq("nowhere"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `dispatch_error cluster="nowhere" err=bad_argument`)
	if !res.Request.Complete || len(h.Dispatches()) != 0 {
		t.Fatalf("refused call: request must continue, no dispatch recorded: %+v", res)
	}
}

func TestEnvoy_DispatchTimeoutArrivesAs504(t *testing.T) {
	t.Parallel()
	clock := NewVirtualClock(time.Time{})
	release := make(chan struct{})
	slow := Cluster{Handler: func(ctx context.Context, _ *CallRequest) *CallResponse {
		select {
		case <-ctx.Done():
		case <-release:
		}
		return &CallResponse{Headers: Headers{{":status", "200"}}}
	}}
	defer close(release)
	h := newTestHost(t, "dispatch", Options{Clock: clock, Clusters: map[string]Cluster{"slow": slow}})
	s := h.NewStream(context.Background())
	if err := s.SendRequestHeaders(dispatchReq("slow", "x-timeout-ms", "250").Headers, true); err != nil {
		t.Fatal(err)
	}
	clock.Advance(249 * time.Millisecond)
	if s.Request().Forwarded {
		t.Fatal("continued before the timeout")
	}
	clock.Advance(time.Millisecond)
	mustLog(t, h, `response status="504" headers=4 body_size=24 trailers=0`)
	mustLog(t, h, `response_body body="upstream request timeout"`)
	if got := s.Request().Headers.Value("x-dispatch-status"); got != "504" {
		t.Fatalf("x-dispatch-status %q", got)
	}
	if d := h.Dispatches(); d[0].Outcome != DispatchTimedOut || d[0].Latency != 250*time.Millisecond {
		t.Fatalf("dispatch %+v", d[0])
	}
	_ = s.Complete()
}

func TestEnvoy_DispatchConnectFailureArrivesAs503(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there any more
	h := newTestHost(t, "dispatch", Options{Clusters: map[string]Cluster{"down": {Addresses: []string{addr}, Timeout: time.Second}}})
	res, err := h.Do(context.Background(), dispatchReq("down"), nil)
	if err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `response status="503"`)
	mustLog(t, h, `response_body body="upstream connect error or disconnect/reset before headers`)
	if res.Request.Headers.Value("x-dispatch-status") != "503" || h.Dispatches()[0].Outcome != DispatchConnectFailed {
		t.Fatalf("result %+v dispatch %+v", res.Request, h.Dispatches())
	}
}

func TestEnvoy_DispatchResetCallsBackWithNoHeaders(t *testing.T) {
	t.Parallel()
	reset := Cluster{Handler: func(context.Context, *CallRequest) *CallResponse { return nil }}
	h := newTestHost(t, "dispatch", Options{Clusters: map[string]Cluster{"reset": reset}})
	res, err := h.Do(context.Background(), dispatchReq("reset"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(logLines(h, "reset")) != 1 || res.Request.Headers.Value("x-dispatch-status") != "reset" {
		t.Fatalf("logs:\n%s", dumpLogs(h))
	}
}

func TestEnvoy_DispatchToRealAddress(t *testing.T) {
	t.Parallel()
	srv := newRecorderServer(t)
	h := newTestHost(t, "dispatch", Options{Clusters: map[string]Cluster{"real": {Addresses: []string{"127.0.0.1:1", srv.addr}}}})
	if _, err := h.Do(context.Background(), dispatchReq("real", "x-call-path", "/hook", "x-call-body", "hi"), nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `response status="202"`)
	got := srv.requests()
	if len(got) != 1 || got[0] != "POST /hook real hi" {
		t.Fatalf("server saw %q", got)
	}
}

func TestEnvoy_InlineClusterAnswersAfterTheDispatchingCall(t *testing.T) {
	t.Parallel()
	c := okCluster("inline")
	c.Inline = true
	h := newTestHost(t, "dispatch", Options{Clusters: map[string]Cluster{"svc": c}})
	for round := 0; round < 3; round++ {
		from := len(h.Logs())
		s := h.NewStream(context.Background())
		if err := s.SendRequestHeaders(dispatchReq("svc").Headers, true); err != nil {
			t.Fatal(err)
		}
		// No WaitIdle: the answer is a later event of the same worker, run before SendRequestHeaders returns.
		if got := s.Request().Headers.Value("x-dispatch-status"); got != "200" || !s.Request().Forwarded {
			t.Fatalf("round %d: request not resumed by the inline answer (x-dispatch-status %q)", round, got)
		}
		// Never re-entrant: the headers callback finished (it logs after DispatchHttpCall returns) first.
		dispatched := logIndex(h, from, `dispatched cluster="svc"`)
		response := logIndex(h, from, `response status="200" headers=2 body_size=6`)
		if dispatched < 0 || response < dispatched {
			t.Fatalf("round %d: want the callback after the dispatching call; logs:\n%s", round, dumpLogs(h))
		}
		if err := s.Complete(); err != nil {
			t.Fatal(err)
		}
	}
	d := h.Dispatches()
	if len(d) != 3 || d[0].Token != 4 || d[1].Token != 8 || d[2].Token != 12 {
		t.Fatalf("want tokens 4, 8, 12: %+v", d)
	}
	for _, x := range d {
		if x.Outcome != DispatchResponded || x.Status != 200 {
			t.Fatalf("dispatch %+v", x)
		}
	}
}
