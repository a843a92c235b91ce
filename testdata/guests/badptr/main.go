//go:build wasip1

// Command badptr hands host functions pointers outside its linear memory.
//
// Request header x-badptr selects the call (anything else: no bad call):
//
//	log   proxy_log(info, ptr=0xFFFFFF00, len=1024)                      bad input pointer
//	key   proxy_get_header_map_value(request, key ptr=0xFFFFFF00, len=16, valid outs)   bad input pointer
//	out   proxy_get_header_map_value(request, key ":path", ptr_out=0xFFFFFFF0, size_out=0xFFFFFFF8)
//	      bad output pointers (the value exists, so the host must write them)
//
// Expected on Envoy: the host checks every guest range and returns
// InvalidMemoryAccess (6) without trapping, so the guest goes on and logs the
// status; a host that traps instead (the call fails, nothing logged after it)
// deviates from Envoy.
//
// Log lines (info):
//
//	badptr kind=log|key|out status=S      S = the numeric status returned (Envoy: 6)
//	badptr kind=none                      no or unknown x-badptr value
package main

import (
	"unsafe"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// Host calls imported directly so they can be given raw addresses.

//go:wasmimport env proxy_log
func rawLog(level, msgPtr, msgLen uint32) uint32

//go:wasmimport env proxy_get_header_map_value
func rawGetHeader(mapType, keyPtr, keyLen, valuePtrOut, valueSizeOut uint32) uint32

func init() {
	proxywasm.SetHttpContext(func(uint32) types.HttpContext { return &stream{} })
}

func main() {}

// Addresses beyond any linear memory a Go guest has (memories are far below 4 GiB).
const (
	badInput     = 0xFFFFFF00
	badPtrOut    = 0xFFFFFFF0
	badSizeOut   = 0xFFFFFFF8
	logLevelInfo = 2
	mapRequest   = 0
)

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
}

// OnHttpRequestHeaders implements types.HttpContext.
func (*stream) OnHttpRequestHeaders(int, bool) types.Action {
	kind, _ := proxywasm.GetHttpRequestHeader("x-badptr")
	var status uint32
	switch kind {
	case "log":
		status = rawLog(logLevelInfo, badInput, 1024)
	case "key":
		var ptr, size uint32
		status = rawGetHeader(mapRequest, badInput, 16, addr(&ptr), addr(&size))
	case "out":
		key := []byte(":path")
		status = rawGetHeader(mapRequest, addr(&key[0]), uint32(len(key)), badPtrOut, badSizeOut)
	default:
		proxywasm.LogInfo("badptr kind=none")
		return types.ActionContinue
	}
	proxywasm.LogInfof("badptr kind=%s status=%d", kind, status)
	return types.ActionContinue
}

// addr is the linear-memory address of a Go value (wasm pointers are 32-bit).
func addr[T any](p *T) uint32 {
	return uint32(uintptr(unsafe.Pointer(p)))
}
