package wasmbuild

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// wasmMagic is the first eight bytes of every WebAssembly binary (magic + version 1).
var wasmMagic = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

func TestModuleRootHoldsGoMod(t *testing.T) {
	root := ModuleRoot(t)
	data, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatalf("reading go.mod at module root: %v", err)
	}
	if !bytes.Contains(data, []byte("module github.com/eventroute/eventroute")) {
		t.Fatalf("go.mod at %s is not the eventroute module", root)
	}
}

func TestBuildEmptyGuestThenCacheHit(t *testing.T) {
	first := Build(t, "testdata/guests/empty")
	if !bytes.HasPrefix(first, wasmMagic) {
		t.Fatalf("Build returned %d bytes without the wasm header", len(first))
	}

	start := time.Now()
	path, built, err := buildCached(ModuleRoot(t), "testdata/guests/empty", t.Logf)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatalf("second build: %v", err)
	}
	if built {
		t.Fatal("second build of an unchanged package ran the compiler; want a cache hit")
	}
	if elapsed > 2*time.Second {
		t.Errorf("cache hit took %s; want well under 2s", elapsed)
	}
	second, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading cached module: %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Fatal("cache hit returned different bytes from the first build")
	}
	if got := BuildFile(t, "./testdata/guests/empty/"); got != path {
		t.Errorf("BuildFile with a non-canonical directory = %s; want the same cache entry %s", got, path)
	}
}

// newTempModule writes a tiny module holding one main package at guest/ and
// returns its root.
func newTempModule(t *testing.T, mainGo string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/tmpguest\n\ngo 1.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "guest"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "guest", "main.go"), []byte(mainGo), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestConcurrentCallersBuildOnce(t *testing.T) {
	root := newTempModule(t, "package main\n\nfunc main() {}\n")
	const callers = 4
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		builds int
		paths  = map[string]bool{}
	)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, built, err := buildCached(root, "guest", func(string, ...any) {})
			if err != nil {
				t.Errorf("build: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			paths[path] = true
			if built {
				builds++
			}
		}()
	}
	wg.Wait()
	if builds != 1 {
		t.Errorf("%d concurrent callers ran the compiler %d times; want exactly once", callers, builds)
	}
	if len(paths) != 1 {
		t.Errorf("concurrent callers got %d different cache paths; want 1", len(paths))
	}
}

func TestSourceChangeInvalidatesCache(t *testing.T) {
	root := newTempModule(t, "package main\n\nfunc main() {}\n")
	first, _, err := buildCached(root, "guest", t.Logf)
	if err != nil {
		t.Fatalf("first build: %v", err)
	}
	if err := os.WriteFile(filepath.Join(root, "guest", "extra.go"), []byte("package main\n\nvar answer = 42\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	second, built, err := buildCached(root, "guest", t.Logf)
	if err != nil {
		t.Fatalf("build after edit: %v", err)
	}
	if !built || second == first {
		t.Fatalf("adding a source file did not cause a rebuild (built=%v, same path=%v)", built, second == first)
	}
}

func TestCompileErrorReportsCompilerOutput(t *testing.T) {
	root := newTempModule(t, "package main\n\nfunc main() { undefinedName() }\n")
	_, _, err := buildCached(root, "guest", t.Logf)
	if err == nil {
		t.Fatal("building a package that does not compile succeeded")
	}
	if !strings.Contains(err.Error(), "undefinedName") {
		t.Errorf("error does not carry the compiler output: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Join(root, cacheDir))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".wasm") {
			t.Errorf("failed build left %s in the cache", e.Name())
		}
	}
}

func TestRejectsDirectoryOutsideModule(t *testing.T) {
	_, _, err := buildCached(ModuleRoot(t), "../elsewhere", t.Logf)
	if err == nil {
		t.Fatal("building a directory outside the module root succeeded")
	}
}
