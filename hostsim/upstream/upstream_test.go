package upstream_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim/upstream"
)

func TestRecorder_Answers202AndKeepsTheLastRequests(t *testing.T) {
	var out strings.Builder
	r := upstream.NewRecorder("audit", &out, 3)
	c := upstream.NewRecorderCluster("audit", r)
	for i := range 5 {
		resp := c.Do(context.Background(), upstream.Request{Method: "POST", Authority: "audit", Path: "/e",
			Headers: [][2]string{{"content-type", "application/json"}}, Body: []byte{'a' + byte(i)}})
		if resp.Status != http.StatusAccepted {
			t.Fatalf("status = %d", resp.Status)
		}
	}
	got := r.Requests()
	if len(got) != 3 || string(got[0].Body) != "c" || string(got[2].Body) != "e" || got[2].Seq != 5 {
		t.Errorf("kept = %+v", got)
	}
	if r.Total() != 5 {
		t.Errorf("total = %d", r.Total())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[0], "recorder audit #1 POST audit/e application/json 1B") {
		t.Errorf("summary lines = %q", lines)
	}
}

func TestCluster_RoundRobinSkipsRefusingEndpoint(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	handler := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			seen[name]++
			mu.Unlock()
			w.Header().Set("x-from", name)
			w.WriteHeader(201)
			w.Write(append([]byte(r.Host+r.URL.Path+":"), body...))
		}
	}
	a := httptest.NewServer(handler("a"))
	defer a.Close()
	b := httptest.NewServer(handler("b"))
	defer b.Close()
	dead := deadAddress(t)
	c := upstream.NewEndpoints("svc", []string{strings.TrimPrefix(a.URL, "http://"), dead, strings.TrimPrefix(b.URL, "http://")},
		time.Second, upstream.NewTransport())
	for range 9 {
		resp := c.Do(context.Background(), upstream.Request{Method: "POST", Authority: "svc.local", Path: "/p", Body: []byte("x")})
		if resp.Status != 201 || string(resp.Body) != "svc.local/p:x" {
			t.Fatalf("response = %d %q (%s)", resp.Status, resp.Body, resp.Failure)
		}
	}
	if seen["a"] < 3 || seen["b"] < 3 || seen["a"]+seen["b"] != 9 {
		t.Errorf("balance = %v", seen)
	}
	var fails uint64
	for _, e := range c.Endpoints() {
		if e.Address == dead {
			fails = e.ConnectFail
			if e.Healthy {
				t.Errorf("dead endpoint reported healthy")
			}
		}
	}
	if fails != 1 {
		t.Errorf("dead endpoint connect failures = %d, want 1 (then skipped)", fails)
	}
}

func TestCluster_EnvoyMadeFailures(t *testing.T) {
	c := upstream.NewEndpoints("down", []string{deadAddress(t)}, time.Second, upstream.NewTransport())
	resp := c.Do(context.Background(), upstream.Request{Method: "GET", Authority: "down", Path: "/"})
	if resp.Status != 503 || resp.Failure != "connect" || !strings.HasPrefix(string(resp.Body), "upstream connect error") {
		t.Errorf("connect failure = %d %s %q", resp.Status, resp.Failure, resp.Body)
	}
	if err := c.Probe(context.Background()); err == nil || !strings.Contains(err.Error(), `cluster "down": no endpoint reachable`) {
		t.Errorf("probe = %v", err)
	}

	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	c = upstream.NewEndpoints("slow", []string{strings.TrimPrefix(slow.URL, "http://")}, 50*time.Millisecond, upstream.NewTransport())
	resp = c.Do(context.Background(), upstream.Request{Method: "GET", Authority: "slow", Path: "/"})
	if resp.Status != 504 || string(resp.Body) != "upstream request timeout" {
		t.Errorf("timeout = %d %q", resp.Status, resp.Body)
	}
}

// deadAddress returns a loopback address nothing listens on.
func deadAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestNewRequestSplitsPseudoHeaders(t *testing.T) {
	req := upstream.NewRequest([][2]string{{":method", "POST"}, {":path", "/events"}, {":authority", "audit"},
		{":scheme", "http"}, {"content-type", "application/json"}}, []byte("{}"))
	if req.Method != "POST" || req.Path != "/events" || req.Authority != "audit" || string(req.Body) != "{}" {
		t.Fatalf("request %+v", req)
	}
	if len(req.Headers) != 1 || req.Headers[0] != [2]string{"content-type", "application/json"} {
		t.Fatalf("headers %v: want only the regular header", req.Headers)
	}
}
