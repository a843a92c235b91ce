package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/eventroute/eventroute/hostsim/admin"
	"github.com/eventroute/eventroute/internal/wasmbuild"
)

// binDir holds the hostsim binary built for this test run (removed by TestMain).
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hostsim-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildHostsim compiles this command once per test binary.
var buildHostsim = sync.OnceValues(func() (string, error) {
	bin := filepath.Join(binDir, "hostsim")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		goTool = "go"
	}
	out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// upstreamServer is a real HTTP service that records what it receives.
type upstreamServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

type received struct {
	host, path string
	header     http.Header
	body       string
}

func newUpstream(t *testing.T, status int) *upstreamServer {
	u := &upstreamServer{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.reqs = append(u.reqs, received{host: r.Host, path: r.URL.Path, header: r.Header.Clone(), body: string(b)})
		u.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstreamServer) received() []received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]received(nil), u.reqs...)
}

func (u *upstreamServer) addr() string { return strings.TrimPrefix(u.URL, "http://") }

// serve starts `hostsim serve` as a subprocess and waits until /ready.
func serve(t *testing.T, meshText string) (stdout *syncBuffer, cmd *exec.Cmd) {
	t.Helper()
	bin, err := buildHostsim()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "mesh.yaml")
	if err := os.WriteFile(file, []byte(meshText), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(bin, "serve", "-c", file, "--concurrency", "2")
	stdout = &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return stdout, cmd
}

func waitReady(t *testing.T, adminAddr string, out *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + adminAddr + "/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("hostsim not ready; output:\n%s", out.String())
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
}

// prometheus returns the samples of /stats/prometheus by name.
func prometheus(t *testing.T, adminAddr string) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + adminAddr + "/stats/prometheus")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]string{}
	line := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})?) (\S+)$`)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			t.Errorf("invalid exposition line %q", sc.Text())
			continue
		}
		out[m[1]] = m[3]
	}
	return out
}

func TestE2E_ServeRoutesAndMirrorsEventsThroughThePlugin(t *testing.T) {
	wasm := wasmbuild.BuildFile(t, "plugin")
	root := wasmbuild.ModuleRoot(t)
	accounts := newUpstream(t, 200)
	orig := newUpstream(t, 204)
	listen, adminAddr := freeAddr(t), freeAddr(t)
	out, cmd := serve(t, fmt.Sprintf(`listen: %s
admin: %s
principal: spiffe://cluster.local/ns/bank/sa/core
plugins:
  - name: eventroute
    wasm: %s
    config: %s
    allowOnHeadersStopIteration: true
routes:
  - match: {authority: accounts.bank.svc.cluster.local}
    cluster: accounts
  - match: {prefix: /}
    cluster: default
clusters:
  accounts: {address: %s}
  audit: {recorder: true}
  dlq: {recorder: true}
  default: {endpoints: [%s, %s]}
