// Command tick is the conformance guest for timers (proxy_set_tick_period_milliseconds,
// proxy_on_tick) and counters.
//
// Plugin configuration: "PERIOD_MS" or "PERIOD_MS,STOP_AFTER" (decimal), e.g.
// "100" or "100,3". On plugin start the guest defines counter "tick.count" and
// sets the tick period. Each tick increments the counter by 1 and logs; after
// STOP_AFTER ticks (if given) it sets the period to 0, which must stop ticks.
// A bad configuration fails plugin start (LogCritical + failed status).
//
// Request header x-tick-ms (decimal) sets the tick period from the stream
// context instead; the timer belongs to the root context.
//
// Log lines (err is an obs.Status token):
//
//	tick_period phase=plugin_start ms=P err=E       info, on plugin start
//	tick n=N                                        info, N = 1, 2, 3 … per root context
//	tick_period phase=tick ms=0 err=E               info, after the STOP_AFTER-th tick
//	tick_period phase=request_headers ms=P err=E    info, when x-tick-ms is present
//	bad_config config="..." err="..."               critical, then plugin start fails
package main

import (
	"fmt"
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

// plugin is the root context; it owns the timer and the tick count.
type plugin struct {
	types.DefaultPluginContext
	ticks     proxywasm.MetricCounter
	n         int
	stopAfter int
}

// OnPluginStart implements types.PluginContext.
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	config, err := proxywasm.GetPluginConfiguration()
	if err != nil {
		proxywasm.LogCriticalf("bad_config config=\"\" err=%q", obs.Status(err))
		return types.OnPluginStartStatusFailed
	}
	period, stopAfter, err := parseConfig(string(config))
	if err != nil {
		proxywasm.LogCriticalf("bad_config config=%q err=%q", config, err.Error())
		return types.OnPluginStartStatusFailed
	}
	p.stopAfter = stopAfter
	p.ticks = proxywasm.DefineCounterMetric("tick.count")
	err = proxywasm.SetTickPeriodMilliSeconds(period)
	proxywasm.LogInfof("tick_period phase=plugin_start ms=%d err=%s", period, obs.Status(err))
	return types.OnPluginStartStatusOK
}

// OnTick implements types.PluginContext.
func (p *plugin) OnTick() {
	p.n++
	p.ticks.Increment(1)
	proxywasm.LogInfof("tick n=%d", p.n)
	if p.n == p.stopAfter {
		err := proxywasm.SetTickPeriodMilliSeconds(0)
		proxywasm.LogInfof("tick_period phase=tick ms=0 err=%s", obs.Status(err))
	}
}

// NewHttpContext implements types.PluginContext.
func (*plugin) NewHttpContext(uint32) types.HttpContext { return &stream{} }

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
}

// OnHttpRequestHeaders implements types.HttpContext.
func (*stream) OnHttpRequestHeaders(int, bool) types.Action {
	v, err := proxywasm.GetHttpRequestHeader("x-tick-ms")
	if err != nil {
		return types.ActionContinue
	}
	ms, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		proxywasm.LogWarnf("bad_tick_header value=%q", v)
		return types.ActionContinue
	}
	err = proxywasm.SetTickPeriodMilliSeconds(uint32(ms))
	proxywasm.LogInfof("tick_period phase=request_headers ms=%d err=%s", ms, obs.Status(err))
	return types.ActionContinue
}

// parseConfig reads "PERIOD_MS" or "PERIOD_MS,STOP_AFTER"; stopAfter 0 means never stop.
func parseConfig(config string) (period uint32, stopAfter int, err error) {
	periodText, stopText, hasStop := strings.Cut(strings.TrimSpace(config), ",")
	p, err := strconv.ParseUint(strings.TrimSpace(periodText), 10, 32)
	if err != nil {
		return 0, 0, fmt.Errorf("period: %w", err)
	}
	if hasStop {
		s, err := strconv.ParseUint(strings.TrimSpace(stopText), 10, 31)
		if err != nil {
			return 0, 0, fmt.Errorf("stop after: %w", err)
		}
		stopAfter = int(s)
	}
	return uint32(p), stopAfter, nil
}
