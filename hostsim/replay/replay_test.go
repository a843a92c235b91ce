package replay_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/hostsim/replay"
	"github.com/eventroute/eventroute/hostsim/upstream"
)

func writeScenario(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "body.json"), []byte(`{"a":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const scenario = `title: test
requests:
  - name: 转账 to both
    path: /both
    headers: {Ce-Type: 转账}
    bodyFile: body.json
    repeat: 3
  - name: rejected
    path: /reject
  - name: to a only
    authority: a.example
    path: /a
    body: "x"
`

func TestLoadScenario_DefaultsAndStrictKeys(t *testing.T) {
	sc, err := replay.LoadScenario(writeScenario(t, scenario))
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 3 || sc.Steps[0].Method != "POST" || string(sc.Steps[0].Body) != `{"a":1}` ||
		sc.Steps[0].Headers[0] != [2]string{"ce-type", "转账"} || sc.Steps[0].Repeat != 3 {
		t.Errorf("step 0 = %+v", sc.Steps[0])
	}
	if sc.Steps[1].Method != "GET" || sc.Steps[1].Authority != "localhost" {
		t.Errorf("step 1 = %+v", sc.Steps[1])
	}
	_, err = replay.LoadScenario(writeScenario(t, strings.Replace(scenario, "    repeat: 3", "    repeats: 3", 1)))
	if err == nil || !strings.Contains(err.Error(), `scenario.yaml:7: requests[0]: unknown key "repeats"`) {
		t.Errorf("unknown key error = %v", err)
	}
}

func TestPlay_ReportsWhereEachRequestArrived(t *testing.T) {
	sc, err := replay.LoadScenario(writeScenario(t, scenario))
	if err != nil {
		t.Fatal(err)
	}
	a := upstream.NewRecorderCluster("a", upstream.NewRecorder("a", nil, 0))
	b := upstream.NewRecorderCluster("b", upstream.NewRecorder("b", nil, 0))
	mesh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req := upstream.Request{Method: r.Method, Authority: r.Host, Path: r.URL.Path, Body: body}
		switch r.URL.Path {
		case "/both":
			a.Do(r.Context(), req)
			b.Do(r.Context(), req)
		case "/a":
			a.Do(r.Context(), req)
		default:
			w.WriteHeader(400)
			return
		}
		w.WriteHeader(202)
	}))
	defer mesh.Close()
	listen := strings.TrimPrefix(mesh.URL, "http://")
	rep, err := replay.Play(context.Background(), replay.Target{Listen: listen, Clusters: []*upstream.Cluster{a, b}}, sc)
	if err != nil {
		t.Fatal(err)
	}
	if got := rep.Rows[0].Deliveries["a"]; got == nil || got.Count != 3 || len(got.Latencies) != 3 {
		t.Errorf("row 0 a = %+v", got)
	}
	if rep.Rows[0].Statuses[202] != 3 || rep.Rows[1].Statuses[400] != 1 || len(rep.Rows[1].Deliveries) != 0 {
		t.Errorf("rows = %+v", rep.Rows)
	}
	if got := rep.Rows[2].Deliveries; got["a"] == nil || got["b"] != nil {
		t.Errorf("row 2 = %+v", got)
	}
	var out strings.Builder
	rep.Write(&out)
	text := out.String()
	for _, want := range []string{"request", "转账 to both", "202×3", "rejected", "400", "delivery p50/p99"} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	curls := replay.CurlLines(listen, sc)
	if !strings.Contains(curls[0], "-H 'ce-type: 转账' --data-binary '{\"a\":1}'") {
		t.Errorf("curl = %s", curls[0])
	}
}