`, listen, adminAddr, wasm, filepath.Join(root, "testdata/config/demo.json"), accounts.addr(), freeAddr(t), orig.addr()))
	waitReady(t, adminAddr, out)

	// 1. Binary-mode 转账 with net/http: routed to accounts, mirrored to audit.
	req, _ := http.NewRequest("POST", "http://"+listen+"/events", strings.NewReader(`{"amount":250}`))
	req.Host = "bank.example"
	req.Header.Set("ce-specversion", "1.0")
	req.Header.Set("ce-id", "t-1")
	req.Header.Set("ce-source", "Bank")
	req.Header.Set("ce-type", "转账")
	req.Header.Set("content-type", "application/json")
	req.Header.Set("x-eventroute-subscriber", "spoofed")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("binary event: status %d; output:\n%s", resp.StatusCode, out.String())
	}

	// 2. Structured-mode 转账 with the CloudEvents SDK: routed to accounts too.
	client, err := cloudevents.NewClientHTTP(cloudevents.WithTarget("http://" + listen + "/events"))
	if err != nil {
		t.Fatal(err)
	}
	ev := cloudevents.NewEvent()
	ev.SetID("t-2")
	ev.SetSource("Bank")
	ev.SetType("转账")
	ev.SetSubject("Account")
	if err := ev.SetData(cloudevents.ApplicationJSON, map[string]int{"amount": 1200}); err != nil {
		t.Fatal(err)
	}
	ctx := cloudevents.WithEncodingStructured(context.Background())
	if res := client.Send(ctx, ev); !cloudevents.IsACK(res) {
		t.Fatalf("structured event: %v; output:\n%s", res, out.String())
	}

	// 3. A request that is not an event goes to the default cluster (dead endpoint skipped).
	resp, err = http.Get("http://" + listen + "/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Errorf("plain GET: status %d, want the default upstream's 204", resp.StatusCode)
	}

	// 4. An invalid event is rejected with problem+json and reaches nobody.
	resp, err = http.Post("http://"+listen+"/events", "application/cloudevents+json",
		strings.NewReader(`{"specversion":"1.0","id":"bad","type":"转账"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(resp.Header.Get("content-type"), "problem+json") || !strings.Contains(string(body), "source") {
		t.Errorf("invalid event: %d %s %q", resp.StatusCode, resp.Header.Get("content-type"), body)
	}

	// What the real accounts service received: both transfers, rewritten for it.
	got := accounts.received()
	if len(got) != 2 {
		t.Fatalf("accounts received %d requests, want 2; output:\n%s", len(got), out.String())
	}
	for _, r := range got {
		if r.host != "accounts.bank.svc.cluster.local" || r.path != "/events" || r.header.Get("x-eventroute-subscriber") != "accounts" {
			t.Errorf("accounts received host=%s path=%s subscriber=%q", r.host, r.path, r.header.Get("x-eventroute-subscriber"))
		}
	}
	if got[0].header.Get("ce-type") != "转账" || got[0].body != `{"amount":250}` {
		t.Errorf("binary event arrived as %v %q", got[0].header, got[0].body)
	}
	if !strings.Contains(got[1].body, `"id":"t-2"`) {
		t.Errorf("structured event arrived as %q", got[1].body)
	}
	if n := len(orig.received()); n != 1 {
		t.Errorf("default upstream received %d requests, want 1", n)
	}

	// What the audit recorder received: a structured copy of each valid event.
	var page admin.RecorderPage
	deadline := time.Now().Add(5 * time.Second)
	for getJSON(t, "http://"+adminAddr+"/recorded/audit", &page); page.Total < 2 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		getJSON(t, "http://"+adminAddr+"/recorded/audit", &page)
	}
	if page.Total != 2 {
		t.Fatalf("audit received %d copies, want 2; output:\n%s", page.Total, out.String())
	}
	var copies string
	for i, r := range page.Requests {
		copies += r.Body
		if !strings.Contains(r.Body, `"type":"转账"`) {
			t.Errorf("audit copy %d = %q", i, r.Body)
		}
		if hop := headerOf(r.Headers, "x-eventroute-hop"); hop != "1" {
			t.Errorf("audit copy %d hop header = %q", i, hop)
		}
	}
	for _, id := range []string{"t-1", "t-2"} { // mirrors are asynchronous: any order
		if !strings.Contains(copies, `"id":"`+id+`"`) {
			t.Errorf("audit has no copy of %s: %s", id, copies)
		}
	}
	// The summary line is printed by the serving process after it answered, so
	// it may reach the pipe a moment after the recorder page shows the copy.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "recorder audit #2 POST") &&
		time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "recorder audit #2 POST") {
		t.Errorf("no recorder summary line in output:\n%s", out.String())
	}

	// The plugin's metrics, as Prometheus sees them.
	// The plugin counts a delivery when its callback runs, just after the recorder answered.
	m := prometheus(t, adminAddr)
	for deadline := time.Now().Add(5 * time.Second); m["eventroute_subscriber_audit_delivered"] != "2" && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		m = prometheus(t, adminAddr)
	}
	for name, want := range map[string]string{
		"eventroute_requests":                                                      "4",
		"eventroute_events_binary":                                                 "1",
		"eventroute_events_structured":                                             "1", // the invalid event counts as invalid only
		"eventroute_events_invalid":                                                "1",
		"eventroute_route_transfers_matched":                                       "2",
		"eventroute_spoofed_header_removed":                                        "1",
		"eventroute_subscriber_audit_delivered":                                    "2",
		"eventroute_subscriber_audit_latency_ms_count":                             "2",
		`envoy_http_downstream_rq_total{envoy_http_conn_manager_prefix="hostsim"}`: "4",
	} {
		if m[name] != want {
			t.Errorf("%s = %q, want %s", name, m[name], want)
		}
	}

	// Graceful shutdown on SIGTERM.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("exit after SIGTERM: %v; output:\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "shutting down") {
		t.Errorf("no shutdown line:\n%s", out.String())
	}
}

func headerOf(h [][2]string, name string) string {
	for _, kv := range h {
		if strings.EqualFold(kv[0], name) {
			return kv[1]
		}
	}
	return ""
}

