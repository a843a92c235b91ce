package proxy_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim"
	"github.com/eventroute/eventroute/hostsim/mesh"
	"github.com/eventroute/eventroute/hostsim/proxy"
	"github.com/eventroute/eventroute/hostsim/upstream"
	"github.com/eventroute/eventroute/internal/wasmbuild"
)

var (
	runtimeOnce sync.Once
	sharedRT    *hostsim.Runtime
)

func testRuntime(t *testing.T) *hostsim.Runtime {
	runtimeOnce.Do(func() {
		rt, err := hostsim.NewRuntime(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sharedRT = rt
	})
	return sharedRT
}

// start writes a mesh file from text (WASM_<guest> placeholders become built
// guest paths, PORT_<n> free loopback addresses) and starts it.
func start(t *testing.T, text string, concurrency int) *proxy.Server {
	t.Helper()
	srv, err := startErr(t, text, concurrency)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func startErr(t *testing.T, text string, concurrency int) (*proxy.Server, error) {
	t.Helper()
	for _, g := range []string{"headers", "dispatch", "localreply", "body", "trailers", "panicker", "hs-lifecycle"} {
		key := "WASM_" + g + "}"
		if strings.Contains(text, key) {
			text = strings.ReplaceAll(text, key, wasmbuild.BuildFile(t, "testdata/guests/"+g)+"}")
		}
	}
	if strings.Contains(text, "WASM_plugin") {
		text = strings.ReplaceAll(text, "WASM_plugin", wasmbuild.BuildFile(t, "plugin"))
	}
	text = strings.ReplaceAll(text, "LISTEN", "127.0.0.1:0")
	file := filepath.Join(t.TempDir(), "mesh.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := mesh.Load(file)
	if err != nil {
		return nil, err
	}
	return proxy.Start(context.Background(), proxy.Options{Mesh: m, Concurrency: concurrency, Out: io.Discard, Runtime: testRuntime(t)})
}

func recorder(t *testing.T, srv *proxy.Server, name string) *upstream.Recorder {
	t.Helper()
	for _, c := range srv.Clusters() {
		if c.Name() == name && c.Recorder() != nil {
			return c.Recorder()
		}
	}
	t.Fatalf("no recorder %s", name)
	return nil
}

func do(t *testing.T, srv *proxy.Server, method, host, path string, headers map[string]string, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+srv.ListenAddr()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServe_RouteIsChosenAfterThePluginChangedHeaders(t *testing.T) {
	t.Parallel()
	srv := start(t, `listen: LISTEN
plugins:
  - {name: headers, wasm: WASM_headers}
routes:
  - match: {authority: b.example}
    cluster: b
  - match: {prefix: /}
    cluster: a
clusters:
  a: {recorder: true}
  b: {recorder: true}
`, 2)
	resp, _ := do(t, srv, "POST", "a.example", "/x", map[string]string{"x-op": "replace::authority=b.example,add:x-added=1"}, "payload")
	if resp.StatusCode != 202 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	got := recorder(t, srv, "b").Requests()
	if len(got) != 1 || got[0].Authority != "b.example" || got[0].Header("x-added") != "1" || string(got[0].Body) != "payload" {
		t.Fatalf("b received %+v", got)
	}
	if n := recorder(t, srv, "a").Total(); n != 0 {
		t.Errorf("a received %d requests", n)
	}
	// Without the rewrite the same request takes the default route.
	do(t, srv, "GET", "a.example", "/y", nil, "")
	if n := recorder(t, srv, "a").Total(); n != 1 {
		t.Errorf("a received %d requests, want 1", n)
	}
}

func TestServe_DispatchGoesToTheClusterRealAddress(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.Host+r.URL.Path+" "+r.Header.Get("x-guest"))
		mu.Unlock()
		w.WriteHeader(207)
	}))
	defer up.Close()
	dead := deadAddress(t)
	srv := start(t, fmt.Sprintf(`listen: LISTEN
plugins:
  - {name: dispatch, wasm: WASM_dispatch}
routes:
  - match: {prefix: /}
    cluster: sink
clusters:
  svc: {endpoints: [%q, %q]}
  sink: {recorder: true}
`, dead, strings.TrimPrefix(up.URL, "http://")), 1)
	for range 3 {
		resp, _ := do(t, srv, "GET", "front", "/", map[string]string{"x-cluster": "svc", "x-call-path": "/hook"}, "")
		if resp.StatusCode != 202 {
			t.Fatalf("status = %d", resp.StatusCode)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) != 3 || calls[0] != "GET svc/hook dispatch" {
		t.Errorf("upstream calls = %q", calls)
	}
	for _, rec := range recorder(t, srv, "sink").Requests() {
		if got := rec.Header("x-dispatch-status"); got != "207" {
			t.Errorf("request forwarded with x-dispatch-status %q, want 207 (dead endpoint skipped)", got)
		}
	}
}

func TestServe_LocalReplyNeverReachesUpstreamAndPluginSeesIt(t *testing.T) {
	t.Parallel()
	srv := start(t, `listen: LISTEN
plugins:
  - {name: localreply, wasm: WASM_localreply}
routes:
  - match: {prefix: /}
    cluster: up
clusters:
  up: {recorder: true}
`, 1)
	resp, body := do(t, srv, "POST", "x", "/", map[string]string{"x-status": "418"}, "ignored")
	if resp.StatusCode != 418 || body != "local reply from guest\n" || resp.Header.Get("x-local-reply") != "guest" {
		t.Errorf("reply = %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if n := recorder(t, srv, "up").Total(); n != 0 {
		t.Errorf("upstream received %d requests", n)
	}
	seen := false
	for _, e := range srv.Hosts()[0].Logs() {
		seen = seen || strings.Contains(e.Message, "own_reply=true")
	}
	if !seen {
		t.Errorf("plugin did not see its own reply on the response path")
	}
}

func TestServe_BodyArrivesInChunksAndIsForwardedWhole(t *testing.T) {
	t.Parallel()
	srv := start(t, `listen: LISTEN
plugins:
  - {name: body, wasm: WASM_body}
routes:
  - match: {prefix: /}
    cluster: up
clusters:
  up: {recorder: true}
`, 1)
	big := strings.Repeat("0123456789abcdef", 5000) // 80,000 bytes: several 16 KiB chunks
	resp, _ := do(t, srv, "POST", "x", "/", map[string]string{"x-body-op": "append:!"}, big)
	if resp.StatusCode != 202 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	got := recorder(t, srv, "up").Requests()
	if len(got) != 1 || string(got[0].Body) != big+"!" {
		t.Fatalf("forwarded body of %d bytes", len(got[0].Body))
	}
	chunks := 0
	for _, e := range srv.Hosts()[0].Logs() {
		if strings.HasPrefix(e.Message, "body_chunk dir=request") {
			chunks++
		}
	}
	if chunks < 2 {
		t.Errorf("plugin saw %d partial body callbacks, want the body streamed in several", chunks)
	}
}

func TestServe_RequestTrailersReachThePlugin(t *testing.T) {
	t.Parallel()
	srv := start(t, `listen: LISTEN
plugins:
  - {name: trailers, wasm: WASM_trailers}
routes:
  - match: {prefix: /}
    cluster: up
clusters:
  up: {recorder: true}
`, 1)
	// A body of unknown length goes chunked, with the announced trailer after it.
	req, err := http.NewRequest("POST", "http://"+srv.ListenAddr()+"/", io.NopCloser(strings.NewReader("chunked body")))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Trailer = http.Header{"X-Checksum": {"abc"}}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var logs []string
	for _, e := range srv.Hosts()[0].Logs() {
		logs = append(logs, e.Message)
	}
	all := strings.Join(logs, "\n")
	if !strings.Contains(all, `trailer dir=request name="x-checksum" value="abc"`) {
		t.Errorf("plugin did not see the request trailer; logs:\n%s", all)
	}
	if got := recorder(t, srv, "up").Requests(); len(got) != 1 || string(got[0].Body) != "chunked body" {
		t.Errorf("upstream received %+v", got)
	}
}

func TestServe_ChainRunsPluginsInOrder(t *testing.T) {
	t.Parallel()
	srv := start(t, `listen: LISTEN
plugins:
  - {name: headers, wasm: WASM_headers}
  - {name: body, wasm: WASM_body}
  - {name: localreply, wasm: WASM_localreply}
routes:
  - match: {authority: b.example}
    cluster: b
  - match: {prefix: /}
    cluster: a
clusters:
  a: {recorder: true}
  b: {recorder: true}
`, 2)
	// The first plugin rewrites the authority, the second the body; the third lets it pass (x-skip).
	resp, _ := do(t, srv, "POST", "a.example", "/", map[string]string{
		"x-op": "replace::authority=b.example", "x-body-op": "append:!", "x-skip": "1"}, strings.Repeat("x", 40000))
	if resp.StatusCode != 202 {
		t.Fatalf("status = %d", resp.StatusCode)
	}
	got := recorder(t, srv, "b").Requests()
	if len(got) != 1 || string(got[0].Body) != strings.Repeat("x", 40000)+"!" {
		t.Fatalf("b received %d requests", len(got))
	}
	// The last plugin's local reply goes back through the earlier plugins' response path.
	resp, body := do(t, srv, "GET", "a.example", "/", map[string]string{"x-status": "418"}, "")
	if resp.StatusCode != 418 || body != "local reply from guest\n" {
		t.Fatalf("reply = %d %q", resp.StatusCode, body)
	}
	seen := false
	for _, e := range srv.Hosts()[0].Logs() {
		seen = seen || strings.Contains(e.Message, `header map=response name=":status" value="418"`)
	}
	if !seen {
		t.Errorf("the first plugin did not see the local reply of the last one")
	}
	if n := recorder(t, srv, "a").Total(); n != 0 {
		t.Errorf("a received %d requests", n)
	}
}

func TestServe_PluginResetClosesTheConnection(t *testing.T) {
	t.Parallel()
	srv := start(t, `listen: LISTEN
plugins:
  - {name: lifecycle, wasm: WASM_hs-lifecycle}
routes:
  - match: {prefix: /}
    cluster: up
clusters:
  up: {recorder: true}
`, 1)
	req, _ := http.NewRequest("GET", "http://"+srv.ListenAddr()+"/", nil)
	req.Header.Set("x-close", "1")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("reset stream answered %d", resp.StatusCode)
	}
	if n := recorder(t, srv, "up").Total(); n != 0 {
		t.Errorf("upstream received %d requests", n)
	}
	if resp, _ := do(t, srv, "GET", "x", "/", nil, ""); resp.StatusCode != 202 {
		t.Errorf("next request: %d", resp.StatusCode)
	}
}

func TestServe_FailedVMAnswers503UnlessFailOpen(t *testing.T) {
	t.Parallel()
	for _, failOpen := range []bool{false, true} {
		t.Run(fmt.Sprint("failOpen=", failOpen), func(t *testing.T) {
			srv := start(t, fmt.Sprintf(`listen: LISTEN
plugins:
  - {name: panicker, failOpen: %v, wasm: WASM_panicker}
routes:
  - match: {prefix: /}
    cluster: up
clusters:
  up: {recorder: true}
`, failOpen), 1)
			want := 503
			if failOpen {
				want = 202
			}
			do(t, srv, "GET", "x", "/", map[string]string{"x-panic": "boom"}, "")
			for range 2 {
				if resp, _ := do(t, srv, "GET", "x", "/after", nil, ""); resp.StatusCode != want {
					t.Errorf("request after the trap: %d, want %d", resp.StatusCode, want)
				}
			}
		})
	}
}

func TestStart_ErrorsNameTheCause(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	base := `listen: LISTEN
plugins:
  - {name: headers, wasm: WASM_headers}
routes:
  - match: {prefix: /}
    cluster: up
clusters:
  up: {recorder: true}
`
	cases := []struct {
		name, text, want string
	}{
		{"port in use", strings.Replace(base, "listen: LISTEN", "listen: "+busy.Addr().String(), 1), "mesh.yaml:1: listen: listen tcp " + busy.Addr().String() + ": bind: address already in use"},
		{"missing wasm", strings.Replace(base, "WASM_headers}", "/nonexistent/p.wasm}", 1), "mesh.yaml:3: plugins[0].wasm: open /nonexistent/p.wasm: no such file or directory"},
		{"unreachable cluster", strings.Replace(base, "up: {recorder: true}", "up: {address: "+deadAddress(t)+"}", 1), `mesh.yaml:8: clusters.up: cluster "up": no endpoint reachable`},
		{"not wasm", strings.Replace(base, "WASM_headers}", "/etc/hostname}", 1), "mesh.yaml:3: plugins[0].wasm: "},
		{"plugin fails to start", strings.Replace(base, "{name: headers, wasm: WASM_headers}", "{name: er, wasm: WASM_plugin, configInline: {routes: []}}", 1),
			"mesh.yaml:3: plugins[0] (er): plugin failed to start: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := startErr(t, c.text, 1)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want %q", err, c.want)
			}
			var me *mesh.Error
			if !errors.As(err, &me) {
				t.Errorf("error %v is not a *mesh.Error", err)
			}
		})
	}
}

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

