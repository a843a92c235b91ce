// Command sleeper calls time.Sleep(1 * time.Millisecond) in every request
// headers callback. A Go sleep parks the goroutine and the runtime then waits
// in poll_oneoff: on hosts whose poll_oneoff fails with ENOSYS (Envoy
// 1.33–1.38) the Go runtime throws "poll_oneoff failed" and the module TRAPS;
// on hosts that answer 0 events (fixed Envoy, wazero) the sleep busy-polls and
// returns.
//
// Log lines (info):
//
//	sleep_start      before the sleep
//	slept            after it returned (never reached on ENOSYS hosts)
package main

import (
	"time"

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
	proxywasm.LogInfo("sleep_start")
	time.Sleep(1 * time.Millisecond)
	proxywasm.LogInfo("slept")
	return types.ActionContinue
}
