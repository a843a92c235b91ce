// Command body is the conformance guest for body buffering and the buffer API.
//
// The request body is held (Pause) until end of stream, so Envoy delivers the
// cumulative buffered size each time; at end of stream the guest reads the
// whole body, logs its size and SHA-256, optionally rewrites it, and
// continues. The response body is only observed (never held).
//
// Request header x-body-op (read in the headers callback, because headers
// cannot be read from body callbacks) selects a rewrite of the request body:
// append:TEXT, prepend:TEXT or replace:TEXT.
//
// Log lines (info; err is an obs.Status token):
//
//	body_chunk dir=request size=N eos=false              every request body callback before the end (returns Pause)
//	body dir=request size=N got=M sha256=HEX err=E       at end of stream; size = callback argument, got = bytes read
//	body_op op=append|prepend|replace len=L err=E         after the rewrite, if x-body-op was given
//	body_after dir=request got=M sha256=HEX err=E         body re-read after the rewrite
//	body dir=response size=N eos=true|false got=M sha256=HEX err=E   every response body callback
//
// An empty body read gives got=0 and err=not_found (the host returns no data;
// the SDK reports that as not found). HEX is the lower-case SHA-256 of the
// bytes read (that of the empty input when nothing was read).
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/eventroute/eventroute/testdata/guests/internal/obs"
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
	op, text string
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	if spec, err := proxywasm.GetHttpRequestHeader("x-body-op"); err == nil {
		s.op, s.text, _ = strings.Cut(spec, ":")
	}
	return types.ActionContinue
}

// OnHttpRequestBody implements types.HttpContext.
func (s *stream) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	if !endOfStream {
		proxywasm.LogInfof("body_chunk dir=request size=%d eos=false", bodySize)
		return types.ActionPause
	}
	body, err := proxywasm.GetHttpRequestBody(0, bodySize)
	proxywasm.LogInfof("body dir=request size=%d got=%d sha256=%s err=%s", bodySize, len(body), digest(body), obs.Status(err))
	if s.op == "" {
		return types.ActionContinue
	}
	data := []byte(s.text)
	switch s.op {
	case "append":
		err = proxywasm.AppendHttpRequestBody(data)
	case "prepend":
		err = proxywasm.PrependHttpRequestBody(data)
	case "replace":
		err = proxywasm.ReplaceHttpRequestBody(data)
	default:
		proxywasm.LogWarnf("body_op op=%q err=unknown_op", s.op)
		return types.ActionContinue
	}
	proxywasm.LogInfof("body_op op=%s len=%d err=%s", s.op, len(data), obs.Status(err))
	after, err := proxywasm.GetHttpRequestBody(0, 1<<30)
	proxywasm.LogInfof("body_after dir=request got=%d sha256=%s err=%s", len(after), digest(after), obs.Status(err))
	return types.ActionContinue
}

// OnHttpResponseBody implements types.HttpContext.
func (s *stream) OnHttpResponseBody(bodySize int, endOfStream bool) types.Action {
	body, err := proxywasm.GetHttpResponseBody(0, bodySize)
	proxywasm.LogInfof("body dir=response size=%d eos=%t got=%d sha256=%s err=%s",
		bodySize, endOfStream, len(body), digest(body), obs.Status(err))
	return types.ActionContinue
}

// digest is the lower-case hex SHA-256 of b.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
