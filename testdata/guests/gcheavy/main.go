// Command gcheavy makes the Go garbage collector run often: every request
// headers callback allocates 16 slices of 64 KiB and a 256-entry map (about
// 1.1 MiB), keeps them until the stream ends and then drops them. It never
// sleeps, uses no Go timers and logs nothing per request, so it is the load
// guest for "GC under sustained load does not reach poll_oneoff".
//
// Observability without per-request logs: gauge "gcheavy.num_gc" tracks the Go
// runtime's completed GC cycles (runtime.MemStats.NumGC), raised at the end of
// each stream when it changed; a test asserts it is > 0 after enough requests.
//
// Log lines (info):
//
//	gcheavy ready slices=16 slice_kib=64 map_entries=256    once, on plugin start
package main

import (
	"runtime"
	"strconv"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

func init() {
	proxywasm.SetPluginContext(func(uint32) types.PluginContext { return &plugin{} })
}

func main() {}

// Shape of the per-request garbage.
const (
	slicesPerRequest = 16
	sliceBytes       = 64 << 10
	mapEntries       = 256
)

// plugin is the root context; it owns the GC-cycle gauge.
type plugin struct {
	types.DefaultPluginContext
	numGC    proxywasm.MetricGauge
	reported uint32
}

// OnPluginStart implements types.PluginContext.
func (p *plugin) OnPluginStart(int) types.OnPluginStartStatus {
	p.numGC = proxywasm.DefineGaugeMetric("gcheavy.num_gc")
	proxywasm.LogInfof("gcheavy ready slices=%d slice_kib=%d map_entries=%d", slicesPerRequest, sliceBytes>>10, mapEntries)
	return types.OnPluginStartStatusOK
}

// NewHttpContext implements types.PluginContext.
func (p *plugin) NewHttpContext(uint32) types.HttpContext { return &stream{plugin: p} }

// stream is the per-request context; it holds the garbage until the stream ends.
type stream struct {
	types.DefaultHttpContext
	plugin *plugin
	slices [][]byte
	index  map[string]int
}

// OnHttpRequestHeaders implements types.HttpContext.
func (s *stream) OnHttpRequestHeaders(int, bool) types.Action {
	s.slices = make([][]byte, slicesPerRequest)
	for i := range s.slices {
		s.slices[i] = make([]byte, sliceBytes)
		s.slices[i][i] = byte(i)
	}
	s.index = make(map[string]int, mapEntries)
	for i := range mapEntries {
		s.index["k"+strconv.Itoa(i)] = i
	}
	return types.ActionContinue
}

// OnHttpStreamDone implements types.HttpContext.
func (s *stream) OnHttpStreamDone() {
	s.slices, s.index = nil, nil
	var stats runtime.MemStats
	runtime.ReadMemStats(&stats)
	if delta := int64(stats.NumGC) - int64(s.plugin.reported); delta > 0 {
		s.plugin.numGC.Add(delta)
		s.plugin.reported = stats.NumGC
	}
}
