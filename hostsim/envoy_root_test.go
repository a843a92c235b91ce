package hostsim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestEnvoy_TicksFirePerPeriodAndRearmAfterEachTick(t *testing.T) {
	t.Parallel()
	clock := NewVirtualClock(time.Time{})
	h := newTestHost(t, "tick", Options{Clock: clock, Plugin: PluginConfig{Configuration: []byte("100,3")}})
	clock.Advance(99 * time.Millisecond)
	if n := len(logLines(h, "tick n=")); n != 0 {
		t.Fatalf("%d ticks before the first period", n)
	}
	clock.Advance(time.Millisecond)
	if n := len(logLines(h, "tick n=")); n != 1 {
		t.Fatalf("%d ticks after one period, want 1", n)
	}
	clock.Advance(time.Second)
	if got := logLines(h, "tick n="); len(got) != 3 {
		t.Fatalf("ticks %q: period 0 after the third tick must stop the timer", got)
	}
	mustLog(t, h, "tick_period phase=tick ms=0 err=ok")
	if v, _ := h.Metric("tick.count"); v != 3 {
		t.Fatalf("tick.count %d", v)
	}
}

func TestEnvoy_TicksRunIndependentlyPerWorkerVM(t *testing.T) {
	t.Parallel()
	clock := NewVirtualClock(time.Time{})
	h := newTestHost(t, "tick", Options{Clock: clock, Workers: 3, Plugin: PluginConfig{Configuration: []byte("50")}})
	clock.Advance(200 * time.Millisecond)
	if v, _ := h.Metric("tick.count"); v != 12 {
		t.Fatalf("tick.count %d, want 4 ticks × 3 workers (one shared counter)", v)
	}
}

func TestEnvoy_TickPeriodSetFromStreamBelongsToRoot(t *testing.T) {
	t.Parallel()
	clock := NewVirtualClock(time.Time{})
	h := newTestHost(t, "tick", Options{Clock: clock, Plugin: PluginConfig{Configuration: []byte("0")}})
	if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-tick-ms", "10")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, "tick_period phase=request_headers ms=10 err=ok")
	clock.Advance(35 * time.Millisecond)
	if n := len(logLines(h, "tick n=")); n != 3 {
		t.Fatalf("%d ticks after the stream ended, want 3 (timer is the root's)", n)
	}
}

