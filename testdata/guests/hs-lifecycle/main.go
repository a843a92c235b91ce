//go:build wasip1

// Command hs-lifecycle logs the plugin-level callbacks hostsim's lifecycle tests observe: VM start, plugin
// start with its root context id, stream creation with its context id, stream end, plugin done. Request header
// "x-close: 1" makes the request headers callback reset the stream (proxy_close_stream).
//
// Log lines (info):
//
//	vm_start config="..."                 proxy_on_vm_start (VM configuration)
//	plugin_start root=ID config="..."     proxy_on_configure
//	stream_start id=ID root=ID            proxy_on_context_create of a stream
//	stream_done id=ID                     proxy_on_log (OnHttpStreamDone)
//	plugin_done root=ID                   proxy_on_done of the root
//	close status=S                        after proxy_close_stream(request); S = numeric status
package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// rawCloseStream is proxy_close_stream, which the SDK does not expose for HTTP streams.
//
//go:wasmimport env proxy_close_stream
func rawCloseStream(streamType uint32) uint32

func init() { proxywasm.SetVMContext(&vmContext{}) }

func main() {}

// vmContext is the VM context.
type vmContext struct{ types.DefaultVMContext }

// OnVMStart implements types.VMContext.
func (*vmContext) OnVMStart(int) types.OnVMStartStatus {
	cfg, _ := proxywasm.GetVMConfiguration()
	proxywasm.LogInfof("vm_start config=%q", cfg)
	return types.OnVMStartStatusOK
}

// NewPluginContext implements types.VMContext.
func (*vmContext) NewPluginContext(id uint32) types.PluginContext { return &plugin{id: id} }

// plugin is a root context.
type plugin struct {
	types.DefaultPluginContext
	id uint32
}

// OnPluginStart implements types.PluginContext.
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, _ := proxywasm.GetPluginConfiguration()
	proxywasm.LogInfof("plugin_start root=%d config=%q", p.id, cfg)
	return types.OnPluginStartStatusOK
}

// OnPluginDone implements types.PluginContext.
func (p *plugin) OnPluginDone() bool {
	proxywasm.LogInfof("plugin_done root=%d", p.id)
	return true
}

// NewHttpContext implements types.PluginContext.
func (p *plugin) NewHttpContext(id uint32) types.HttpContext {
	proxywasm.LogInfof("stream_start id=%d root=%d", id, p.id)
	return &stream{id: id}
}

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
	id uint32
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	if v, err := proxywasm.GetHttpRequestHeader("x-close"); err == nil && v == "1" {
		proxywasm.LogInfof("close status=%d", rawCloseStream(0))
		return types.ActionPause
	}
	return types.ActionContinue
}

// OnHttpStreamDone implements types.HttpContext.
func (s *stream) OnHttpStreamDone() { proxywasm.LogInfof("stream_done id=%d", s.id) }
