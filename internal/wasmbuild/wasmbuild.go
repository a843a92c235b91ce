// Package wasmbuild compiles Go packages of this module to proxy-wasm guest
// modules (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared) for tests, with an
// on-disk cache shared by every test binary of the module.
//
// The cache lives under <module root>/build/wasmcache. An entry's name is a
// hash of the Go version, go.mod, go.sum, the package path and every non-test
// .go file under plugin/, filters/, internal/, testdata/guests/internal/ and the
// built package itself, so
// editing any of them makes the next call rebuild. Concurrent callers, in one
// test binary or in several, build each entry at most once: they serialise on
// a lock file next to the entry and the compiler output is renamed into place
// atomically.
package wasmbuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// cacheDir is the cache location relative to the module root.
const cacheDir = "build/wasmcache"

// hashedTrees returns the module directories whose non-test Go files the
// build of pkgDir may depend on: those any guest may import
// (testdata/guests/internal holds helpers the conformance guests share) and
// pkgDir itself.
func hashedTrees(pkgDir string) []string {
	return []string{"plugin", "filters", "internal", "testdata/guests/internal", pkgDir}
}

// ModuleRoot returns the repository root (directory holding go.mod), found
// from the working directory.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := findModuleRoot()
	if err != nil {
		tb.Fatalf("wasmbuild: %v", err)
	}
	return root
}

// Build compiles the Go package at pkgDir (relative to the module root, e.g.
// "plugin" or "testdata/guests/empty") with GOOS=wasip1 GOARCH=wasm
// go build -buildmode=c-shared -trimpath and returns the module bytes. Results
// are cached on disk (see the package documentation). Build failures call
// tb.Fatalf with the compiler output.
func Build(tb testing.TB, pkgDir string) []byte {
	tb.Helper()
	path := BuildFile(tb, pkgDir)
	wasm, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("wasmbuild: reading cached module: %v", err)
	}
	return wasm
}

// BuildFile is the same as Build but returns the path of the cached .wasm
// file (for tests that hand it to a subprocess). The file must not be modified.
func BuildFile(tb testing.TB, pkgDir string) string {
	tb.Helper()
	root := ModuleRoot(tb)
	path, _, err := buildCached(root, pkgDir, tb.Logf)
	if err != nil {
		tb.Fatalf("wasmbuild: %v", err)
	}
	return path
}

// buildCached returns the cache path for pkgDir, compiling it first if the
// entry is missing. built reports whether this call ran the compiler. logf
// receives one progress line when a build takes place.
func buildCached(root, pkgDir string, logf func(string, ...any)) (path string, built bool, err error) {
	pkgDir = filepath.ToSlash(filepath.Clean(pkgDir))
	if pkgDir == "." || strings.HasPrefix(pkgDir, "../") || filepath.IsAbs(pkgDir) {
		return "", false, fmt.Errorf("package directory %q must be inside the module root", pkgDir)
	}
	key, err := cacheKey(root, pkgDir)
	if err != nil {
		return "", false, err
	}
	dir := filepath.Join(root, filepath.FromSlash(cacheDir))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, fmt.Errorf("creating cache directory: %w", err)
	}
	path = filepath.Join(dir, key+".wasm")
	if fileExists(path) {
		return path, false, nil
	}
	unlock, err := lockFile(filepath.Join(dir, key+".lock"))
	if err != nil {
		return "", false, err
	}
	defer unlock()
	// Another caller may have built the entry while this one waited.
	if fileExists(path) {
		return path, false, nil
	}
	if err := compile(root, pkgDir, path, logf); err != nil {
		return "", false, err
	}
	return path, true, nil
}

// compile runs the Go compiler for pkgDir and renames the output to dst.
func compile(root, pkgDir, dst string, logf func(string, ...any)) error {
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".build-*.wasm")
	if err != nil {
		return fmt.Errorf("creating temporary output: %w", err)
	}
	tmpName := tmp.Name()
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing temporary output: %w", err)
	}
	defer os.Remove(tmpName) // no-op after a successful rename

	logf("wasmbuild: building %s for wasip1 (cached afterwards)...", pkgDir)
	start := time.Now()
	cmd := exec.Command(goTool(), "build", "-buildmode=c-shared", "-trimpath", "-o", tmpName, "./"+pkgDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./%s: %w\n%s", pkgDir, err, out.String())
	}
	if err := os.Rename(tmpName, dst); err != nil {
		return fmt.Errorf("moving module into cache: %w", err)
	}
	logf("wasmbuild: built %s in %s", pkgDir, time.Since(start).Round(time.Millisecond))
	return nil
}

// cacheKey hashes everything the build output of pkgDir depends on.
func cacheKey(root, pkgDir string) (string, error) {
	h := sha256.New()
	goVersion, err := exec.Command(goTool(), "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("querying Go version: %w", err)
	}
	fmt.Fprintf(h, "go=%s\npkg=%s\n", bytes.TrimSpace(goVersion), pkgDir)

	files := []string{"go.mod", "go.sum"}
	for _, tree := range hashedTrees(pkgDir) {
		found, err := goSources(root, tree)
		if err != nil {
			return "", err
		}
		files = append(files, found...)
	}
	sort.Strings(files)
	files = dedupe(files)
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(rel)))
		if errors.Is(err, fs.ErrNotExist) {
			continue // go.sum may be absent in a fresh module
		}
		if err != nil {
			return "", fmt.Errorf("hashing %s: %w", rel, err)
		}
		fmt.Fprintf(h, "file=%s len=%d\n", rel, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// goSources lists the non-test .go files under tree (module-relative, slash
// separated). A missing tree yields no files.
func goSources(root, tree string) ([]string, error) {
	var files []string
	base := filepath.Join(root, filepath.FromSlash(tree))
	err := filepath.WalkDir(base, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == base {
				return fs.SkipDir
			}
			return err
		}
		name := d.Name()
		if d.IsDir() {
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing Go files under %s: %w", tree, err)
	}
	return files, nil
}

// dedupe removes adjacent duplicates from a sorted slice.
func dedupe(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// findModuleRoot walks up from the working directory to the directory that
// holds go.mod.
func findModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("getting working directory: %w", err)
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found in the working directory or its parents")
		}
		dir = parent
	}
}

// goTool returns the go command to run: $GOROOT/bin/go when GOROOT is set in
// the environment (go test sets it for the test binary), else "go" from PATH.
func goTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		if tool := filepath.Join(root, "bin", "go"); fileExists(tool) {
			return tool
		}
	}
	return "go"
}

// fileExists reports whether path names an existing regular file.
func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}
