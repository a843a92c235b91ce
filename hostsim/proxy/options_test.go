package proxy_test

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventroute/eventroute/hostsim"
	"github.com/eventroute/eventroute/hostsim/admin"
	"github.com/eventroute/eventroute/hostsim/mesh"
	"github.com/eventroute/eventroute/hostsim/proxy"
	"github.com/eventroute/eventroute/internal/wasmbuild"
)

// The proxy hands hostsim's histogram buckets to the admin endpoint as they are: both must use the same
// bounds.
func TestHistogramBucketsShareTheAdminBounds(t *testing.T) {
	prom := admin.PrometheusBuckets()
	if !slices.Equal(hostsim.HistogramBounds(), prom[:]) {
		t.Fatalf("hostsim bounds %v, admin bounds %v", hostsim.HistogramBounds(), prom)
	}
}

func TestStart_CacheDirKeepsCompiledPluginsOnDisk(t *testing.T) {
	t.Parallel()
	text := strings.ReplaceAll(`listen: LISTEN
plugins:
  - {name: lifecycle, wasm: WASM}
routes:
  - match: {prefix: /}
    cluster: up
clusters:
  up: {recorder: true}
`, "WASM", wasmbuild.BuildFile(t, "testdata/guests/hs-lifecycle"))
	text = strings.ReplaceAll(text, "LISTEN", "127.0.0.1:0")
	file := filepath.Join(t.TempDir(), "mesh.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := mesh.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "wazero-cache")
	srv, err := proxy.Start(context.Background(), proxy.Options{Mesh: m, Out: io.Discard, CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var files int
	err = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files++
		}
		return err
	})
	if err != nil || files == 0 {
		t.Fatalf("cache directory %s holds %d files (err %v) after a start: want the compiled plugin", dir, files, err)
	}
}
