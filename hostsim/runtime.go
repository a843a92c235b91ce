package hostsim

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Errors a caller can test for with errors.Is.
var (
	// ErrInvalidModule: the bytes are not a usable proxy-wasm module (bad binary, missing export or import).
	ErrInvalidModule = errors.New("invalid proxy-wasm module")
	// ErrStartFailed: _initialize, proxy_on_vm_start or proxy_on_configure failed on some VM.
	ErrStartFailed = errors.New("plugin start failed")
	// ErrConfigRejected: proxy_on_configure returned false for a new configuration; the old one is kept.
	ErrConfigRejected = errors.New("plugin configuration rejected")
	// ErrGuestFailed: the guest trapped or misbehaved; its VM is marked failed.
	ErrGuestFailed = errors.New("wasm guest failed")
	// ErrClosed: the Host was closed.
	ErrClosed = errors.New("host closed")
)

// memoryLimitPages is Envoy's 1 GiB cap on a VM's linear memory (limits.h), in 64 KiB pages.
const memoryLimitPages = 16384

// Runtime owns a wazero runtime with the host modules (env, WASI) and a compilation cache. One per process is
// typical; it is safe for concurrent use.
type Runtime struct {
	rt    wazero.Runtime
	cache wazero.CompilationCache

	mu      sync.Mutex
	modules map[[32]byte]*Module
}

// NewRuntime creates a runtime with the proxy-wasm "env" module and Envoy's WASI registered. Compiled modules
// are cached in memory for the life of the Runtime.
func NewRuntime(ctx context.Context) (*Runtime, error) {
	return newRuntime(ctx, wazero.NewCompilationCache())
}

// NewRuntimeWithCacheDir is NewRuntime with compiled modules also cached on disk in dir (created if missing),
// so a later process loading the same module skips compilation. Entries are keyed by module content and
// wazero version.
func NewRuntimeWithCacheDir(ctx context.Context, dir string) (*Runtime, error) {
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		return nil, fmt.Errorf("compilation cache in %s: %w", dir, err)
	}
	return newRuntime(ctx, cache)
}

func newRuntime(ctx context.Context, cache wazero.CompilationCache) (*Runtime, error) {
	cfg := wazero.NewRuntimeConfig().
		WithCompilationCache(cache).
		WithMemoryLimitPages(memoryLimitPages)
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	if err := instantiateEnv(ctx, rt); err != nil {
		_ = rt.Close(ctx)
		_ = cache.Close(ctx)
		return nil, fmt.Errorf("registering env host module: %w", err)
	}
	for _, name := range []string{"wasi_snapshot_preview1", "wasi_unstable"} {
		if err := instantiateWASI(ctx, rt, name); err != nil {
			_ = rt.Close(ctx)
			_ = cache.Close(ctx)
			return nil, fmt.Errorf("registering %s host module: %w", name, err)
		}
	}
	return &Runtime{rt: rt, cache: cache, modules: map[[32]byte]*Module{}}, nil
}

// Close releases every compiled module and instance created through r.
func (r *Runtime) Close(ctx context.Context) error {
	if err := r.rt.Close(ctx); err != nil {
		return fmt.Errorf("closing wazero runtime: %w", err)
	}
	if err := r.cache.Close(ctx); err != nil {
		return fmt.Errorf("closing compilation cache: %w", err)
	}
	return nil
}

// Module is a compiled, validated proxy-wasm module. Instances are created by NewHost.
type Module struct {
	rt          *Runtime
	compiled    wazero.CompiledModule
	abi         string
	initializer string // "_initialize", "_start" or ""
	allocator   string // "malloc" or "proxy_on_memory_allocate"
	// CompileTime is how long compilation (or the cache lookup) took.
	CompileTime time.Duration
}

// ABIVersion returns the proxy-wasm ABI the module declares, e.g. "0.2.0".
func (m *Module) ABIVersion() string { return m.abi }

// knownABIs maps Envoy's ABI marker exports to versions (cpp-host bytecode_util getAbiVersion).
var knownABIs = map[string]string{
	"proxy_abi_version_0_1_0": "0.1.0",
	"proxy_abi_version_0_2_0": "0.2.0",
	"proxy_abi_version_0_2_1": "0.2.1",
}

