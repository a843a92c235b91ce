// Command chatty writes to stdout and stderr with fmt (WASI fd_write on fds 1
// and 2; Envoy logs fd 1 at info and fd 2 at error, one trailing newline
// stripped) and reads an environment variable of the VM
// (vm_config.environment_variables in Envoy; os.LookupEnv → environ_get).
//
// Plugin configuration: the variable's name (default "CHATTY_VAR" when empty).
//
// Output (stdout/stderr lines are written by fmt, not proxy_log):
//
//	stdout: chatty stdout phase=plugin_start
//	proxy_log info: env name="NAME" value="VALUE" set=true|false    plugin start
//	stdout: chatty stdout phase=request_headers n=N                 N = 1, 2, … per VM
//	stderr: chatty stderr phase=request_headers n=N
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &plugin{} })
}

func main() {}

// defaultVariable is read when the plugin configuration is empty.
const defaultVariable = "CHATTY_VAR"

// plugin is the root context; it counts requests.
type plugin struct {
	types.DefaultPluginContext
	requests int
}

// OnPluginStart implements types.PluginContext.
func (*plugin) OnPluginStart(int) types.OnPluginStartStatus {
	fmt.Println("chatty stdout phase=plugin_start")
	name := defaultVariable
	if config, err := proxywasm.GetPluginConfiguration(); err == nil && strings.TrimSpace(string(config)) != "" {
		name = strings.TrimSpace(string(config))
	}
	value, set := os.LookupEnv(name)
	proxywasm.LogInfof("env name=%q value=%q set=%t", name, value, set)
	return types.OnPluginStartStatusOK
}

// NewHttpContext implements types.PluginContext.
func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &stream{plugin: p} }

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
	plugin *plugin
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	s.plugin.requests++
	fmt.Printf("chatty stdout phase=request_headers n=%d\n", s.plugin.requests)
	fmt.Fprintf(os.Stderr, "chatty stderr phase=request_headers n=%d\n", s.plugin.requests)
	return types.ActionContinue
}