func TestReconfigure_RefusedConfigKeepsTheOldOne(t *testing.T) {
	t.Parallel()
	good := `{"subscribers": {"a": {"cluster": "a"}}, "mirrors": [{"name": "all", "match": [], "to": ["a"]}]}`
	text := `listen: LISTEN
plugins:
  - name: er
    wasm: WASM_plugin
    configInline: 'CONFIG'
routes:
  - match: {prefix: /}
    cluster: up
clusters:
  a: {recorder: true}
  up: {recorder: true}
`
	srv := start(t, strings.Replace(text, "CONFIG", good, 1), 1)
	reparse := func(config string) *mesh.Mesh {
		t.Helper()
		file := filepath.Join(t.TempDir(), "mesh.yaml")
		text := strings.NewReplacer("CONFIG", config, "WASM_plugin", "unused.wasm", "LISTEN", "127.0.0.1:0").Replace(text)
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := mesh.Load(file)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	if applied, err := srv.Reconfigure(context.Background(), reparse(good)); err != nil || len(applied) != 0 {
		t.Errorf("unchanged config: applied %v, err %v", applied, err)
	}
	applied, err := srv.Reconfigure(context.Background(), reparse(`{"subscribers": {}}`))
	if !errors.Is(err, hostsim.ErrConfigRejected) || len(applied) != 0 || !strings.Contains(err.Error(), "mesh.yaml:3: plugins[0] (er)") {
		t.Fatalf("bad config: applied %v, err %v", applied, err)
	}
	event := map[string]string{"ce-specversion": "1.0", "ce-id": "1", "ce-source": "s", "ce-type": "t"}
	do(t, srv, "POST", "x", "/", event, "{}")
	// The plugin sends mirrors from its timer, shortly after the request.
	for deadline := time.Now().Add(5 * time.Second); recorder(t, srv, "a").Total() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if n := recorder(t, srv, "a").Total(); n != 1 {
		t.Errorf("after a refused config the old one should mirror: a received %d", n)
		for _, m := range srv.Hosts()[0].Metrics() {
			if m.Value > 0 {
				t.Logf("metric %s = %d", m.Name, m.Value)
			}
		}
		for _, e := range srv.Hosts()[0].Logs() {
			t.Logf("log %s: %s", e.Level, e.Message)
		}
	}
	noMirror := `{"subscribers": {"a": {"cluster": "a"}}, "routes": [{"name": "r", "match": [{"exact": {"type": "t"}}], "to": "a"}]}`
	if applied, err := srv.Reconfigure(context.Background(), reparse(noMirror)); err != nil || len(applied) != 1 {
		t.Fatalf("good config: applied %v, err %v", applied, err)
	}
	do(t, srv, "POST", "x", "/", event, "{}")
	if got := recorder(t, srv, "up").Requests(); len(got) != 2 || got[1].Header("x-eventroute-subscriber") != "a" {
		t.Errorf("after the new config the event should be routed for a: %+v", got)
	}
}
