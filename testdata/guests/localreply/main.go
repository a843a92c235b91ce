// Command localreply is the conformance guest for proxy_send_local_response.
//
// In the request headers callback it answers the request itself: status from
// header x-status (default 403), body "local reply from guest\n", and response
// header "x-local-reply: guest". It then returns Pause, or Continue when
// header "x-return: continue" is present (Envoy overrides the result to stop
// after a local reply either way, so the upstream must never be contacted).
// A request with header "x-skip: 1" is not answered and continues normally.
//
// Envoy runs a local reply through the encoder chain, so the guest sees its
// own reply in its response callbacks; it logs whether the reply carries its
// marker header, and never replies a second time.
//
// Log lines (info; values Go-quoted; err is an obs.Status token):
//
//	local_reply status=N err=E                                 request headers
//	response_headers status="S" own_reply=true|false err=E     S = ":status"; err is that of reading it
//	response_body size=N eos=true|false
package main

import (
	"strconv"

	"github.com/eventroute/eventroute/testdata/guests/internal/obs"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetHttpContext(func(uint32) types.HttpContext { return &stream{} })
}

func main() {}

// The reply's default status, body and marker header.
const (
	defaultStatus = 403
	replyBody     = "local reply from guest\n"
	markerName    = "x-local-reply"
	markerValue   = "guest"
)

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
}

// OnHttpRequestHeaders implements types.HttpContext.
func (*stream) OnHttpRequestHeaders(int, bool) types.Action {
	if _, err := proxywasm.GetHttpRequestHeader("x-skip"); err == nil {
		return types.ActionContinue
	}
	status := uint32(defaultStatus)
	if v, err := proxywasm.GetHttpRequestHeader("x-status"); err == nil {
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			status = uint32(n)
		}
	}
	err := proxywasm.SendHttpResponse(status, [][2]string{{markerName, markerValue}}, []byte(replyBody), -1)
	proxywasm.LogInfof("local_reply status=%d err=%s", status, obs.Status(err))
	if v, _ := proxywasm.GetHttpRequestHeader("x-return"); v == "continue" {
		return types.ActionContinue
	}
	return types.ActionPause
}

// OnHttpResponseHeaders implements types.HttpContext.
func (*stream) OnHttpResponseHeaders(int, bool) types.Action {
	status, err := proxywasm.GetHttpResponseHeader(":status")
	marker, _ := proxywasm.GetHttpResponseHeader(markerName)
	proxywasm.LogInfof("response_headers status=%q own_reply=%t err=%s", status, marker == markerValue, obs.Status(err))
	return types.ActionContinue
}

// OnHttpResponseBody implements types.HttpContext.
func (*stream) OnHttpResponseBody(bodySize int, endOfStream bool) types.Action {
	proxywasm.LogInfof("response_body size=%d eos=%t", bodySize, endOfStream)
	return types.ActionContinue
}
