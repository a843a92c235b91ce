//go:build wasip1

package main

import "unsafe"

// The SDK's single-header getter lets its two out-parameters escape to the
// heap on every call (two allocations per lookup), which made the three
// header probes of a non-event request cost more than the rest of the
// request. headerReader makes the same host call with out-parameters that
// live in the plugin context and are reused (a VM runs one callback at a
// time).

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(mapType uint32, keyData *byte, keySize int32, valueData unsafe.Pointer, valueSize *int32) uint32

//go:wasmimport env proxy_get_header_map_pairs
func proxyGetHeaderMapPairs(mapType uint32, data unsafe.Pointer, size *int32) uint32

// pairs appends the pairs of map m to dst, as views of the buffer the host
// allocated for them (no copy per header, unlike the SDK). ok is false when
// the map is not available.
func (r *headerReader) pairs(m headerMap, dst [][2]string) ([][2]string, bool) {
	r.data, r.size = nil, 0
	if proxyGetHeaderMapPairs(uint32(m), unsafe.Pointer(&r.data), &r.size) != 0 || r.data == nil || r.size <= 0 {
		return dst, false
	}
	return parsePairs(unsafe.Slice(r.data, r.size), dst)
}

// value returns the first value of header key in map m, and whether the host
// found it (any other status, e.g. the map is not available now, is "no").
func (r *headerReader) value(m headerMap, key string) (string, bool) {
	// The host writes both out-parameters when it answers Ok; an empty value
	// comes back as size 0 (and possibly a nil pointer).
	if proxyGetHeaderMapValue(uint32(m), unsafe.StringData(key), int32(len(key)),
		unsafe.Pointer(&r.data), &r.size) != 0 {
		return "", false
	}
	if r.size <= 0 || r.data == nil {
		return "", true
	}
	return unsafe.String(r.data, r.size), true
}

//go:wasmimport env proxy_increment_metric
func proxyIncrementMetric(id uint32, offset int64) uint32

//go:wasmimport env proxy_record_metric
func proxyRecordMetric(id uint32, value uint64) uint32

// incrementMetric adds n to a counter. The SDK's MetricCounter.Increment
// panics (traps the VM) when the host refuses; a refused increment is not
// worth failing traffic for, so the status is ignored.
func incrementMetric(id uint32, n uint64) { _ = proxyIncrementMetric(id, int64(n)) }

// recordMetric records a histogram sample, ignoring a refusal (see incrementMetric).
func recordMetric(id uint32, v uint64) { _ = proxyRecordMetric(id, v) }
