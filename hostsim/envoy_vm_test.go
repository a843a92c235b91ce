package hostsim

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventroute/eventroute/internal/wasmbuild"
)

func TestEnvoy_TrapMarksVMFailedAndLaterStreamsGet503(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "panicker", Options{})
	res, err := h.Do(context.Background(), Request{Headers: get("/", "x-panic", "boom")}, nil)
	if !errors.Is(err, ErrGuestFailed) || !strings.Contains(err.Error(), "proxy_on_request_headers") {
		t.Fatalf("err = %v", err)
	}
	if res.LocalReply == nil || res.LocalReply.Status != 503 || res.LocalReply.Details != "wasm_fail_stream" || res.Upstream {
		t.Fatalf("trapping stream: %+v", res)
	}
	// The Go runtime prints its panic piecewise; Envoy logs every fd_write to fd 2 as one error line.
	var stderr strings.Builder
	for _, e := range h.Logs() {
		if e.Level == LogError {
			stderr.WriteString(e.Message)
		}
	}
	if !strings.Contains(stderr.String(), "panic: panicker: x-panic=boom") {
		t.Fatalf("guest stderr not logged at error: %q", stderr.String())
	}
	mustLog(t, h, "Function: proxy_on_request_headers failed")
	if h.Failed(0) == nil {
		t.Fatal("VM not marked failed")
	}
	res, err = h.Do(context.Background(), Request{Headers: get("/after")}, nil)
	if err != nil || res.LocalReply == nil || res.LocalReply.Status != 503 || res.Upstream {
		t.Fatalf("stream on a failed VM: %+v, %v", res, err)
	}
	if len(logLines(h, "alive")) != 0 {
		t.Fatal("guest called after its VM failed")
	}
}

func TestEnvoy_FailOpenPassesStreamsOfFailedVM(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "panicker", Options{Plugin: PluginConfig{FailOpen: true}})
	if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-panic", "1")}, nil); !errors.Is(err, ErrGuestFailed) {
		t.Fatalf("err = %v", err)
	}
	res, err := h.Do(context.Background(), Request{Headers: get("/after"), Body: []byte("b")}, func(RequestState) Response { return Response{} })
	if err != nil || res.LocalReply != nil || !res.Upstream || string(res.Request.Body) != "b" || !res.Response.Complete {
		t.Fatalf("fail-open stream: %+v, %v", res, err)
	}
}

func TestEnvoy_BadGuestPointerIsInvalidMemoryAccess(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "badptr", Options{})
	for _, kind := range []string{"log", "key", "out"} {
		if _, err := h.Do(context.Background(), Request{Headers: get("/", "x-badptr", kind)}, nil); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		mustLog(t, h, fmt.Sprintf("badptr kind=%s status=6", kind))
	}
	if h.Failed(0) != nil {
		t.Fatalf("VM failed: %v", h.Failed(0))
	}
}

func TestEnvoy_StdoutLogsInfoStderrLogsErrorNewlineStripped(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "chatty", Options{})
	if _, err := h.Do(context.Background(), Request{Headers: get("/")}, nil); err != nil {
		t.Fatal(err)
	}
	var out, errl *LogEntry
	for _, e := range h.Logs() {
		if strings.HasPrefix(e.Message, "chatty stdout phase=request_headers") {
			out = &e
		}
		if strings.HasPrefix(e.Message, "chatty stderr phase=request_headers") {
			errl = &e
		}
	}
	if out == nil || errl == nil || out.Level != LogInfo || errl.Level != LogError || strings.HasSuffix(out.Message, "\n") {
		t.Fatalf("stdout %+v stderr %+v\n%s", out, errl, dumpLogs(h))
	}
}

func TestEnvoy_EnvironmentIsOnlyVMConfigVariables(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "chatty", Options{Plugin: PluginConfig{Environment: map[string]string{"CHATTY_VAR": "x y"}}})
	mustLog(t, h, `env name="CHATTY_VAR" value="x y" set=true`)
	h2 := newTestHost(t, "chatty", Options{Plugin: PluginConfig{Configuration: []byte("PATH")}})
	mustLog(t, h2, `env name="PATH" value="" set=false`)
}

func TestEnvoy_CanaryAndWorkersEachRunStartSequence(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "chatty", Options{Canary: true, Workers: 2})
	starts := logLines(h, "chatty stdout phase=plugin_start")
	if len(starts) != 3 {
		t.Fatalf("plugin starts %d, want canary + 2 workers", len(starts))
	}
	if e := h.Logs()[0]; e.Worker != -1 {
		t.Fatalf("first start not on the canary: %+v", e)
	}
}