// Load compiles wasm (or reuses the compiled module for identical bytes) and checks that it is a proxy-wasm
// module this host can run: memory exported, an ABI 0.2.x marker, proxy_on_memory_allocate (or malloc), and
// every import provided. Errors wrap ErrInvalidModule.
func (r *Runtime) Load(ctx context.Context, wasm []byte) (*Module, error) {
	start := time.Now()
	key := sha256.Sum256(wasm)
	r.mu.Lock()
	if m, ok := r.modules[key]; ok {
		r.mu.Unlock()
		return &Module{rt: r, compiled: m.compiled, abi: m.abi, initializer: m.initializer,
			allocator: m.allocator, CompileTime: time.Since(start)}, nil
	}
	r.mu.Unlock()
	compiled, err := r.rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, fmt.Errorf("%w: compiling: %w", ErrInvalidModule, err)
	}
	m := &Module{rt: r, compiled: compiled}
	if err := m.check(); err != nil {
		_ = compiled.Close(ctx)
		return nil, err
	}
	m.CompileTime = time.Since(start)
	r.mu.Lock()
	if prev, ok := r.modules[key]; ok {
		r.mu.Unlock()
		_ = compiled.Close(ctx)
		return &Module{rt: r, compiled: prev.compiled, abi: prev.abi, initializer: prev.initializer,
			allocator: prev.allocator, CompileTime: m.CompileTime}, nil
	}
	r.modules[key] = m
	r.mu.Unlock()
	return m, nil
}

// check validates exports and imports of the compiled module.
func (m *Module) check() error {
	exports := m.compiled.ExportedFunctions()
	if len(m.compiled.ExportedMemories()) == 0 {
		return fmt.Errorf("%w: module exports no memory", ErrInvalidModule)
	}
	var abis []string
	for name := range exports {
		if v, ok := knownABIs[name]; ok {
			abis = append(abis, v)
		} else if strings.HasPrefix(name, "proxy_abi_version_") {
			return fmt.Errorf("%w: unsupported proxy-wasm ABI marker %q", ErrInvalidModule, name)
		}
	}
	switch {
	case len(abis) == 0:
		return fmt.Errorf("%w: no proxy-wasm ABI marker export (proxy_abi_version_0_2_0 or _0_2_1)", ErrInvalidModule)
	case len(abis) > 1:
		sort.Strings(abis)
		return fmt.Errorf("%w: several ABI markers exported: %s", ErrInvalidModule, strings.Join(abis, ", "))
	case abis[0] == "0.1.0":
		return fmt.Errorf("%w: proxy-wasm ABI 0.1.0 is not supported (need 0.2.x)", ErrInvalidModule)
	}
	m.abi = abis[0]
	switch {
	case exports["malloc"] != nil:
		m.allocator = "malloc"
	case exports["proxy_on_memory_allocate"] != nil:
		m.allocator = "proxy_on_memory_allocate"
	default:
		return fmt.Errorf("%w: Wasm module is missing malloc function (export proxy_on_memory_allocate)", ErrInvalidModule)
	}
	if err := checkSignature(exports[m.allocator], []api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidModule, m.allocator, err)
	}
	for name, want := range exportSignatures {
		if f := exports[name]; f != nil {
			if err := checkSignature(f, want.params, want.results); err != nil {
				return fmt.Errorf("%w: export %s: %w", ErrInvalidModule, name, err)
			}
		}
	}
	for _, name := range []string{"_initialize", "_start"} {
		if exports[name] != nil {
			m.initializer = name
			break
		}
	}
	for _, f := range m.compiled.ImportedFunctions() {
		mod, name, _ := f.Import()
		if !provided(mod, name) {
			return fmt.Errorf("%w: Failed to load Wasm module due to a missing import: %s.%s", ErrInvalidModule, mod, name)
		}
	}
	return nil
}

type signature struct{ params, results []api.ValueType }

var (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

// exportSignatures are the callback shapes of ABI 0.2.x; a mismatch would trap at the first call.
var exportSignatures = map[string]signature{
	"proxy_on_context_create":     {[]api.ValueType{i32, i32}, nil},
	"proxy_on_vm_start":           {[]api.ValueType{i32, i32}, []api.ValueType{i32}},
	"proxy_on_configure":          {[]api.ValueType{i32, i32}, []api.ValueType{i32}},
	"proxy_on_request_headers":    {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}},
	"proxy_on_request_body":       {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}},
	"proxy_on_request_trailers":   {[]api.ValueType{i32, i32}, []api.ValueType{i32}},
	"proxy_on_response_headers":   {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}},
	"proxy_on_response_body":      {[]api.ValueType{i32, i32, i32}, []api.ValueType{i32}},
	"proxy_on_response_trailers":  {[]api.ValueType{i32, i32}, []api.ValueType{i32}},
	"proxy_on_http_call_response": {[]api.ValueType{i32, i32, i32, i32, i32}, nil},
	"proxy_on_tick":               {[]api.ValueType{i32}, nil},
	"proxy_on_queue_ready":        {[]api.ValueType{i32, i32}, nil},
	"proxy_on_log":                {[]api.ValueType{i32}, nil},
	"proxy_on_done":               {[]api.ValueType{i32}, []api.ValueType{i32}},
	"proxy_on_delete":             {[]api.ValueType{i32}, nil},
}

func checkSignature(f api.FunctionDefinition, params, results []api.ValueType) error {
	if !equalTypes(f.ParamTypes(), params) || !equalTypes(f.ResultTypes(), results) {
		return fmt.Errorf("signature %v -> %v, want %v -> %v", f.ParamTypes(), f.ResultTypes(), params, results)
	}
	return nil
}

func equalTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
