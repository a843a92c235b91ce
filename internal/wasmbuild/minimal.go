package wasmbuild

import (
	"fmt"
	"strings"
)

// proxyWasmSignature returns the wasm signature, in the "PARAMS->RESULTS"
// notation MinimalModule accepts, of an export a proxy-wasm host looks for,
// and "->" for any other name.
func proxyWasmSignature(name string) string {
	switch name {
	case "main":
		return "i32,i32->i32"
	case "malloc", "proxy_on_memory_allocate", "proxy_on_new_connection", "proxy_on_done":
		return "i32->i32"
	case "proxy_on_context_create", "proxy_on_queue_ready",
		"proxy_on_downstream_connection_close", "proxy_on_upstream_connection_close":
		return "i32,i32->"
	case "proxy_on_vm_start", "proxy_on_configure", "proxy_on_request_trailers", "proxy_on_response_trailers":
		return "i32,i32->i32"
	case "proxy_on_request_headers", "proxy_on_request_body", "proxy_on_response_headers",
		"proxy_on_response_body", "proxy_on_foreign_function", "proxy_on_downstream_data", "proxy_on_upstream_data":
		return "i32,i32,i32->i32"
	case "proxy_on_http_call_response":
		return "i32,i32,i32,i32,i32->"
	case "proxy_on_tick", "proxy_on_log", "proxy_on_delete":
		return "i32->"
	default:
		return "->"
	}
}

// Wasm binary encoding constants used by MinimalModule.
const (
	sectionType     = 1
	sectionFunction = 3
	sectionMemory   = 5
	sectionExport   = 7
	sectionCode     = 10
	exportFunc      = 0x00
	exportMemory    = 0x02
	funcTypeTag     = 0x60
	opEnd           = 0x0b
	maxTypesPerList = 127 // keeps every count a one-byte LEB128
)

// valueType returns the binary code of a wasm value type name.
func valueType(name string) (byte, bool) {
	switch name {
	case "i32":
		return 0x7f, true
	case "i64":
		return 0x7e, true
	case "f32":
		return 0x7d, true
	case "f64":
		return 0x7c, true
	}
	return 0, false
}

// zeroConst returns the instruction pushing a zero of the value type code.
func zeroConst(code byte) []byte {
	switch code {
	case 0x7e:
		return []byte{0x42, 0x00} // i64.const 0
	case 0x7d:
		return []byte{0x43, 0, 0, 0, 0} // f32.const 0
	case 0x7c:
		return []byte{0x44, 0, 0, 0, 0, 0, 0, 0, 0} // f64.const 0
	default:
		return []byte{0x41, 0x00} // i32.const 0
	}
}

// MinimalModule assembles a valid WebAssembly binary with no imports that
// exports the given names, for testing how a host rejects modules a Go build
// cannot produce (no _initialize, no proxy_on_memory_allocate, no ABI marker,
// no memory, wrong signatures).
//
// Each name is one export:
//   - "memory" defines a one-page linear memory and exports it; without it the
//     module has no memory at all.
//   - "NAME:PARAMS->RESULTS" exports a function NAME with that signature,
//     types comma-separated from i32, i64, f32, f64 (e.g. "f:i32,i64->i32",
//     "g:->").
//   - any other name exports a function; proxy-wasm export names (e.g.
//     "proxy_on_memory_allocate", "proxy_on_vm_start", "main") get their ABI
//     signature, every other name (e.g. "_initialize",
//     "proxy_abi_version_0_2_0") gets () -> ().
//
// Every function does nothing and returns zeros. MinimalModule panics on a
// malformed signature, like regexp.MustCompile: arguments are test constants.
func MinimalModule(exports ...string) []byte {
	var (
		types     [][]byte // one encoded func type per function
		funcNames []string
		hasMemory bool
	)
	for _, export := range exports {
		if export == "memory" {
			hasMemory = true
			continue
		}
		name, sig, explicit := strings.Cut(export, ":")
		if !explicit {
			sig = proxyWasmSignature(name)
		}
		encoded, err := encodeFuncType(sig)
		if err != nil {
			panic(fmt.Sprintf("wasmbuild.MinimalModule: export %q: %v", export, err))
		}
		types = append(types, encoded)
		funcNames = append(funcNames, name)
	}

	module := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	if len(types) > 0 {
		module = appendSection(module, sectionType, vector(types))
		indices := make([][]byte, len(types))
		for i := range types {
			indices[i] = uleb(uint32(i))
		}
		module = appendSection(module, sectionFunction, vector(indices))
	}
	if hasMemory {
		module = appendSection(module, sectionMemory, vector([][]byte{{0x00, 0x01}})) // min 1 page, no max
	}
	var entries [][]byte
	for i, name := range funcNames {
		entries = append(entries, append(append(wasmName(name), exportFunc), uleb(uint32(i))...))
	}
	if hasMemory {
		entries = append(entries, append(wasmName("memory"), exportMemory, 0x00))
	}
	if len(entries) > 0 {
		module = appendSection(module, sectionExport, vector(entries))
	}
	if len(types) > 0 {
		bodies := make([][]byte, len(types))
		for i, t := range types {
			bodies[i] = zeroBody(t)
		}
		module = appendSection(module, sectionCode, vector(bodies))
	}
	return module
}

// encodeFuncType encodes "PARAMS->RESULTS" as a wasm func type.
func encodeFuncType(sig string) ([]byte, error) {
	params, results, ok := strings.Cut(sig, "->")
	if !ok {
		return nil, fmt.Errorf("signature %q lacks \"->\"", sig)
	}
	out := []byte{funcTypeTag}
	for _, list := range []string{params, results} {
		var codes []byte
		for _, name := range strings.Split(list, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			code, ok := valueType(name)
			if !ok {
				return nil, fmt.Errorf("unknown value type %q in signature %q", name, sig)
			}
			codes = append(codes, code)
		}
		if len(codes) > maxTypesPerList {
			return nil, fmt.Errorf("signature %q has more than %d types in a list", sig, maxTypesPerList)
		}
		out = append(append(out, uleb(uint32(len(codes)))...), codes...)
	}
	return out, nil
}

// zeroBody is a code-section entry for the func type t that returns zeros.
func zeroBody(t []byte) []byte {
	numParams := int(t[1]) // small counts: one-byte LEB128
	results := t[3+numParams:]
	body := []byte{0x00} // no locals
	for _, code := range results {
		body = append(body, zeroConst(code)...)
	}
	body = append(body, opEnd)
	return append(uleb(uint32(len(body))), body...)
}

// appendSection appends a section with its id and byte length.
func appendSection(module []byte, id byte, content []byte) []byte {
	module = append(module, id)
	module = append(module, uleb(uint32(len(content)))...)
	return append(module, content...)
}

// vector encodes a wasm vector: element count, then the elements.
func vector(elems [][]byte) []byte {
	out := uleb(uint32(len(elems)))
	for _, e := range elems {
		out = append(out, e...)
	}
	return out
}

// wasmName encodes a UTF-8 name.
func wasmName(s string) []byte {
	return append(uleb(uint32(len(s))), s...)
}

// uleb encodes v as unsigned LEB128.
func uleb(v uint32) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}
