package hostsim

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventroute/eventroute/internal/wasmbuild"
)

func TestRuntimeWithCacheDirSkipsCompilationInALaterRuntime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	wasm := wasmbuild.Build(t, "testdata/guests/empty")
	dir := filepath.Join(t.TempDir(), "wazero-cache")
	load := func() *Module {
		rt, err := NewRuntimeWithCacheDir(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rt.Close(ctx) })
		m, err := rt.Load(ctx, wasm)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	first := load()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("cache directory after the first load: %d entries, err %v", len(entries), err)
	}
	second := load()
	if second.CompileTime*3 > first.CompileTime {
		t.Fatalf("second runtime took %v to load the module, the first compiled it in %v: the disk cache was not used",
			second.CompileTime, first.CompileTime)
	}
	t.Logf("compiled in %v; loaded from the disk cache in %v", first.CompileTime, second.CompileTime)
	h, err := NewHost(ctx, second, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(ctx)
	res, err := h.Do(ctx, Request{Headers: get("/cached")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Request.Forwarded {
		t.Fatalf("a module loaded from the disk cache did not forward a request: %+v", res.Request)
	}
}

func TestRuntimeWithCacheDirReportsAnUnusableDirectory(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if rt, err := NewRuntimeWithCacheDir(context.Background(), file); err == nil {
		_ = rt.Close(context.Background())
		t.Fatal("NewRuntimeWithCacheDir accepted a regular file as its cache directory")
	}
}
