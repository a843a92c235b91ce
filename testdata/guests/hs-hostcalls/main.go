//go:build wasip1

// Command hs-hostcalls measures host-call cost: its request headers callback calls
// proxy_get_header_map_value N times for one request header, then continues. The plugin configuration is
// "N NAME" (e.g. "100 :path" reads a present header, so each call copies the value out through
// proxy_on_memory_allocate; "100 x-missing" reads an absent one, so each call is a bare host call). A bad
// configuration fails the plugin start with a critical log "bad_config ...". Nothing is logged per request;
// a read that does not return the outcome the first call saw logs "unexpected err=..." once per request at
// error level.
package main

import (
	"strconv"
	"strings"
	"unsafe"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// rawGetHeaderMapValue is proxy_get_header_map_value, called directly so the measurement holds no SDK code.
//
//go:wasmimport env proxy_get_header_map_value
func rawGetHeaderMapValue(mapType uint32, key *byte, keySize uint32, valueData unsafe.Pointer, valueSize *uint32) uint32

func init() { proxywasm.SetVMContext(&vmContext{}) }

func main() {}

// vmContext is the VM context.
type vmContext struct{ types.DefaultVMContext }

// NewPluginContext implements types.VMContext.
func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

// plugin is the root context holding the configuration.
type plugin struct {
	types.DefaultPluginContext
	calls int
	name  string
	sdk   bool
}

// OnPluginStart implements types.PluginContext.
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, err := proxywasm.GetPluginConfiguration()
	if err != nil {
		proxywasm.LogCriticalf("bad_config err=%v", err)
		return types.OnPluginStartStatusFailed
	}
	fields := strings.Fields(string(cfg))
	if len(fields) < 2 || len(fields) > 3 || len(fields) == 3 && fields[2] != "sdk" {
		proxywasm.LogCriticalf("bad_config config=%q", cfg)
		return types.OnPluginStartStatusFailed
	}
	calls, err := strconv.Atoi(fields[0])
	if err != nil || calls < 0 {
		proxywasm.LogCriticalf("bad_config config=%q", cfg)
		return types.OnPluginStartStatusFailed
	}
	p.calls, p.name, p.sdk = calls, fields[1], len(fields) == 3
	return types.OnPluginStartStatusOK
}

// NewHttpContext implements types.PluginContext.
func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &stream{plugin: p} }

// stream is one request.
type stream struct {
	types.DefaultHttpContext
	plugin *plugin
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	if s.plugin.sdk {
		_, first := proxywasm.GetHttpRequestHeader(s.plugin.name)
		for i := 1; i < s.plugin.calls; i++ {
			if _, err := proxywasm.GetHttpRequestHeader(s.plugin.name); err != first {
				proxywasm.LogErrorf("unexpected err=%v", err)
				break
			}
		}
		return types.ActionContinue
	}
	name := unsafe.StringData(s.plugin.name)
	size := uint32(len(s.plugin.name))
	var data *byte
	var n uint32
	first := rawGetHeaderMapValue(0, name, size, unsafe.Pointer(&data), &n)
	for i := 1; i < s.plugin.calls; i++ {
		if st := rawGetHeaderMapValue(0, name, size, unsafe.Pointer(&data), &n); st != first {
			proxywasm.LogErrorf("unexpected err=status_%d", st)
			break
		}
	}
	return types.ActionContinue
}
