// Command bound is the lower-bound guest of the plugin's benchmarks. For one
// benchmark request it makes exactly the host calls that any implementation
// of the plugin on proxy-wasm-go-sdk must make (SPEC §3.3 and §3.4), through
// the cheapest route the ABI offers, and does no other work: it parses,
// matches and encodes nothing, and every value it writes is fixed at start.
// The plugin benchmarks time it against the empty guest in the same run, so
// its ratio to the floor is the smallest any plugin can reach on this host
// for that request; a target below it cannot be met by changing the plugin.
//
// The plugin configuration is one word naming the request it is built for:
//
//	non-event          a request that carries no event: in the request headers
//	                   callback, counter eventroute.requests and three header
//	                   lookups that find nothing (the route header, then
//	                   ce-specversion and content-type, which decide that the
//	                   request carries no event).
//	binary-route       a binary-mode CloudEvent routed by its headers: in the
//	                   request headers callback, one read of all request
//	                   headers (the ce-* attributes and the route-header
//	                   check in one call), counters eventroute.requests,
//	                   eventroute.events.binary and eventroute.route.r.matched,
//	                   and three header replacements (route header,
//	                   :authority, :path).
//	structured-mirror  a structured-mode CloudEvent mirrored as-is to the
//	                   clusters "audit" and "orig": in the request headers
//	                   callback, one read of all request headers and counter
//	                   eventroute.requests; in the end-of-stream body
//	                   callback, the body, counters eventroute.events.structured
//	                   and eventroute.mirror.m.matched, then per cluster one
//	                   proxy_http_call carrying the body and five headers
//	                   (through the SDK, which must know every callout), a
//	                   clock read and counter sent; in each answer, :status,
//	                   a clock read, the cluster's counter delivered and
//	                   histogram latency_ms.
//
// Any other configuration fails plugin start with a critical log
// "bound: unknown scenario". Nothing is logged per request.
package main

import (
	"time"
	"unsafe"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetVMContext(&vmContext{})
}

func main() {}

//go:wasmimport env proxy_get_header_map_pairs
func getHeaderMapPairs(mapType uint32, data unsafe.Pointer, size *int32) uint32

//go:wasmimport env proxy_get_header_map_value
func getHeaderMapValue(mapType uint32, key *byte, keySize int32, data unsafe.Pointer, size *int32) uint32

//go:wasmimport env proxy_replace_header_map_value
func replaceHeaderMapValue(mapType uint32, key *byte, keySize int32, value *byte, valueSize int32) uint32

//go:wasmimport env proxy_get_buffer_bytes
func getBufferBytes(bufferType uint32, start, maxSize int32, data unsafe.Pointer, size *int32) uint32

//go:wasmimport env proxy_increment_metric
func incrementMetric(id uint32, offset int64) uint32

//go:wasmimport env proxy_record_metric
func recordMetric(id uint32, value uint64) uint32

type vmContext struct{ types.DefaultVMContext }

// NewPluginContext implements types.VMContext.
func (*vmContext) NewPluginContext(uint32) types.PluginContext { return &plugin{} }

// plugin holds the fixed values and the reused out-parameters.
type plugin struct {
	types.DefaultPluginContext
	mirror, nonEvent bool

	requests, events, matched uint32
	clusters                  [2]string
	sent, delivered, latency  [2]uint32
	callHeaders               [][2]string
	sentAt                    [2]time.Time
	onAnswer                  [2]func(numHeaders, bodySize, numTrailers int)

	data *byte
	size int32
	ctx  stream
}

