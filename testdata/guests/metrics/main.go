//go:build wasip1

// Command metrics is the conformance guest for proxy-wasm metrics.
//
// On plugin start it defines counter "guest.requests", gauge "guest.gauge" and
// histogram "guest.histogram". Per request (request headers callback):
//   - increments the counter by 1 and reads it back;
//   - if header x-gauge (int64) is present, sets the gauge with
//     proxy_record_metric (Envoy: record on a gauge sets it) and reads it back;
//   - records header x-hist (uint64, default 1) in the histogram;
//   - if header x-probe is present, makes raw metric host calls that Envoy
//     rejects and logs the status codes (the SDK would panic on them);
//   - if header "x-bad: zero" is present, calls the SDK's Increment(0) on the
//     counter. Envoy answers BadArgument, on which the SDK panics: the guest
//     catches nothing, so this TRAPS (the VM fails) after logging "increment_zero".
//
// Log lines (info; S = numeric proxy-wasm status, 0 ok, 1 not found, 2 bad argument):
//
//	defined counter=ID gauge=ID histogram=ID
//	request counter=N                      counter value after the increment
//	gauge set=V status=S value=G           G = gauge value read back
//	histogram record=V
//	probe name=NAME status=S value=X       X = value written by the host (0 if none); NAME and Envoy's S:
//	  counter_inc_zero 2, counter_inc_negative 2, counter_record_5 0 (adds 5, X = counter after),
//	  gauge_inc_negative 0 (X = gauge after), histogram_inc 2, histogram_get 2, unknown_inc 1,
//	  unknown_get 1, define_bad_type 2, redefine_counter 0 (X = the new id)
//	increment_zero                         just before the trapping call
package main

import (
	"strconv"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// The metric host calls, imported directly so their status codes can be seen.

//go:wasmimport env proxy_increment_metric
func rawIncrement(id uint32, delta int64) uint32

//go:wasmimport env proxy_record_metric
func rawRecord(id uint32, value uint64) uint32

//go:wasmimport env proxy_get_metric
func rawGet(id uint32, out *uint64) uint32

//go:wasmimport env proxy_define_metric
func rawDefine(metricType uint32, name *byte, nameLen uint32, id *uint32) uint32

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &plugin{} })
}

func main() {}

// unknownMetricID is an id no host hands out for a module that defined three metrics.
const unknownMetricID = 1_000_004

// plugin is the root context holding the metric ids.
type plugin struct {
	types.DefaultPluginContext
	counter   proxywasm.MetricCounter
	gauge     proxywasm.MetricGauge
	histogram proxywasm.MetricHistogram
}

// OnPluginStart implements types.PluginContext.
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	p.counter = proxywasm.DefineCounterMetric("guest.requests")
	p.gauge = proxywasm.DefineGaugeMetric("guest.gauge")
	p.histogram = proxywasm.DefineHistogramMetric("guest.histogram")
	proxywasm.LogInfof("defined counter=%d gauge=%d histogram=%d", p.counter, p.gauge, p.histogram)
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
	p := s.plugin
	p.counter.Increment(1)
	proxywasm.LogInfof("request counter=%d", p.counter.Value())
	if v, err := proxywasm.GetHttpRequestHeader("x-gauge"); err == nil {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			st := rawRecord(uint32(p.gauge), uint64(n))
			proxywasm.LogInfof("gauge set=%d status=%d value=%d", n, st, p.gauge.Value())
		}
	}
	hist := uint64(1)
	if v, err := proxywasm.GetHttpRequestHeader("x-hist"); err == nil {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			hist = n
		}
	}
	p.histogram.Record(hist)
	proxywasm.LogInfof("histogram record=%d", hist)
	if _, err := proxywasm.GetHttpRequestHeader("x-probe"); err == nil {
		p.probe()
	}
	if v, _ := proxywasm.GetHttpRequestHeader("x-bad"); v == "zero" {
		proxywasm.LogInfo("increment_zero")
		p.counter.Increment(0) // the SDK panics on the host's BadArgument: traps
	}
	return types.ActionContinue
}

// probe makes the metric calls Envoy rejects and logs their status codes.
func (p *plugin) probe() {
	counter, gauge, histogram := uint32(p.counter), uint32(p.gauge), uint32(p.histogram)
	logProbe := func(name string, status uint32, value uint64) {
		proxywasm.LogInfof("probe name=%s status=%d value=%d", name, status, value)
	}
	var v uint64
	logProbe("counter_inc_zero", rawIncrement(counter, 0), 0)
	logProbe("counter_inc_negative", rawIncrement(counter, -1), 0)
	st := rawRecord(counter, 5)
	rawGet(counter, &v)
	logProbe("counter_record_5", st, v)
	st = rawIncrement(gauge, -3)
	v = 0
	rawGet(gauge, &v)
	logProbe("gauge_inc_negative", st, v)
	logProbe("histogram_inc", rawIncrement(histogram, 1), 0)
	v = 0
	logProbe("histogram_get", rawGet(histogram, &v), v)
	logProbe("unknown_inc", rawIncrement(unknownMetricID, 1), 0)
	v = 0
	logProbe("unknown_get", rawGet(unknownMetricID, &v), v)
	var id uint32
	bad := []byte("guest.bad_type")
	logProbe("define_bad_type", rawDefine(3, &bad[0], uint32(len(bad)), &id), uint64(id))
	id = 0
	name := []byte("guest.requests")
	logProbe("redefine_counter", rawDefine(0, &name[0], uint32(len(name)), &id), uint64(id))
}
