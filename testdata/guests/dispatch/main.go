// Command dispatch is the conformance guest for proxy_http_call.
//
// In the request headers callback it dispatches one HTTP call and pauses the
// request until the response callback, which logs what arrived, adds request
// header "x-dispatch-status: <status>" (or "reset") and resumes the request.
//
// Request headers it reads:
//
//	x-cluster     cluster name (required; absent: the call is made with cluster "")
//	x-timeout-ms  call timeout in ms (default 1000; 0 = no timeout)
//	x-call-path   :path of the call (default "/")
//	x-call-body   body of the call; when present the method is POST, else GET
//
// The call carries :method, :path, :authority (= cluster name) and
// "x-guest: dispatch".
//
// Log lines (info; values Go-quoted; err is an obs.Status token):
//
//	dispatch_error cluster="C" err=E          the call was refused (Envoy: unknown cluster → bad_argument);
//	                                          the request then continues at once, no callback
//	dispatched cluster="C" timeout_ms=T       the call was accepted; the request is paused
//	response status="S" headers=N body_size=B trailers=T    in the callback; S = ":status" ("" if none)
//	response_body body="..."                  first 64 bytes of the call's response body ("" if none)
//	reset                                     instead of both lines above when num_headers == 0 (failed/reset call)
//	mark err=E                                result of adding x-dispatch-status to the paused request
//	resume err=E                              result of ResumeHttpRequest
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

// maxLoggedBody bounds the part of the call's response body that is logged.
const maxLoggedBody = 64

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	cluster := header("x-cluster", "")
	timeout, err := strconv.ParseUint(header("x-timeout-ms", "1000"), 10, 32)
	if err != nil {
		proxywasm.LogWarnf("bad_timeout value=%q", header("x-timeout-ms", ""))
		timeout = 1000
	}
	method, body := "GET", []byte(nil)
	if b, err := proxywasm.GetHttpRequestHeader("x-call-body"); err == nil {
		method, body = "POST", []byte(b)
	}
	headers := [][2]string{
		{":method", method},
		{":path", header("x-call-path", "/")},
		{":authority", cluster},
		{"x-guest", "dispatch"},
	}
	if _, err := proxywasm.DispatchHttpCall(cluster, headers, body, nil, uint32(timeout), s.onResponse); err != nil {
		proxywasm.LogInfof("dispatch_error cluster=%q err=%s", cluster, obs.Status(err))
		return types.ActionContinue
	}
	proxywasm.LogInfof("dispatched cluster=%q timeout_ms=%d", cluster, timeout)
	return types.ActionPause
}

// onResponse is the DispatchHttpCall callback.
func (s *stream) onResponse(numHeaders, bodySize, numTrailers int) {
	status := "reset"
	if numHeaders == 0 {
		proxywasm.LogInfo("reset")
	} else {
		status = ""
		hs, _ := proxywasm.GetHttpCallResponseHeaders()
		for _, h := range hs {
			if h[0] == ":status" {
				status = h[1]
			}
		}
		proxywasm.LogInfof("response status=%q headers=%d body_size=%d trailers=%d", status, numHeaders, bodySize, numTrailers)
		var body []byte
		if bodySize > 0 {
			body, _ = proxywasm.GetHttpCallResponseBody(0, min(bodySize, maxLoggedBody))
		}
		proxywasm.LogInfof("response_body body=%q", body)
	}
	proxywasm.LogInfof("mark err=%s", obs.Status(proxywasm.AddHttpRequestHeader("x-dispatch-status", status)))
	proxywasm.LogInfof("resume err=%s", obs.Status(proxywasm.ResumeHttpRequest()))
}

// header returns the request header's value, or def when it is absent.
func header(name, def string) string {
	if v, err := proxywasm.GetHttpRequestHeader(name); err == nil {
		return v
	}
	return def
}