// OnPluginStart implements types.PluginContext.
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	cfg, err := proxywasm.GetPluginConfiguration()
	if err != nil {
		proxywasm.LogCritical("bound: no configuration")
		return types.OnPluginStartStatusFailed
	}
	counter := func(name string) uint32 { return uint32(proxywasm.DefineCounterMetric(name)) }
	p.requests = counter("eventroute.requests")
	switch string(cfg) {
	case "non-event":
		p.nonEvent = true
	case "binary-route":
		p.events = counter("eventroute.events.binary")
		p.matched = counter("eventroute.route.r.matched")
	case "structured-mirror":
		p.mirror = true
		p.events = counter("eventroute.events.structured")
		p.matched = counter("eventroute.mirror.m.matched")
		p.clusters = [2]string{"audit", "orig"}
		for i, c := range p.clusters {
			p.sent[i] = counter("eventroute.subscriber." + c + ".sent")
			p.delivered[i] = counter("eventroute.subscriber." + c + ".delivered")
			p.latency[i] = uint32(proxywasm.DefineHistogramMetric("eventroute.subscriber." + c + ".latency_ms"))
			p.onAnswer[i] = func(int, int, int) { p.answered(i) }
		}
		p.callHeaders = [][2]string{{":method", "POST"}, {":path", "/orig"}, {":authority", "orig"},
			{"content-type", "application/cloudevents+json"}, {"x-eventroute-hop", "1"}}
	default:
		proxywasm.LogCritical("bound: unknown scenario")
		return types.OnPluginStartStatusFailed
	}
	return types.OnPluginStartStatusOK
}

// NewHttpContext implements types.PluginContext: one stream context is
// reused (the benchmark runs one request at a time per VM).
func (p *plugin) NewHttpContext(uint32) types.HttpContext {
	p.ctx.p = p
	return &p.ctx
}

// stream is the per-request context.
type stream struct {
	types.DefaultHttpContext
	p *plugin
}

// readRequestHeaders reads every request header in one host call.
func (p *plugin) readRequestHeaders() {
	_ = getHeaderMapPairs(0, unsafe.Pointer(&p.data), &p.size)
}

// replace sets a request header.
func replace(key, value string) {
	_ = replaceHeaderMapValue(0, unsafe.StringData(key), int32(len(key)), unsafe.StringData(value), int32(len(value)))
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	p := s.p
	_ = incrementMetric(p.requests, 1)
	if p.nonEvent {
		for _, name := range [...]string{"x-eventroute-subscriber", "ce-specversion", "content-type"} {
			_ = getHeaderMapValue(0, unsafe.StringData(name), int32(len(name)), unsafe.Pointer(&p.data), &p.size)
		}
		return types.ActionContinue
	}
	p.readRequestHeaders()
	if p.mirror {
		return types.ActionContinue
	}
	_ = incrementMetric(p.events, 1)
	_ = incrementMetric(p.matched, 1)
	replace("x-eventroute-subscriber", "accounts")
	replace(":authority", "accounts.bank.svc.cluster.local")
	replace(":path", "/events")
	return types.ActionContinue
}

// OnHttpRequestBody implements types.HttpContext.
func (s *stream) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	p := s.p
	if !p.mirror {
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause
	}
	if getBufferBytes(0, 0, int32(bodySize), unsafe.Pointer(&p.data), &p.size) != 0 || p.size <= 0 {
		return types.ActionContinue
	}
	body := unsafe.Slice(p.data, p.size)
	_ = incrementMetric(p.events, 1)
	_ = incrementMetric(p.matched, 1)
	for i, c := range p.clusters {
		p.sentAt[i] = time.Now()
		if _, err := proxywasm.DispatchHttpCall(c, p.callHeaders, body, nil, 5000, p.onAnswer[i]); err == nil {
			_ = incrementMetric(p.sent[i], 1)
		}
	}
	return types.ActionContinue
}

// answered is the answer of the call to cluster i: its :status, then the
// delivery metrics.
func (p *plugin) answered(i int) {
	const status = ":status"
	_ = getHeaderMapValue(6, unsafe.StringData(status), int32(len(status)), unsafe.Pointer(&p.data), &p.size)
	_ = incrementMetric(p.delivered[i], 1)
	_ = recordMetric(p.latency[i], uint64(time.Since(p.sentAt[i]).Milliseconds()))
}
