// Command plugin is the eventroute proxy-wasm HTTP filter. It is built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared and loaded by Envoy
// (or hostsim) as a reactor module: init registers the contexts, main is
// never called.
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &pluginContext{} })
}

func main() {}

// pluginContext is the per-root context; for now it passes every request through.
type pluginContext struct {
	types.DefaultPluginContext
}

// NewHttpContext implements types.PluginContext.
func (*pluginContext) NewHttpContext(uint32) types.HttpContext {
	return &types.DefaultHttpContext{}
}
