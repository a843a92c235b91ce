// Command empty is the do-nothing guest: every HTTP stream gets a
// types.DefaultHttpContext, which continues every callback and calls no host
// function. It logs nothing. It is the floor for benchmarks (per-request host
// overhead with no guest work) and the smallest valid Go proxy-wasm module.
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetHttpContext(func(uint32) types.HttpContext { return &types.DefaultHttpContext{} })
}

func main() {}
