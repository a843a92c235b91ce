// Command hs-holdbody pauses every request in its headers callback, dispatches a call to cluster "auth" and
// continues the request from the call's callback; it logs every request body callback. On Envoy's default
// (StopAllIterationAndWatermark) the body that arrived while the headers were paused is delivered to this
// filter after it continues, in one callback with the whole buffered size.
//
// Log lines (info):
//
//	paused                     request headers callback (returns Pause)
//	callback headers=N         in the call's callback, before resuming
//	body size=N eos=B          every request body callback (returns Continue)
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
type stream struct{ types.DefaultHttpContext }

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	headers := [][2]string{{":method", "GET"}, {":path", "/check"}, {":authority", "auth"}}
	if _, err := proxywasm.DispatchHttpCall("auth", headers, nil, nil, 1000, s.onResponse); err != nil {
		proxywasm.LogInfof("dispatch_error err=%v", err)
		return types.ActionContinue
	}
	proxywasm.LogInfo("paused")
	return types.ActionPause
}

func (s *stream) onResponse(numHeaders, _, _ int) {
	proxywasm.LogInfof("callback headers=%d", numHeaders)
	_ = proxywasm.ResumeHttpRequest()
}

// OnHttpRequestBody implements types.HttpContext.
func (s *stream) OnHttpRequestBody(size int, eos bool) types.Action {
	proxywasm.LogInfof("body size=%d eos=%t", size, eos)
	return types.ActionContinue
}
