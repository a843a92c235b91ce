// Command plugin is the eventroute proxy-wasm HTTP filter. It is built with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared and loaded by Envoy
// (or hostsim) as a reactor module: init registers the contexts, main is
// never called.
//
// The filter recognizes CloudEvents and JSON events in HTTP requests and
// routes, mirrors or brokers them per its pluginConfig (see the README,
// "Configuration" and "Behaviour").
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetPluginContext(func(id uint32) types.PluginContext { return newPluginContext(id) })
}

func main() {}
