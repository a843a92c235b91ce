// Command headers is the conformance guest for header maps: reading them, and
// when a mutation is allowed (Envoy: only in, or while paused from, the
// headers callback; BadArgument afterwards).
//
// Request header x-op lists mutations, comma-separated, each one of
// add:NAME=VALUE, replace:NAME=VALUE, remove:NAME (e.g.
// "x-op: add:x-a=1,replace:x-b=2,remove:x-c"). Request header
// "x-pause: headers" makes the headers callback return Pause.
//
// Log lines (info; values Go-quoted; err is an obs.Status token):
//
//	req_headers phase=request_headers num=N got=M err=E    num = callback argument, got = pairs read
//	header map=request name="K" value="V"                   one per pair read, in host order
//	op phase=P map=request kind=add|replace|remove name="K" err=E
//	get phase=P map=request name=":path" value="V" err=E
//	pairs phase=P map=request got=M err=E
//	resp_headers phase=response_headers num=N got=M err=E  then one "header map=response ..." per pair
//	resume phase=request_body err=E
//
// Sequence per stream:
//   - request headers: log all request headers, apply x-op to the request
//     headers (phase=request_headers), return Continue (or Pause).
//   - every request body callback, not paused: apply x-op to the request map,
//     then "get" of :path and "pairs" of the request map, all with
//     phase=request_body (Envoy: bad_argument, value "", got=0 not_found).
//   - paused in headers and the host still delivers the body (it held the
//     headers: allow_on_headers_stop_iteration): the same with
//     phase=request_body_held (Envoy: ok) on every chunk, returning Pause until
//     end of stream; then ResumeHttpRequest, log "resume", and the same again
//     with phase=request_body_after_resume, returning Continue. On a host that
//     does not hold headers no body callback comes and the stream stalls.
//   - response headers: log response headers, apply x-op to the request map
//     (phase=response_headers; Envoy: bad_argument), "get"/"pairs" of the
//     request map, then apply x-op to the response map (map=response; ok).
//   - every response body callback: apply x-op to the response map
//     (phase=response_body; Envoy: bad_argument).
package main

import (
	"strings"

	"github.com/eventroute/eventroute/testdata/guests/internal/obs"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetHttpContext(func(uint32) types.HttpContext { return &stream{} })
}

func main() {}

// mutation is one entry of the x-op header.
type mutation struct{ kind, name, value string }

// mapAPI is the set of SDK calls for one header map.
type mapAPI struct {
	label   string
	add     func(k, v string) error
	replace func(k, v string) error
	remove  func(k string) error
}

var (
	requestMap  = mapAPI{"request", proxywasm.AddHttpRequestHeader, proxywasm.ReplaceHttpRequestHeader, proxywasm.RemoveHttpRequestHeader}
	responseMap = mapAPI{"response", proxywasm.AddHttpResponseHeader, proxywasm.ReplaceHttpResponseHeader, proxywasm.RemoveHttpResponseHeader}
)

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
	ops    []mutation
	paused bool
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(numHeaders int, _ bool) types.Action {
	hs, err := proxywasm.GetHttpRequestHeaders()
	proxywasm.LogInfof("req_headers phase=request_headers num=%d got=%d err=%s", numHeaders, len(hs), obs.Status(err))
	for _, h := range hs {
		proxywasm.LogInfof("header map=request name=%q value=%q", h[0], h[1])
		switch h[0] {
		case "x-op":
			s.ops = parseOps(h[1])
		case "x-pause":
			s.paused = h[1] == "headers"
		}
	}
	apply("request_headers", requestMap, s.ops)
	if s.paused {
		return types.ActionPause
	}
	return types.ActionContinue
}

// OnHttpRequestBody implements types.HttpContext.
func (s *stream) OnHttpRequestBody(_ int, endOfStream bool) types.Action {
	if !s.paused {
		check("request_body", s.ops)
		return types.ActionContinue
	}
	check("request_body_held", s.ops)
	if !endOfStream {
		return types.ActionPause // keep holding the headers until the whole body is in
	}
	proxywasm.LogInfof("resume phase=request_body err=%s", obs.Status(proxywasm.ResumeHttpRequest()))
	s.paused = false
	check("request_body_after_resume", s.ops)
	return types.ActionContinue
}

// OnHttpResponseHeaders implements types.HttpContext.
func (s *stream) OnHttpResponseHeaders(numHeaders int, _ bool) types.Action {
	hs, err := proxywasm.GetHttpResponseHeaders()
	proxywasm.LogInfof("resp_headers phase=response_headers num=%d got=%d err=%s", numHeaders, len(hs), obs.Status(err))
	for _, h := range hs {
		proxywasm.LogInfof("header map=response name=%q value=%q", h[0], h[1])
	}
	check("response_headers", s.ops)
	apply("response_headers", responseMap, s.ops)
	return types.ActionContinue
}

// OnHttpResponseBody implements types.HttpContext.
func (s *stream) OnHttpResponseBody(int, bool) types.Action {
	apply("response_body", responseMap, s.ops)
	return types.ActionContinue
}

// check applies ops to the request headers, then logs a single-value read and
// a pairs read of them.
func check(phase string, ops []mutation) {
	apply(phase, requestMap, ops)
	v, err := proxywasm.GetHttpRequestHeader(":path")
	proxywasm.LogInfof("get phase=%s map=request name=\":path\" value=%q err=%s", phase, v, obs.Status(err))
	hs, err := proxywasm.GetHttpRequestHeaders()
	proxywasm.LogInfof("pairs phase=%s map=request got=%d err=%s", phase, len(hs), obs.Status(err))
}

// apply performs every mutation on m and logs each result.
func apply(phase string, m mapAPI, ops []mutation) {
	for _, op := range ops {
		var err error
		switch op.kind {
		case "add":
			err = m.add(op.name, op.value)
		case "replace":
			err = m.replace(op.name, op.value)
		case "remove":
			err = m.remove(op.name)
		}
		proxywasm.LogInfof("op phase=%s map=%s kind=%s name=%q err=%s", phase, m.label, op.kind, op.name, obs.Status(err))
	}
}

// parseOps reads the x-op header; malformed entries are ignored.
func parseOps(spec string) []mutation {
	var ops []mutation
	for _, entry := range strings.Split(spec, ",") {
		kind, rest, ok := strings.Cut(strings.TrimSpace(entry), ":")
		name, value, _ := strings.Cut(rest, "=")
		if ok && name != "" && (kind == "add" || kind == "replace" || kind == "remove") {
			ops = append(ops, mutation{kind, name, value})
		}
	}
	return ops
}