func TestEnvoy_SleepingGuestTrapsOnEnvoy133To138(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "sleeper", Options{Plugin: PluginConfig{EnvoyVersion: "1.36"}})
	_, err := h.Do(context.Background(), Request{Headers: get("/")}, nil)
	if !errors.Is(err, ErrGuestFailed) {
		t.Fatalf("err = %v", err)
	}
	mustLog(t, h, "poll_oneoff failed")
	if len(logLines(h, "slept")) != 0 {
		t.Fatal("sleep returned on an ENOSYS host")
	}
}

func TestEnvoy_SleepingGuestBusyPollsOnFixedHost(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "sleeper", Options{Plugin: PluginConfig{EnvoyVersion: "1.39"}})
	// The Go runtime skips poll_oneoff when the 1 ms timer has already expired by the time it looks (the OS
	// descheduled the thread for that long, which a loaded machine does now and then): a few sleeps suffice.
	for i := 0; i < 10 && h.PollOneoffCalls() == 0; i++ {
		if _, err := h.Do(context.Background(), Request{Headers: get("/")}, nil); err != nil {
			t.Fatal(err)
		}
	}
	mustLog(t, h, "slept")
	if h.PollOneoffCalls() == 0 {
		t.Fatal("no poll_oneoff calls while sleeping")
	}
}

func TestEnvoy_GCHeavyGuestNeverPollsUnderSustainedLoadOnEnvoy133(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "gcheavy", Options{Plugin: PluginConfig{EnvoyVersion: "1.33"}})
	const requests = 3000
	for i := 0; i < requests; i++ {
		if _, err := h.Do(context.Background(), Request{Headers: get("/"), Body: []byte("x")}, nil); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if gc, _ := h.Metric("gcheavy.num_gc"); gc == 0 {
		t.Fatal("the Go GC never ran: the test proves nothing")
	}
	if n := h.PollOneoffCalls(); n != 0 || h.Failed(0) != nil {
		t.Fatalf("poll_oneoff calls %d, failure %v", n, h.Failed(0))
	}
}

func TestEnvoy_ModuleRejectedWithoutAllocatorMarkerOrMemory(t *testing.T) {
	t.Parallel()
	rt := testRuntime(t)
	for name, mod := range map[string]struct {
		wasm []byte
		want string
	}{
		"no allocator": {wasmbuild.MinimalModule("memory", "proxy_abi_version_0_2_0", "_initialize"), "missing malloc"},
		"no marker":    {wasmbuild.MinimalModule("memory", "proxy_on_memory_allocate", "_initialize"), "ABI marker"},
		"old abi":      {wasmbuild.MinimalModule("memory", "proxy_on_memory_allocate", "proxy_abi_version_0_1_0"), "0.1.0"},
		"no memory":    {wasmbuild.MinimalModule("proxy_on_memory_allocate", "proxy_abi_version_0_2_0"), "no memory"},
		"not wasm":     {[]byte("hello"), "compiling"},
	} {
		_, err := rt.Load(context.Background(), mod.wasm)
		if !errors.Is(err, ErrInvalidModule) || !strings.Contains(err.Error(), mod.want) {
			t.Errorf("%s: err = %v, want ErrInvalidModule mentioning %q", name, err, mod.want)
		}
	}
}

func TestEnvoy_ModuleWithoutInitializeStartsWithoutIt(t *testing.T) {
	t.Parallel()
	// A module without _initialize/_start whose proxy_on_vm_start answers false (0): the start fails cleanly.
	wasm := wasmbuild.MinimalModule("memory", "proxy_on_memory_allocate", "proxy_abi_version_0_2_0",
		"proxy_on_context_create", "proxy_on_vm_start", "proxy_on_configure")
	m, err := testRuntime(t).Load(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewHost(context.Background(), m, Options{})
	if !errors.Is(err, ErrStartFailed) || !strings.Contains(err.Error(), "proxy_on_vm_start returned false") {
		t.Fatalf("err = %v", err)
	}
}

func TestSecondLoadOfSameModuleIsFast(t *testing.T) {
	t.Parallel()
	wasm := wasmbuild.Build(t, "testdata/guests/empty")
	rt := testRuntime(t)
	if _, err := rt.Load(context.Background(), wasm); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m, err := rt.Load(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("second load took %v, want ≤ 50ms", d)
	}
	if m.ABIVersion() != "0.2.0" {
		t.Fatalf("ABI %q", m.ABIVersion())
	}
}

func TestSleepingGuestUnderFrozenVirtualClockFailsInsteadOfHanging(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "sleeper", Options{Clock: NewVirtualClock(time.Time{})})
	_, err := h.Do(context.Background(), Request{Headers: get("/")}, nil)
	if !errors.Is(err, ErrGuestFailed) || !strings.Contains(err.Error(), "poll_oneoff") {
		t.Fatalf("err = %v", err)
	}
}
