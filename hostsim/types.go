package hostsim

import (
	"strings"
	"time"
)

// Headers is an ordered header or trailer map: lower-case keys, pseudo-headers first, as Envoy hands them to a
// filter. A key may appear more than once.
type Headers [][2]string

// Get returns the first value of key (compared case-insensitively) and whether it is present.
func (h Headers) Get(key string) (string, bool) {
	for _, kv := range h {
		if strings.EqualFold(kv[0], key) {
			return kv[1], true
		}
	}
	return "", false
}

// Value returns the first value of key or "" when absent.
func (h Headers) Value(key string) string {
	v, _ := h.Get(key)
	return v
}

// Clone returns a copy of h that shares no storage with it (nil stays nil).
func (h Headers) Clone() Headers {
	if h == nil {
		return nil
	}
	out := make(Headers, len(h))
	copy(out, h)
	return out
}

// cloneToWrite copies h before a guest changes it, with room for a few
// added headers (a filter typically adds or replaces two or three), so the
// additions do not grow the copy again.
func (h Headers) cloneToWrite() Headers {
	return append(make(Headers, 0, len(h)+4), h...)
}

// LogLevel is a proxy-wasm log level.
type LogLevel int

// Proxy-wasm log levels.
const (
	LogTrace LogLevel = iota
	LogDebug
	LogInfo
	LogWarn
	LogError
	LogCritical
)

// String returns Envoy's name of the level.
func (l LogLevel) String() string {
	switch l {
	case LogTrace:
		return "trace"
	case LogDebug:
		return "debug"
	case LogInfo:
		return "info"
	case LogWarn:
		return "warning"
	case LogError:
		return "error"
	case LogCritical:
		return "critical"
	}
	return "unknown"
}

// LogEntry is one line logged by a guest (proxy_log, or stdout/stderr through WASI fd_write) or by the host
// about a guest (failures).
type LogEntry struct {
	Time    time.Time
	Level   LogLevel
	Worker  int // index of the worker VM; -1 for the canary instance
	Message string
}

// MetricType is a proxy-wasm metric type.
type MetricType int

// Proxy-wasm metric types.
const (
	MetricCounter MetricType = iota
	MetricGauge
	MetricHistogram
)

// String returns the type's name as Envoy's admin output uses it.
func (t MetricType) String() string {
	switch t {
	case MetricCounter:
		return "counter"
	case MetricGauge:
		return "gauge"
	case MetricHistogram:
		return "histogram"
	}
	return "unknown"
}

// Metric is a snapshot of one custom metric shared by all worker VMs of a Host.
type Metric struct {
	Name  string // as defined by the guest; Envoy shows it as "wasmcustom." + Name
	Type  MetricType
	Value uint64 // counter or gauge value (a gauge's int64 bits); 0 for histograms
	// Histogram holds a histogram's most recent samples (at most MaxHistogramSamples), oldest first.
	Histogram []uint64
	// HistogramCount and HistogramSum cover every value the histogram recorded.
	HistogramCount, HistogramSum uint64
	// HistogramBuckets[i] counts the recorded values ≤ HistogramBounds()[i] (cumulative, Envoy's default
	// buckets); HistogramCount is the +Inf bucket.
	HistogramBuckets []uint64
}

// LocalReply is a response the plugin generated with proxy_send_local_response (or Envoy generated for a
// failed VM, Details "wasm_fail_stream").
type LocalReply struct {
	Status  int
	Headers Headers // as the plugin passed them (lower-cased)
	Body    []byte
	Details string // response code details, whitespace replaced by '_'
}

// RequestState is what one direction of a stream looks like at a point in time: the headers as the plugin left
// them, and what has been forwarded past the filter so far.
type RequestState struct {
	Headers   Headers // current header map (plugin mutations applied)
	Body      []byte  // body forwarded past the filter so far
	Trailers  Headers // trailers (nil when none)
	Forwarded bool    // headers continued past the filter
	Complete  bool    // end of stream forwarded (headers, whole body and trailers)
	Paused    bool    // the filter currently holds this direction (paused headers, body or trailers)
	Buffered  int     // bytes held by the filter, not yet forwarded
}

// Request is a whole downstream request for Host.Do.
type Request struct {
	Headers  Headers
	Body     []byte
	Trailers Headers
	Chunks   int // split Body into this many chunks (0 or 1: one chunk)
}

// Response is a whole upstream response for Host.Do.
type Response struct {
	Headers  Headers // must contain ":status"; nil means 200 with no other headers
	Body     []byte
	Trailers Headers
}
