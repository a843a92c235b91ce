//go:build wasip1

package main

import (
	"errors"
	"strconv"
	"unsafe"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// The SDK's getters (single header, buffer bytes, shared-queue item) let
// their two out-parameters escape to the heap on every call (two allocations
// per call), which made the three header probes of a non-event request cost
// more than the rest of the request. hostReader makes the same host calls
// with out-parameters that live in the plugin context and are reused (a VM
// runs one callback at a time).

//go:wasmimport env proxy_get_header_map_value
func proxyGetHeaderMapValue(mapType uint32, keyData *byte, keySize int32, valueData unsafe.Pointer, valueSize *int32) uint32

//go:wasmimport env proxy_get_header_map_pairs
func proxyGetHeaderMapPairs(mapType uint32, data unsafe.Pointer, size *int32) uint32

// pairs appends the pairs of map m to dst, as views of the buffer the host
// allocated for them (no copy per header, unlike the SDK). ok is false when
// the map is not available.
func (r *hostReader) pairs(m headerMap, dst [][2]string) ([][2]string, bool) {
	r.data, r.size = nil, 0
	if proxyGetHeaderMapPairs(uint32(m), unsafe.Pointer(&r.data), &r.size) != 0 || r.data == nil || r.size <= 0 {
		return dst, false
	}
	return parsePairs(unsafe.Slice(r.data, r.size), dst)
}

// value returns the first value of header key in map m, and whether the host
// found it (any other status, e.g. the map is not available now, is "no").
func (r *hostReader) value(m headerMap, key string) (string, bool) {
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

//go:wasmimport env proxy_get_buffer_bytes
func proxyGetBufferBytes(bufferType uint32, start, maxSize int32, data unsafe.Pointer, size *int32) uint32

//go:wasmimport env proxy_dequeue_shared_queue
func proxyDequeueSharedQueue(queueID uint32, data unsafe.Pointer, size *int32) uint32

// buffer returns up to maxSize bytes of buffer b from start, as a view of the
// buffer the host allocated for them. Like the SDK's getters, it answers
// types.ErrorStatusNotFound when the host answers Ok with no data, and the
// SDK's error for any other status.
func (r *hostReader) buffer(b bufferType, start, maxSize int) ([]byte, error) {
	r.data, r.size = nil, 0
	if st := proxyGetBufferBytes(uint32(b), int32(start), int32(maxSize), unsafe.Pointer(&r.data), &r.size); st != statusOK {
		return nil, statusError(st)
	}
	if r.data == nil || r.size < 0 {
		return nil, types.ErrorStatusNotFound
	}
	return unsafe.Slice(r.data, r.size), nil
}

// dequeue takes the next item of shared queue id, as a view of the buffer the
// host allocated for it; an empty queue is types.ErrorStatusEmpty (as with
// the SDK).
func (r *hostReader) dequeue(id uint32) ([]byte, error) {
	r.data, r.size = nil, 0
	if st := proxyDequeueSharedQueue(id, unsafe.Pointer(&r.data), &r.size); st != statusOK {
		return nil, statusError(st)
	}
	if r.data == nil || r.size <= 0 {
		return nil, nil
	}
	return unsafe.Slice(r.data, r.size), nil
}

// Host call statuses (proxy-wasm ABI 0.2).
const (
	statusOK              = 0
	statusNotFound        = 1
	statusBadArgument     = 2
	statusEmpty           = 7
	statusCasMismatch     = 8
	statusInternalFailure = 10
	statusUnimplemented   = 12
)

// statusError maps a host call status to the SDK's error for it (as the
// SDK's own calls do); nil for Ok.
func statusError(st uint32) error {
	switch st {
	case statusOK:
		return nil
	case statusNotFound:
		return types.ErrorStatusNotFound
	case statusBadArgument:
		return types.ErrorStatusBadArgument
	case statusEmpty:
		return types.ErrorStatusEmpty
	case statusCasMismatch:
		return types.ErrorStatusCasMismatch
	case statusInternalFailure:
		return types.ErrorInternalFailure
	case statusUnimplemented:
		return types.ErrorUnimplemented
	}
	return errors.New("unknown status code: " + strconv.FormatUint(uint64(st), 10))
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
