//go:build !wasip1

package main

import (
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// pairs appends the pairs of map m to dst through the SDK.
func (r *hostReader) pairs(m headerMap, dst [][2]string) ([][2]string, bool) {
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
func (r *hostReader) value(m headerMap, key string) (string, bool) {
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

// buffer returns up to maxSize bytes of buffer b from start through the SDK.
func (r *hostReader) buffer(b bufferType, start, maxSize int) ([]byte, error) {
	if b != requestBody {
		return nil, types.ErrorStatusBadArgument
	}
	return proxywasm.GetHttpRequestBody(start, maxSize)
}

// dequeue takes the next item of shared queue id through the SDK.
func (r *hostReader) dequeue(id uint32) ([]byte, error) { return proxywasm.DequeueSharedQueue(id) }

// incrementMetric adds n to a counter through the SDK.
func incrementMetric(id uint32, n uint64) { proxywasm.MetricCounter(id).Increment(n) }

// recordMetric records a histogram sample through the SDK.
func recordMetric(id uint32, v uint64) { proxywasm.MetricHistogram(id).Record(v) }
