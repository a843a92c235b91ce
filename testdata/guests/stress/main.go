// Command stress is the load guest that touches every host area a real plugin
// uses, for comparing one worker VM with several. Per request it:
//
//  1. reads request header x-stress-id (absent: "");
//  2. buffers the request body (Pause until end of stream);
//  3. dispatches POST /stress to cluster "backend" (:authority "backend",
//     header x-stress-id, the buffered body, timeout 5000 ms) and pauses;
//  4. in the call's callback counts the outcome and resumes the request.
//
// A request without body dispatches from the headers callback. When the
// dispatch is refused the request continues at once.
//
// Plugin configuration: tick period in ms (decimal; empty: 100). Each tick
// increments "stress.ticks".
//
// Counters: stress.requests (per request), stress.body_bytes (buffered bytes,
// when > 0), stress.dispatched, stress.dispatch_failed (refused calls),
// stress.responses (callbacks with headers), stress.resets (callbacks without
// headers), stress.ticks. Invariant once idle (and no stream was cancelled
// before its call returned; the SDK drops such callbacks): dispatched =
// responses + resets.
//
// Log lines: none per request. warn "dispatch_error err=E" for a refused call;
// critical "bad_config config=..." fails plugin start.
package main

import (
	"strconv"
	"strings"

	"github.com/eventroute/eventroute/testdata/guests/internal/obs"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &plugin{} })
}

func main() {}

// Dispatch target and defaults.
const (
	cluster          = "backend"
	dispatchTimeout  = 5000
	defaultTickMilli = 100
)

// counters are the guest's metrics.
type counters struct {
	requests, bodyBytes, dispatched, dispatchFailed, responses, resets, ticks proxywasm.MetricCounter
}

// plugin is the root context; it owns the counters and the timer.
type plugin struct {
	types.DefaultPluginContext
	c counters
}

// OnPluginStart implements types.PluginContext.
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	period := uint64(defaultTickMilli)
	if config, err := proxywasm.GetPluginConfiguration(); err == nil && strings.TrimSpace(string(config)) != "" {
		n, err := strconv.ParseUint(strings.TrimSpace(string(config)), 10, 32)
		if err != nil {
			proxywasm.LogCriticalf("bad_config config=%q", config)
			return types.OnPluginStartStatusFailed
		}
		period = n
	}
	p.c = counters{
		requests:       proxywasm.DefineCounterMetric("stress.requests"),
		bodyBytes:      proxywasm.DefineCounterMetric("stress.body_bytes"),
		dispatched:     proxywasm.DefineCounterMetric("stress.dispatched"),
		dispatchFailed: proxywasm.DefineCounterMetric("stress.dispatch_failed"),
		responses:      proxywasm.DefineCounterMetric("stress.responses"),
		resets:         proxywasm.DefineCounterMetric("stress.resets"),
		ticks:          proxywasm.DefineCounterMetric("stress.ticks"),
	}
	if err := proxywasm.SetTickPeriodMilliSeconds(uint32(period)); err != nil {
		proxywasm.LogWarnf("tick_period err=%s", obs.Status(err))
	}
	return types.OnPluginStartStatusOK
}

// OnTick implements types.PluginContext.
func (p *plugin) OnTick() { p.c.ticks.Increment(1) }

// NewHttpContext implements types.PluginContext.
func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &stream{c: &p.c} }

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
	c  *counters
	id string
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	s.c.requests.Increment(1)
	s.id, _ = proxywasm.GetHttpRequestHeader("x-stress-id")
	if endOfStream {
		return s.dispatch(nil)
	}
	return types.ActionContinue
}

// OnHttpRequestBody implements types.HttpContext.
func (s *stream) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	if !endOfStream {
		return types.ActionPause
	}
	var body []byte
	if bodySize > 0 {
		body, _ = proxywasm.GetHttpRequestBody(0, bodySize)
		s.c.bodyBytes.Increment(uint64(bodySize))
	}
	return s.dispatch(body)
}

// dispatch sends the call to the backend and pauses until its callback.
func (s *stream) dispatch(body []byte) types.Action {
	headers := [][2]string{{":method", "POST"}, {":path", "/stress"}, {":authority", cluster}, {"x-stress-id", s.id}}
	if _, err := proxywasm.DispatchHttpCall(cluster, headers, body, nil, dispatchTimeout, s.onResponse); err != nil {
		s.c.dispatchFailed.Increment(1)
		proxywasm.LogWarnf("dispatch_error err=%s", obs.Status(err))
		return types.ActionContinue
	}
	s.c.dispatched.Increment(1)
	return types.ActionPause
}

// onResponse counts the call's outcome and resumes the request.
func (s *stream) onResponse(numHeaders, _, _ int) {
	if numHeaders == 0 {
		s.c.resets.Increment(1)
	} else {
		s.c.responses.Increment(1)
	}
	if err := proxywasm.ResumeHttpRequest(); err != nil {
		proxywasm.LogWarnf("resume err=%s", obs.Status(err))
	}
}
