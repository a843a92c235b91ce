// Command trailers is the conformance guest for trailer maps: reading them,
// and adding trailers from the last body callback (Envoy creates the trailer
// map when the final body chunk, eos=true, arrives without trailers).
//
// Per direction (dir=request|response):
//   - every body callback: tries to add trailer "x-guest-trailer: added-in-body"
//     and logs the result; Envoy accepts it only when eos=true and no
//     trailers follow.
//   - trailers callback: logs every trailer, then replaces "x-guest-replaced"
//     with "yes" and logs the result (Envoy: ok).
//
// Log lines (info; values Go-quoted; err is an obs.Status token):
//
//	add_trailer dir=D eos=true|false err=E
//	trailers dir=D num=N got=M err=E        N = callback argument, M = pairs read
//	trailer dir=D name="K" value="V"        one per pair read, in host order
//	replace_trailer dir=D name="x-guest-replaced" err=E
package main

import (
	"github.com/eventroute/eventroute/testdata/guests/internal/obs"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetHttpContext(func(uint32) types.HttpContext { return &stream{} })
}

func main() {}

// Names and value of the trailers the guest writes.
const (
	addedName    = "x-guest-trailer"
	addedValue   = "added-in-body"
	replacedName = "x-guest-replaced"
)

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
}

// OnHttpRequestBody implements types.HttpContext.
func (*stream) OnHttpRequestBody(_ int, endOfStream bool) types.Action {
	err := proxywasm.AddHttpRequestTrailer(addedName, addedValue)
	proxywasm.LogInfof("add_trailer dir=request eos=%t err=%s", endOfStream, obs.Status(err))
	return types.ActionContinue
}

// OnHttpRequestTrailers implements types.HttpContext.
func (*stream) OnHttpRequestTrailers(numTrailers int) types.Action {
	ts, err := proxywasm.GetHttpRequestTrailers()
	logTrailers("request", numTrailers, ts, err)
	err = proxywasm.ReplaceHttpRequestTrailer(replacedName, "yes")
	proxywasm.LogInfof("replace_trailer dir=request name=%q err=%s", replacedName, obs.Status(err))
	return types.ActionContinue
}

// OnHttpResponseBody implements types.HttpContext.
func (*stream) OnHttpResponseBody(_ int, endOfStream bool) types.Action {
	err := proxywasm.AddHttpResponseTrailer(addedName, addedValue)
	proxywasm.LogInfof("add_trailer dir=response eos=%t err=%s", endOfStream, obs.Status(err))
	return types.ActionContinue
}

// OnHttpResponseTrailers implements types.HttpContext.
func (*stream) OnHttpResponseTrailers(numTrailers int) types.Action {
	ts, err := proxywasm.GetHttpResponseTrailers()
	logTrailers("response", numTrailers, ts, err)
	err = proxywasm.ReplaceHttpResponseTrailer(replacedName, "yes")
	proxywasm.LogInfof("replace_trailer dir=response name=%q err=%s", replacedName, obs.Status(err))
	return types.ActionContinue
}

// logTrailers logs the summary line and one line per trailer.
func logTrailers(dir string, num int, ts [][2]string, err error) {
	proxywasm.LogInfof("trailers dir=%s num=%d got=%d err=%s", dir, num, len(ts), obs.Status(err))
	for _, t := range ts {
		proxywasm.LogInfof("trailer dir=%s name=%q value=%q", dir, t[0], t[1])
	}
}
