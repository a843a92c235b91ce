package admin_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/hostsim/admin"
	"github.com/eventroute/eventroute/hostsim/upstream"
)

var sample = []admin.Stat{
	{Name: "wasmcustom.eventroute.requests", Type: admin.Counter, Value: 7},
	{Name: "wasmcustom.eventroute.route.转账.matched", Type: admin.Counter, Value: 2},
	{Name: "wasmcustom.eventroute.route.a-b.matched", Type: admin.Counter, Value: 1},
	{Name: "wasmcustom.eventroute.route.a.b.matched", Type: admin.Counter, Value: 4},
	{Name: "wasmcustom.eventroute.subscriber.audit.latency_ms", Type: admin.Histogram, Samples: []uint64{1, 3, 700}},
	{Name: "wasmcustom.pending", Type: admin.Gauge, Value: 3},
	{Name: "server.memory_allocated", Type: admin.Gauge, Value: 1024},
	{Name: "cluster.audit.upstream_rq_total", Type: admin.Counter, Value: 4},
	{Name: "cluster.accounts.upstream_rq_total", Type: admin.Counter, Value: 9},
	{Name: "cluster.upstream_rq_total_x", Type: admin.Counter, Value: 1},
}

func TestEnvoyText_WasmcustomNames(t *testing.T) {
	got := string(admin.EnvoyText(sample))
	for _, want := range []string{
		"wasmcustom.eventroute.requests: 7\n",
		"wasmcustom.eventroute.route.转账.matched: 2\n",
		"server.memory_allocated: 1024\n",
		"wasmcustom.eventroute.subscriber.audit.latency_ms: P0(1,1) P25(1,1) P50(3,3)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/stats lacks %q:\n%s", want, got)
		}
	}
}

// exposition checks the Prometheus text format: every sample belongs to a
// family declared once by # TYPE before it, names are valid.
func exposition(t *testing.T, text string) map[string]string {
	t.Helper()
	typeLine := regexp.MustCompile(`^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$`)
	sampleLine := regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? (-?[0-9]+)$`)
	declared := map[string]string{}
	values := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if m := typeLine.FindStringSubmatch(line); m != nil {
			if _, dup := declared[m[1]]; dup {
				t.Errorf("family %s declared twice", m[1])
			}
			declared[m[1]] = m[2]
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("invalid exposition line %q", line)
			continue
		}
		family := m[1]
		if declared[family] == "" {
			family = regexp.MustCompile(`_(bucket|sum|count)$`).ReplaceAllString(family, "")
			if declared[family] != "histogram" {
				t.Errorf("sample %q before its # TYPE", line)
			}
		}
		values[m[1]+m[2]] = m[4]
	}
	return values
}

func TestPrometheus_ValidExpositionWithPrefixDropped(t *testing.T) {
	text := string(admin.Prometheus(sample))
	v := exposition(t, text)
	want := map[string]string{
		"eventroute_requests":                                      "7",
		"eventroute_route________matched":                          "2", // each byte of 转账 becomes _
		"eventroute_route_a_b_matched":                             "5", // a-b and a.b sanitize alike and merge
		"pending":                                                  "3",
		"envoy_server_memory_allocated":                            "1024",
		`eventroute_subscriber_audit_latency_ms_bucket{le="1"}`:    "1",
		`eventroute_subscriber_audit_latency_ms_bucket{le="5"}`:    "2",
		`eventroute_subscriber_audit_latency_ms_bucket{le="+Inf"}`: "3",
		"eventroute_subscriber_audit_latency_ms_sum":               "704",
		"eventroute_subscriber_audit_latency_ms_count":             "3",
	}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("%s = %q, want %q", k, v[k], w)
		}
	}
	if strings.Contains(text, "wasmcustom") {
		t.Errorf("prefix not dropped:\n%s", text)
	}
	if !strings.Contains(text, "# TYPE eventroute_requests counter\n") {
		t.Errorf("counter type missing:\n%s", text)
	}
}

func TestHandler_RecordedAndClusters(t *testing.T) {
	rec := upstream.NewRecorder("audit", nil, 0)
	audit := upstream.NewRecorderCluster("audit", rec)
	audit.Do(t.Context(), upstream.Request{Method: "POST", Authority: "audit", Path: "/events",
		Headers: [][2]string{{"ce-type", "转账"}}, Body: []byte(`{"amount":1}`)})
	audit.Do(t.Context(), upstream.Request{Method: "POST", Authority: "audit", Path: "/bin", Body: []byte{0xff, 0}})
	ready := false
	srv := httptest.NewServer(admin.Handler(admin.Sources{
		Ready:    func() bool { return ready },
		Stats:    func() []admin.Stat { return sample },
		Clusters: func() []*upstream.Cluster { return []*upstream.Cluster{audit} },
	}))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, _ := get("/ready"); code != 503 {
		t.Errorf("/ready before start = %d", code)
	}
	ready = true
	if code, body := get("/ready"); code != 200 || body != "LIVE\n" {
		t.Errorf("/ready = %d %q", code, body)
	}
	code, body := get("/recorded/audit")
	var page admin.RecorderPage
	if err := json.Unmarshal([]byte(body), &page); code != 200 || err != nil {
		t.Fatalf("/recorded/audit = %d %v %s", code, err, body)
	}
	if page.Total != 2 || page.Requests[0].Body != `{"amount":1}` || page.Requests[0].Headers[0] != [2]string{"ce-type", "转账"} ||
		string(page.Requests[1].BodyBase64) != "\xff\x00" {
		t.Errorf("page = %+v", page)
	}
	if code, _ := get("/recorded/nope"); code != 404 {
		t.Errorf("/recorded/nope = %d", code)
	}
	if _, body := get("/clusters"); !strings.Contains(body, "audit::recorder::rq_total::2") {
		t.Errorf("/clusters = %q", body)
	}
}

func TestPrometheus_HistogramTotalsCoverMoreThanTheKeptSamples(t *testing.T) {
	buckets := make([]uint64, len(admin.PrometheusBuckets()))
	for i := range buckets {
		buckets[i] = 5000 // all 5000 recorded values were 0: every cumulative bucket holds them
	}
	stats := []admin.Stat{{Name: "wasmcustom.latency_ms", Type: admin.Histogram, Samples: []uint64{0, 0},
		Count: 5000, Sum: 0, Buckets: buckets}}
	v := exposition(t, string(admin.Prometheus(stats)))
	for key, want := range map[string]string{
		`latency_ms_bucket{le="0.5"}`:  "5000",
		`latency_ms_bucket{le="+Inf"}`: "5000",
		`latency_ms_count`:             "5000",
		`latency_ms_sum`:               "0",
	} {
		if v[key] != want {
			t.Errorf("%s = %q, want %q", key, v[key], want)
		}
	}
	if got := string(admin.EnvoyText(stats)); !strings.Contains(got, "wasmcustom.latency_ms: P0(0,0)") {
		t.Errorf("/stats percentiles from the kept samples missing:\n%s", got)
	}
}
