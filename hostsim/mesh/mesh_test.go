package mesh_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim/mesh"
)

const valid = `listen: 127.0.0.1:10000
admin: 127.0.0.1:9901
principal: spiffe://cluster.local/ns/bank/sa/core
plugins:
  - name: eventroute
    wasm: build/eventroute.wasm
    configInline: {routes: [{name: t, to: a}], n: 1}
    allowOnHeadersStopIteration: true
    envoyVersion: "1.36"
routes:
  - match: {authority: accounts.bank.svc.cluster.local}
    cluster: accounts
  - match: {header: {name: X-Sub, exact: audit}}
    cluster: audit
  - match: {prefix: /}
    cluster: default
clusters:
  accounts: {address: 127.0.0.1:8081, timeout: 2s}
  audit: {recorder: true}
  default: {endpoints: ["127.0.0.1:1", "127.0.0.1:2"]}
`

func TestParse_ValidMesh(t *testing.T) {
	m, err := mesh.Parse("demo.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	if m.Listen.Value != "127.0.0.1:10000" || m.Listen.Line != 1 || m.Admin.Value != "127.0.0.1:9901" {
		t.Errorf("listen/admin = %+v %+v", m.Listen, m.Admin)
	}
	if len(m.Plugins) != 1 {
		t.Fatalf("plugins = %d", len(m.Plugins))
	}
	pl := m.Plugins[0]
	if !pl.AllowOnHeadersStopIteration || pl.EnvoyVersion != "1.36" || pl.Wasm.Value != "build/eventroute.wasm" {
		t.Errorf("plugin = %+v", pl)
	}
	if got := string(pl.Configuration); got != `{"n":1,"routes":[{"name":"t","to":"a"}]}` {
		t.Errorf("inline config = %s", got)
	}
	acc, _ := m.Cluster("accounts")
	if acc.Timeout != 2*time.Second || len(acc.Endpoints) != 1 {
		t.Errorf("accounts = %+v", acc)
	}
	def, _ := m.Cluster("default")
	if def.Timeout != mesh.DefaultClusterTimeout || len(def.Endpoints) != 2 {
		t.Errorf("default = %+v", def)
	}
	if got := m.Recorders(); len(got) != 1 || got[0] != "audit" {
		t.Errorf("recorders = %v", got)
	}
}

func TestParse_ErrorsNameFileLineAndKey(t *testing.T) {
	cases := []struct {
		name, edit, want string
		kind             error
	}{
		{"unknown top key", "listen: 127.0.0.1:10000\nlisten2: x\n", `demo.yaml:2: (top level): unknown key "listen2"`, mesh.ErrUnknownKey},
		{"unknown cluster key", strings.Replace(valid, "audit: {recorder: true}", "audit: {recoder: true}", 1), `demo.yaml:19: clusters.audit: unknown key "recoder"`, mesh.ErrUnknownKey},
		{"unknown plugin key", strings.Replace(valid, "    envoyVersion", "    wasmm: x\n    envoyVersion", 1), `demo.yaml:9: plugins[0]: unknown key "wasmm"`, mesh.ErrUnknownKey},
		{"route to unknown cluster", strings.Replace(valid, "cluster: audit", "cluster: nope", 1), `demo.yaml:14: routes[1].cluster: invalid value: no cluster named "nope"`, mesh.ErrInvalid},
		{"bad address", strings.Replace(valid, "127.0.0.1:8081", "localhost", 1), `demo.yaml:18: clusters.accounts.address: invalid value: address "localhost"`, mesh.ErrInvalid},
		{"bad timeout", strings.Replace(valid, "timeout: 2s", "timeout: soon", 1), `demo.yaml:18: clusters.accounts.timeout: invalid value`, mesh.ErrInvalid},
		{"missing listen", strings.Replace(valid, "listen: 127.0.0.1:10000\n", "", 1), `demo.yaml:1: listen: required`, mesh.ErrMissing},
		{"bool as string", strings.Replace(valid, "allowOnHeadersStopIteration: true", "allowOnHeadersStopIteration: yes please", 1), `demo.yaml:8: plugins[0].allowOnHeadersStopIteration: invalid value`, mesh.ErrInvalid},
		{"cluster without target", strings.Replace(valid, "audit: {recorder: true}", "audit: {timeout: 1s}", 1), `demo.yaml:19: clusters.audit: required`, mesh.ErrMissing},
		{"missing config file", strings.Replace(valid, "configInline: {routes: [{name: t, to: a}], n: 1}", "config: does/not/exist.json", 1), `demo.yaml:7: plugins[0].config: open does/not/exist.json`, os.ErrNotExist},
		{"yaml syntax", "listen: [\n", `demo.yaml:`, mesh.ErrInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := mesh.Parse("demo.yaml", []byte(c.edit))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), c.want) {
				t.Errorf("error = %q, want prefix %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans several lines: %q", err)
			}
			if !errors.Is(err, c.kind) {
				t.Errorf("error %q is not %v", err, c.kind)
			}
		})
	}
}

func TestLoad_ConfigFileIsRead(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.json")
	if err := os.WriteFile(cfg, []byte(`{"x":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "m.yaml")
	text := strings.Replace(valid, "configInline: {routes: [{name: t, to: a}], n: 1}", "config: "+cfg, 1)
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := mesh.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Plugins[0].Configuration) != `{"x":1}` {
		t.Errorf("config = %q", m.Plugins[0].Configuration)
	}
}

func TestRouteFor_FirstMatchWins(t *testing.T) {
	m, err := mesh.Parse("demo.yaml", []byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		headers [][2]string
		want    string
	}{
		{[][2]string{{":authority", "Accounts.bank.svc.cluster.local:8080"}, {":path", "/x"}}, "accounts"},
		{[][2]string{{":authority", "other"}, {":path", "/x"}, {"x-sub", "audit"}}, "audit"},
		{[][2]string{{":authority", "other"}, {":path", "/x"}, {"x-sub", "nope"}}, "default"},
	}
	for _, c := range cases {
		r, ok := m.RouteFor(c.headers)
		if !ok || r.Cluster != c.want {
			t.Errorf("RouteFor(%v) = %q %v, want %q", c.headers, r.Cluster, ok, c.want)
		}
	}
	noRoot := strings.Replace(valid, "match: {prefix: /}", "match: {prefix: /events}", 1)
	m, err = mesh.Parse("demo.yaml", []byte(noRoot))
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := m.RouteFor([][2]string{{":authority", "x"}, {":path", "/other"}}); ok {
		t.Errorf("unexpected route %+v", r)
	}
}
