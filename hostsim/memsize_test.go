package hostsim

import (
	"bytes"
	"context"
	"testing"
)

func TestMemorySizeReportsGuestLinearMemoryGrowth(t *testing.T) {
	t.Parallel()
	const bodySize = 8 << 20
	h := newTestHost(t, "body", Options{MaxBufferBytes: 2 * bodySize})
	before := h.MemorySize(0)
	if before == 0 || before%65536 != 0 {
		t.Fatalf("MemorySize(0) = %d before any request, want a positive multiple of 64 KiB", before)
	}
	// The guest reads the whole buffered body at end of stream, so it must hold 8 MiB in its own memory.
	res, err := h.Do(context.Background(), Request{Headers: post("/big"), Body: bytes.Repeat([]byte("x"), bodySize)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Request.Body) != bodySize {
		t.Fatalf("forwarded %d bytes, want %d", len(res.Request.Body), bodySize)
	}
	after := h.MemorySize(0)
	if after < before+bodySize {
		t.Fatalf("MemorySize(0) = %d after the guest read an 8 MiB body, was %d: want growth of at least 8 MiB", after, before)
	}
	if got := h.MemorySize(1); got != 0 {
		t.Fatalf("MemorySize(1) on a one-worker host = %d, want 0", got)
	}
}
