package main

import "unsafe"

// headerMap is a proxy-wasm header map type.
type headerMap uint32

// Header maps the plugin reads one value from.
const (
	requestHeaders      headerMap = 0 // the stream's request headers
	callResponseHeaders headerMap = 6 // a dispatch's response headers (in its callback)
)

// bufferType is a proxy-wasm buffer type.
type bufferType uint32

// The buffer the plugin reads.
const requestBody bufferType = 0 // the stream's request body

// hostReader makes the plugin's own host calls that return data: header
// values and maps, buffer bytes and shared-queue items. Its fields are the
// calls' out-parameters, reused from call to call (a VM runs one callback at
// a time), so that, unlike the SDK's getters, nothing escapes to the heap per
// call. What the calls return are views of the buffer the host allocated
// through proxy_on_memory_allocate: ordinary Go heap memory, fresh for every
// call, which stays alive as long as something refers to it.
type hostReader struct {
	data *byte
	size int32
}

// parsePairs decodes a proxy-wasm header map (count, then key and value
// sizes, then NUL-terminated keys and values) and appends its pairs to dst.
// The strings are views of buf, which must not change afterwards (the host
// allocates a fresh buffer for every call). ok is false for a malformed map.
func parsePairs(buf []byte, dst [][2]string) (_ [][2]string, ok bool) {
	if len(buf) < 4 {
		return dst, false
	}
	n := int(le32(buf))
	if n < 0 || n > (len(buf)-4)/8 {
		return dst, false
	}
	sizes, data := buf[4:4+8*n], buf[4+8*n:]
	for i := 0; i < n; i++ {
		kl, vl := int(le32(sizes[8*i:])), int(le32(sizes[8*i+4:]))
		if kl < 0 || vl < 0 || kl+vl+2 > len(data) {
			return dst, false
		}
		k := view(data[:kl])
		v := view(data[kl+1 : kl+1+vl])
		data = data[kl+vl+2:]
		dst = append(dst, [2]string{k, v})
	}
	return dst, true
}

// le32 reads a little-endian uint32.
func le32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// view returns b as a string without copying; b must not change afterwards.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
