package hostsim

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/eventroute/eventroute/internal/wasmbuild"
)

// sharedRuntime is the one Runtime of this test binary.
var sharedRuntime = sync.OnceValues(func() (*Runtime, error) { return NewRuntime(context.Background()) })

// testRuntime returns the shared runtime.
func testRuntime(tb testing.TB) *Runtime {
	tb.Helper()
	rt, err := sharedRuntime()
	if err != nil {
		tb.Fatalf("NewRuntime: %v", err)
	}
	return rt
}

// loadGuest builds testdata/guests/<name> (cached) and loads it.
func loadGuest(tb testing.TB, name string) *Module {
	tb.Helper()
	wasm := wasmbuild.Build(tb, "testdata/guests/"+name)
	m, err := testRuntime(tb).Load(context.Background(), wasm)
	if err != nil {
		tb.Fatalf("Load %s: %v", name, err)
	}
	return m
}

// newTestHost starts a Host for guest name with options o and closes it at the end of the test.
func newTestHost(tb testing.TB, name string, o Options) *Host {
	tb.Helper()
	h, err := NewHost(context.Background(), loadGuest(tb, name), o)
	if err != nil {
		tb.Fatalf("NewHost(%s): %v", name, err)
	}
	tb.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

// get is a GET request's headers for path.
func get(path string, extra ...string) Headers {
	h := Headers{{":authority", "example.com"}, {":path", path}, {":method", "GET"}, {":scheme", "http"}}
	for i := 0; i+1 < len(extra); i += 2 {
		h = append(h, [2]string{extra[i], extra[i+1]})
	}
	return h
}

// post is a POST request's headers for path.
func post(path string, extra ...string) Headers {
	h := get(path, extra...)
	h[2][1] = "POST"
	return h
}

// logLines returns the messages logged at level info or above that start with prefix.
func logLines(h *Host, prefix string) []string {
	var out []string
	for _, e := range h.Logs() {
		if strings.HasPrefix(e.Message, prefix) {
			out = append(out, e.Message)
		}
	}
	return out
}

// mustLog fails unless some log message contains want.
func mustLog(tb testing.TB, h *Host, want string) {
	tb.Helper()
	for _, e := range h.Logs() {
		if strings.Contains(e.Message, want) {
			return
		}
	}
	tb.Fatalf("no log line contains %q; logs:\n%s", want, dumpLogs(h))
}

func dumpLogs(h *Host) string {
	var sb strings.Builder
	for _, e := range h.Logs() {
		sb.WriteString(e.Level.String() + " [" + itoa(e.Worker) + "] " + e.Message + "\n")
	}
	return sb.String()
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestRetainedLogsAreBounded(t *testing.T) {
	t.Parallel()
	var s []int
	for i := 0; i < 1000; i++ {
		s = appendRetained(s, i, 10)
	}
	if len(s) < 10 || len(s) > 20 || s[len(s)-1] != 999 || s[len(s)-10] != 990 {
		t.Fatalf("retained %v", s)
	}
}

// TestRetainedDispatchBodiesAreBounded: dispatch records are also dropped
// by the size of their bodies, newest kept, so large bodies cannot make a
// long run hold gigabytes.
func TestRetainedDispatchBodiesAreBounded(t *testing.T) {
	t.Parallel()
	h := newTestHost(t, "dispatch", Options{RetainBodyBytes: 4000, Clusters: map[string]Cluster{"svc": okCluster("")}})
	for i := 0; i < 50; i++ {
		body := strings.Repeat(string(rune('a'+i%26)), 999) + itoa(i%10)
		if _, err := h.Do(context.Background(), dispatchReq("svc", "x-call-body", body), nil); err != nil {
			t.Fatal(err)
		}
	}
	d := h.Dispatches()
	total := 0
	for _, r := range d {
		total += len(r.Body)
	}
	if len(d) == 0 || total > 4000 || string(d[len(d)-1].Body[998:]) != "x9" {
		t.Fatalf("%d records hold %d body bytes; newest ends %q", len(d), total, d[len(d)-1].Body[998:])
	}
}

// logIndex returns the position of the first log line containing want at or after from, or -1.
func logIndex(h *Host, from int, want string) int {
	logs := h.Logs()
	for i := from; i < len(logs); i++ {
		if strings.Contains(logs[i].Message, want) {
			return i
		}
	}
	return -1
}