func TestE2E_BadMeshExitsWithOneLine(t *testing.T) {
	bin, err := buildHostsim()
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "mesh.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:0\nroutes: []\nclusters:\n  a: {recorder: true, colour: red}\n"), 0o644)
	out, err := exec.Command(bin, "serve", "-c", file).CombinedOutput()
	if code := exitCode(err); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	want := "hostsim: " + file + `:4: clusters.a: unknown key "colour"`
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], want) {
		t.Errorf("output %q, want one line starting %q", out, want)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestE2E_ReplayOncePrintsTheDemoMatrix runs what `make run ARGS=--once` runs,
// on the repository's demo meshes (both Envoy host behaviours) and scenario,
// with free ports.
func TestE2E_ReplayOncePrintsTheDemoMatrix(t *testing.T) {
	type cell struct{ row, col, want string }
	common := []cell{
		{"转账 binary", "reply", "202×5"},
		{"转账 binary", "accounts", "5"}, // binary: routed from headers on every host
		{"转账 binary", "audit", "5"},
		{"转账 batch (2 events)", "audit", "10"}, // mirrored per event
		{"开户 (audit mirror only)", "accounts", "·"},
		{"开户 (audit mirror only)", "audit", "5"},
		{"开户 (audit mirror only)", "default", "5"},
		{"invalid (no source)", "reply", "400"},
		{"invalid (no source)", "audit", "·"},
		{"plain GET (not an event)", "default", "1"},
	}
	for _, c := range []struct {
		mesh  string
		cells []cell
	}{
		{"demo.yaml", append([]cell{ // the host holds headers: body-derived routes work
			{"转账 structured", "accounts", "5"},
			{"转账 structured", "default", "·"},
			{"转账 batch (2 events)", "accounts", "5"},
		}, common...)},
		{"demo-default-host.yaml", append([]cell{ // no hold: recognized and mirrored, not routed
			{"转账 structured", "accounts", "·"},
			{"转账 structured", "default", "5"},
			{"转账 structured", "audit", "5"},
			{"转账 batch (2 events)", "default", "5"},
		}, common...)},
	} {
		t.Run(c.mesh, func(t *testing.T) {
			rows, out := replayOnce(t, c.mesh)
			header := rows["request"]
			if strings.Join(header, ",") != "reply,accounts,audit,dlq,default" {
				t.Fatalf("matrix header %q; output:\n%s", header, out)
			}
			for _, want := range c.cells {
				got := ""
				for i, h := range header {
					if h == want.col && i < len(rows[want.row]) {
						if f := strings.Fields(rows[want.row][i]); len(f) > 0 {
							got = f[0]
						}
					}
				}
				if got != want.want {
					t.Errorf("%s × %s = %q, want %q", want.row, want.col, got, want.want)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// replayOnce runs `hostsim replay --once` on testdata/mesh/<mesh> with free
// ports and the freshly built plugin, and returns the matrix rows by label.
func replayOnce(t *testing.T, meshName string) (map[string][]string, []byte) {
	t.Helper()
	wasm := wasmbuild.BuildFile(t, "plugin")
	root := wasmbuild.ModuleRoot(t)
	bin, err := buildHostsim()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := os.ReadFile(filepath.Join(root, "testdata/mesh", meshName))
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer("127.0.0.1:10000", freeAddr(t), "127.0.0.1:9901", freeAddr(t),
		"build/eventroute.wasm", wasm).Replace(string(demo))
	file := filepath.Join(t.TempDir(), meshName)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "replay", "-c", file, "-s", "testdata/demo/scenario.yaml", "--once")
	cmd.Dir = root // the mesh names the plugin config relative to the repository root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s", err, out)
	}
	rows := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		cells := regexp.MustCompile(`\s{3,}`).Split(strings.TrimSpace(line), -1)
		if len(cells) > 1 {
			rows[cells[0]] = cells[1:]
		}
	}
	return rows, out
}

func TestE2E_UsageErrorsExitWith2(t *testing.T) {
	bin, err := buildHostsim()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{}, {"serve"}, {"serve", "-c", "m.yaml", "--concurrency", "0"}, {"replay", "-c", "m.yaml"}, {"frobnicate"}} {
		out, err := exec.Command(bin, args...).CombinedOutput()
		if code := exitCode(err); code != 2 || !strings.Contains(string(out), "usage:") {
			t.Errorf("hostsim %q: exit %d, output %q", args, code, out)
		}
	}
	out, err := exec.Command(bin, "load", "-url", "http://192.0.2.1:80/", "-d", "1s").CombinedOutput()
	if code := exitCode(err); code != 1 || !strings.Contains(string(out), "not a loopback address") {
		t.Errorf("load to a remote address: exit %d, output %q", code, out)
	}
}
