// Command panicker panics in the request headers callback when request header
// x-panic is present. An unrecovered Go panic prints "panic: panicker:
// x-panic=VALUE" and a goroutine trace to stderr (fd 2) and ends in a wasm
// TRAP (unreachable), so the host sees the proxy_on_request_headers call fail;
// Envoy then marks the VM failed.
//
// Log lines (info):
//
//	alive path="/p"      every request without x-panic (path Go-quoted), before continuing
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetHttpContext(func(uint32) types.HttpContext { return &stream{} })
}

func main() {}

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
}

// OnHttpRequestHeaders implements types.HttpContext.
func (*stream) OnHttpRequestHeaders(int, bool) types.Action {
	if v, err := proxywasm.GetHttpRequestHeader("x-panic"); err == nil {
		panic("panicker: x-panic=" + v)
	}
	path, _ := proxywasm.GetHttpRequestHeader(":path")
	proxywasm.LogInfof("alive path=%q", path)
	return types.ActionContinue
}
