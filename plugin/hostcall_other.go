//go:build !wasip1

package main

import "github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"

// pairs appends the pairs of map m to dst through the SDK.
func (r *headerReader) pairs(m headerMap, dst [][2]string) ([][2]string, bool) {
	if m != requestHeaders {
		return dst, false
	}
	headers, err := proxywasm.GetHttpRequestHeaders()
	if err != nil {
		return dst, false
	}
	return append(dst, headers...), true
}

// value returns the first value of header key in map m through the SDK (the
// plugin runs only as wasip1; this keeps the package buildable and vettable
// natively).
func (r *headerReader) value(m headerMap, key string) (string, bool) {
	var headers [][2]string
	var err error
	switch m {
	case requestHeaders:
		v, err := proxywasm.GetHttpRequestHeader(key)
		return v, err == nil
	case callResponseHeaders:
		headers, err = proxywasm.GetHttpCallResponseHeaders()
	}
	if err != nil {
		return "", false
	}
	for _, kv := range headers {
		if kv[0] == key {
			return kv[1], true
		}
	}
	return "", false
}

// incrementMetric adds n to a counter through the SDK.
func incrementMetric(id uint32, n uint64) { proxywasm.MetricCounter(id).Increment(n) }

// recordMetric records a histogram sample through the SDK.
func recordMetric(id uint32, v uint64) { proxywasm.MetricHistogram(id).Record(v) }
