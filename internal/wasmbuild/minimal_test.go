package wasmbuild

import (
	"context"
	"slices"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// compileExports compiles module with wazero and returns its compiled form.
func compileExports(t *testing.T, module []byte) wazero.CompiledModule {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	t.Cleanup(func() { rt.Close(ctx) })
	compiled, err := rt.CompileModule(ctx, module)
	if err != nil {
		t.Fatalf("wazero rejects the module: %v", err)
	}
	return compiled
}

func TestMinimalModuleExportsProxyWasmSignatures(t *testing.T) {
	compiled := compileExports(t, MinimalModule(
		"memory", "_initialize", "proxy_abi_version_0_2_0", "proxy_on_memory_allocate",
		"proxy_on_context_create", "proxy_on_request_headers", "proxy_on_http_call_response"))
	want := map[string]struct{ params, results []api.ValueType }{
		"_initialize":                 {nil, nil},
		"proxy_abi_version_0_2_0":     {nil, nil},
		"proxy_on_memory_allocate":    {[]api.ValueType{api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
		"proxy_on_context_create":     {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32}, nil},
		"proxy_on_request_headers":    {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, []api.ValueType{api.ValueTypeI32}},
		"proxy_on_http_call_response": {[]api.ValueType{api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32, api.ValueTypeI32}, nil},
	}
	got := compiled.ExportedFunctions()
	if len(got) != len(want) {
		t.Errorf("module exports %d functions; want %d", len(got), len(want))
	}
	for name, sig := range want {
		fn, ok := got[name]
		if !ok {
			t.Errorf("function %s not exported", name)
			continue
		}
		if !slices.Equal(fn.ParamTypes(), sig.params) || !slices.Equal(fn.ResultTypes(), sig.results) {
			t.Errorf("%s has signature %v -> %v; want %v -> %v", name, fn.ParamTypes(), fn.ResultTypes(), sig.params, sig.results)
		}
	}
	if _, ok := compiled.ExportedMemories()["memory"]; !ok {
		t.Error("memory not exported")
	}
}

func TestMinimalModuleWithoutMemoryHasNone(t *testing.T) {
	compiled := compileExports(t, MinimalModule("_initialize", "proxy_abi_version_0_2_0"))
	if n := len(compiled.ExportedMemories()); n != 0 {
		t.Errorf("module without \"memory\" exports %d memories", n)
	}
	if _, ok := compiled.ExportedFunctions()["proxy_on_memory_allocate"]; ok {
		t.Error("proxy_on_memory_allocate exported though not asked for")
	}
}

func TestMinimalModuleFunctionsReturnZero(t *testing.T) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.InstantiateWithConfig(ctx,
		MinimalModule("memory", "_initialize", "proxy_on_memory_allocate", "wide:i64,f64->i64,f32,f64"),
		wazero.NewModuleConfig().WithStartFunctions("_initialize"))
	if err != nil {
		t.Fatalf("instantiating with _initialize as start function: %v", err)
	}
	results, err := mod.ExportedFunction("proxy_on_memory_allocate").Call(ctx, 16)
	if err != nil || !slices.Equal(results, []uint64{0}) {
		t.Errorf("proxy_on_memory_allocate(16) = %v, %v; want [0] (allocation failure)", results, err)
	}
	results, err = mod.ExportedFunction("wide").Call(ctx, 1, 2)
	if err != nil || !slices.Equal(results, []uint64{0, 0, 0}) {
		t.Errorf("wide(1, 2) = %v, %v; want three zeros", results, err)
	}
	if size := mod.ExportedMemory("memory").Size(); size != 65536 {
		t.Errorf("memory size = %d; want one 64 KiB page", size)
	}
}

func TestMinimalModuleExplicitSignatureOverridesABI(t *testing.T) {
	compiled := compileExports(t, MinimalModule("proxy_on_memory_allocate:i64->"))
	fn := compiled.ExportedFunctions()["proxy_on_memory_allocate"]
	if fn == nil || !slices.Equal(fn.ParamTypes(), []api.ValueType{api.ValueTypeI64}) || len(fn.ResultTypes()) != 0 {
		t.Fatalf("explicit signature not applied: %v", fn)
	}
}

func TestMinimalModulePanicsOnMalformedSignature(t *testing.T) {
	for _, export := range []string{"f:i32", "f:i33->", "f:->v128"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("MinimalModule(%q) did not panic", export)
				}
			}()
			MinimalModule(export)
		}()
	}
}
