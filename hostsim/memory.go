package hostsim

import (
	"encoding/binary"
	"fmt"
)

// Limits of Envoy's pairs parser (limits.h PROXY_WASM_HOST_PAIRS_MAX_*): larger input parses as empty.
const (
	maxPairsBytes = 1 << 20
	maxPairsCount = 1024
)

// guestFault aborts the running guest call from inside a host function; wazero turns the panic into the
// call's error, so it never escapes hostsim.
type guestFault struct{ err error }

func (g guestFault) Error() string { return g.err.Error() }
func (g guestFault) Unwrap() error { return g.err }

// read returns a view of guest memory (valid until the guest's memory grows).
func (v *vm) read(ptr, size uint32) ([]byte, bool) {
	if size == 0 {
		return nil, true
	}
	return v.mem.Read(ptr, size)
}

// readString copies a guest string.
func (v *vm) readString(ptr, size uint32) (string, bool) {
	b, ok := v.read(ptr, size)
	return string(b), ok
}

// alloc calls the guest allocator. size must be > 0 (the Go SDK's allocator panics on 0).
func (v *vm) alloc(size int) (uint32, bool) {
	if size <= 0 || v.fn.malloc == nil {
		return 0, false
	}
	v.mstack[0] = uint64(size)
	if err := v.fn.malloc.CallWithStack(v.ctx, v.mstack[:]); err != nil {
		panic(guestFault{fmt.Errorf("%s(%d) failed: %w", v.host.module.allocator, size, err)})
	}
	ptr := uint32(v.mstack[0])
	if ptr == 0 {
		return 0, false
	}
	return ptr, true
}

// writeOut writes ptr and size to the guest's out-parameters.
func (v *vm) writeOut(ptrOut, sizeOut, ptr, size uint32) uint32 {
	if !v.mem.WriteUint32Le(ptrOut, ptr) || !v.mem.WriteUint32Le(sizeOut, size) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

// copyOut returns data to the guest as Envoy's copyToPointerSize does: no allocation for an empty value.
func (v *vm) copyOut(data []byte, ptrOut, sizeOut uint32) uint32 {
	if len(data) == 0 {
		return v.writeOut(ptrOut, sizeOut, 0, 0)
	}
	ptr, ok := v.alloc(len(data))
	if !ok || !v.mem.Write(ptr, data) {
		return statusInvalidMemoryAccess
	}
	return v.writeOut(ptrOut, sizeOut, ptr, uint32(len(data)))
}

// copyOutString is copyOut for a string, without converting it.
func (v *vm) copyOutString(s string, ptrOut, sizeOut uint32) uint32 {
	if len(s) == 0 {
		return v.writeOut(ptrOut, sizeOut, 0, 0)
	}
	ptr, ok := v.alloc(len(s))
	if !ok || !v.mem.WriteString(ptr, s) {
		return statusInvalidMemoryAccess
	}
	return v.writeOut(ptrOut, sizeOut, ptr, uint32(len(s)))
}

// pairsSize is the serialized size of h in the pairs format (HOSTABI §3.1).
func pairsSize(h Headers) int {
	n := 4
	for _, kv := range h {
		n += 8 + len(kv[0]) + len(kv[1]) + 2
	}
	return n
}

// encodePairs serializes h into buf, which has pairsSize(h) bytes.
func encodePairs(buf []byte, h Headers) {
	binary.LittleEndian.PutUint32(buf, uint32(len(h)))
	off := 4
	for _, kv := range h {
		binary.LittleEndian.PutUint32(buf[off:], uint32(len(kv[0])))
		binary.LittleEndian.PutUint32(buf[off+4:], uint32(len(kv[1])))
		off += 8
	}
	for _, kv := range h {
		off += copy(buf[off:], kv[0])
		buf[off] = 0
		off++
		off += copy(buf[off:], kv[1])
		buf[off] = 0
		off++
	}
}

// EncodePairs returns h in the proxy-wasm pairs format.
func EncodePairs(h Headers) []byte {
	buf := make([]byte, pairsSize(h))
	encodePairs(buf, h)
	return buf
}

// copyOutPairs serializes h straight into guest memory; an empty map is returned as ptr 0, size 0.
func (v *vm) copyOutPairs(h Headers, ptrOut, sizeOut uint32) uint32 {
	if len(h) == 0 {
		return v.writeOut(ptrOut, sizeOut, 0, 0)
	}
	size := pairsSize(h)
	ptr, ok := v.alloc(size)
	if !ok {
		return statusInvalidMemoryAccess
	}
	buf, ok := v.mem.Read(ptr, uint32(size))
	if !ok {
		return statusInvalidMemoryAccess
	}
	encodePairs(buf, h)
	return v.writeOut(ptrOut, sizeOut, ptr, uint32(size))
}

// DecodePairs parses the pairs format as Envoy does: input over 1 MiB, over 1024 pairs, truncated or missing a
// NUL terminator parses as an empty map (nil).
func DecodePairs(b []byte) Headers {
	if len(b) < 4 || len(b) > maxPairsBytes {
		return nil
	}
	n := binary.LittleEndian.Uint32(b)
	if n == 0 || n > maxPairsCount || uint64(len(b)) < 4+8*uint64(n) {
		return nil
	}
	out := make(Headers, 0, n)
	sizes := b[4:]
	// One copy of all keys and values; each pair is a view into it (one allocation instead of two per pair).
	data := string(b[4+8*n:])
	for i := uint32(0); i < n; i++ {
		kl := binary.LittleEndian.Uint32(sizes[8*i:])
		vl := binary.LittleEndian.Uint32(sizes[8*i+4:])
		if uint64(len(data)) < uint64(kl)+uint64(vl)+2 || data[kl] != 0 || data[kl+1+vl] != 0 {
			return nil
		}
		out = append(out, [2]string{data[:kl], data[kl+1 : kl+1+vl]})
		data = data[kl+vl+2:]
	}
	return out
}

// lowerASCII lower-cases ASCII letters (Envoy's LowerCaseString).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// equalKey compares a stored lower-case key with a guest key, ignoring ASCII case, without allocating.
func equalKey(stored string, key []byte) bool {
	if len(stored) != len(key) {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if stored[i] != c {
			return false
		}
	}
	return true
}