func TestEnvoy_BadConfigFailsStartWithCriticalLog(t *testing.T) {
	t.Parallel()
	_, err := NewHost(context.Background(), loadGuest(t, "tick"), Options{Plugin: PluginConfig{Configuration: []byte("nope")}})
	if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), `bad_config config="nope"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestEnvoy_ReconfigureRefusedKeepsOldConfig(t *testing.T) {
	t.Parallel()
	clock := NewVirtualClock(time.Time{})
	h := newTestHost(t, "tick", Options{Clock: clock, Plugin: PluginConfig{Configuration: []byte("100")}})
	err := h.Reconfigure(context.Background(), []byte("bad"))
	if !errors.Is(err, ErrConfigRejected) {
		t.Fatalf("Reconfigure(bad) = %v", err)
	}
	clock.Advance(300 * time.Millisecond)
	if v, _ := h.Metric("tick.count"); v != 3 {
		t.Fatalf("old config stopped ticking: tick.count %d", v)
	}
	if err := h.Reconfigure(context.Background(), []byte("10")); err != nil {
		t.Fatal(err)
	}
	clock.Advance(100 * time.Millisecond)
	if v, _ := h.Metric("tick.count"); v != 13 {
		t.Fatalf("after a good reconfigure tick.count %d, want 3 + 10 (old root's timer gone)", v)
	}
}

func TestEnvoy_MetricStatusRules(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "metrics", Options{})
	if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-probe", "1", "x-gauge", "7", "x-hist", "42")}, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"defined counter=4 gauge=5 histogram=6",
		"gauge set=7 status=0 value=7",
		"probe name=counter_inc_zero status=2 ", "probe name=counter_inc_negative status=2 ",
		"probe name=counter_record_5 status=0 value=6", "probe name=gauge_inc_negative status=0 value=4",
		"probe name=histogram_inc status=2 ", "probe name=histogram_get status=2 ",
		"probe name=unknown_inc status=1 ", "probe name=unknown_get status=1 ",
		"probe name=define_bad_type status=2 ", "probe name=redefine_counter status=0 value=8",
	} {
		mustLog(t, h, want)
	}
	var hist *Metric
	for _, m := range h.Metrics() {
		if m.Name == "guest.histogram" {
			hist = &m
		}
	}
	if hist == nil || hist.Type != MetricHistogram || fmt.Sprint(hist.Histogram) != "[42]" {
		t.Fatalf("histogram %+v", hist)
	}
}

func TestEnvoy_MetricsSharedAcrossWorkers(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "metrics", Options{Workers: 4})
	for i := 0; i < 8; i++ {
		if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-gauge", fmt.Sprint(i))}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := h.Metric("guest.requests"); v != 8 {
		t.Fatalf("guest.requests %d, want 8 (one stat for all workers)", v)
	}
	if v, _ := h.Metric("guest.gauge"); v != 7 {
		t.Fatalf("guest.gauge %d, want 7 (last set wins)", v)
	}
}

func TestEnvoy_IncrementByZeroTrapsGuest(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "metrics", Options{})
	res, err := h.Do(context.Background(), Request{Headers: get("/", "x-bad", "zero")}, nil)
	if !errors.Is(err, ErrGuestFailed) {
		t.Fatalf("err = %v", err)
	}
	if res.LocalReply == nil || res.LocalReply.Status != 503 || res.LocalReply.Details != "wasm_fail_stream" {
		t.Fatalf("reply %+v", res.LocalReply)
	}
}

func TestEnvoy_SharedDataCAS(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "shared", Options{Workers: 2, Plugin: PluginConfig{VMID: "vm1"}})
	if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-shared-value", "a")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `shared_get step=1 key="k" value="" cas=0 err=not_found`)
	mustLog(t, h, `shared_set step=4 key="k" value="a-2"`)
	mustLog(t, h, `shared_set step=5 key="k" value="a-3"`)
	mustLog(t, h, "err=cas_mismatch")
	mustLog(t, h, `shared_get step=6 key="k" value="a-2"`)
	// The second request runs on the other worker VM and sees the first one's data.
	if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-shared-value", "b")}, nil); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `shared_get step=1 key="k" value="a-2"`)
}

func TestEnvoy_SharedQueueNotifiesRegistrant(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "shared", Options{})
	if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-enqueue", "item1")}, nil); err != nil {
		t.Fatal(err)
	}
	if err := h.WaitIdle(context.Background()); err != nil {
		t.Fatal(err)
	}
	mustLog(t, h, `queue_enqueue id=1 value="item1" err=ok`)
	mustLog(t, h, "queue_enqueue_unknown id=4294967280 err=not_found")
	mustLog(t, h, "queue_ready id=1")
	mustLog(t, h, `queue_dequeue id=1 value="item1" err=ok`)
	mustLog(t, h, "err=empty")
}

func TestEnvoy_QueueReadyRunsRightAfterTheEnqueuingCall(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "shared", Options{})
	for round := 0; round < 50; round++ {
		item := "item" + itoa(round)
		from := len(h.Logs())
		s := h.NewStream(context.Background())
		if err := s.SendRequestHeaders(get("/", "x-enqueue", item), true); err != nil {
			t.Fatal(err)
		}
		// Envoy posts the notification to the registrant worker's dispatcher: it has run when the
		// enqueuing event is over, after the callback that enqueued (which logs once more after enqueue).
		enqueued := logIndex(h, from, "queue_enqueue_unknown")
		ready := logIndex(h, from, "queue_ready id=1")
		dequeued := logIndex(h, from, `queue_dequeue id=1 value="`+item+`" err=ok`)
		if enqueued < 0 || ready < enqueued || dequeued < ready {
			t.Fatalf("round %d: want queue_ready after the enqueuing callback, before it returns; logs:\n%s",
				round, dumpLogs(h))
		}
		if err := s.Complete(); err != nil {
			t.Fatal(err)
		}
	}
}
