//go:build !wasm

package main_test

import (
	"strconv"
	"testing"
)

// memoryRequests is how many mixed requests TestMemory_StaysBoundedAndFlat
// runs through one VM (BenchmarkMemoryMixed runs b.N).
const memoryRequests = 20_000

// maxLinearMemory is the bound on the guest's linear memory (SPEC: 16 MiB).
const maxLinearMemory = 16 << 20

// maxSecondHalfGrowth is how much the linear memory may grow over the second
// half of the run and still count as flat: four wasm pages. How many copies
// are in flight at once depends on the machine's load, which moves the Go
// heap's peak by a page or two; a leak of 27 bytes per request over the
// 10,000 requests of the second half would exceed it.
const maxSecondHalfGrowth = 4 * 64 << 10

// mixedTraffic plays request i of a mix: a non-event GET, a routed binary
// event, a mirrored structured event, a batch, an invalid event.
func mixedTraffic(tb testing.TB, e *env, i int) {
	id := strconv.Itoa(i)
	switch i % 5 {
	case 0:
		lifecycle(tb, e.host, getRequest, nil)
	case 1:
		h, body := binaryTransfer("bin-" + id)
		lifecycle(tb, e.host, h, body)
	case 2:
		lifecycle(tb, e.host, structuredHeaders(), structuredEvent("st-"+id, "转账", "Bank", i))
	case 3:
		body := []byte("[" + string(structuredEvent("b1-"+id, "转账", "Bank", 1)) + "," +
			string(structuredEvent("b2-"+id, "转账", "Shop", 2)) + "]")
		lifecycle(tb, e.host, batchHeaders(), body)
	default:
		lifecycle(tb, e.host, structuredHeaders(), []byte(`{"specversion":"1.0","id":"`+id+`","type":"x"}`))
	}
	if i%64 == 63 {
		e.idle()
	}
}

// runMixed plays n mixed requests and returns the linear memory size after
// half of them and at the end.
func runMixed(tb testing.TB, e *env, n int) (half, end uint64) {
	for i := range n {
		mixedTraffic(tb, e, i)
		if i == n/2-1 {
			e.idle()
			half = e.host.MemorySize(0)
		}
	}
	e.idle()
	end = e.host.MemorySize(0)
	if n < 2 {
		half = end
	}
	return half, end
}

func memoryEnv(tb testing.TB) *env {
	return newEnv(tb, envOptions{config: config(tb, hostModes[0], "")})
}

func TestMemory_StaysBoundedAndFlat(t *testing.T) {
	t.Parallel()
	e := memoryEnv(t)
	half, end := runMixed(t, e, memoryRequests)
	t.Logf("linear memory: %.1f MiB after %d requests, %.1f MiB after %d", mib(half), memoryRequests/2, mib(end), memoryRequests)
	if end > maxLinearMemory {
		t.Errorf("linear memory %.1f MiB after %d mixed requests, want <= 16 MiB", mib(end), memoryRequests)
	}
	if end > half+maxSecondHalfGrowth {
		t.Errorf("linear memory grew over the second half: %.2f MiB -> %.2f MiB", mib(half), mib(end))
	}
	fifth := uint64(memoryRequests / 5)
	e.wantMetrics(map[string]uint64{"requests": memoryRequests, "events.binary": fifth, "events.structured": fifth,
		"events.batch": 2 * fifth, "events.invalid": fifth,
		"route.transfers.matched":    4 * fifth, // binary, structured, both batch events
		"subscriber.audit.sent":      3 * fifth, // source Bank: binary, structured, first batch event
		"subscriber.audit.delivered": 3 * fifth})
	e.checkInvariant("accounts", "audit", "dlq")
}

// BenchmarkMemoryMixed reports the linear memory after a warm-up of
// memoryWarmUp mixed requests and b.N more, and its growth over the second
// half of the b.N (SPEC figure: -run '^$' -bench MemoryMixed -benchtime 100000x).
func BenchmarkMemoryMixed(b *testing.B) {
	e := memoryEnv(b)
	runMixed(b, e, memoryWarmUp)
	b.ResetTimer()
	half, end := runMixed(b, e, b.N)
	b.ReportMetric(mib(end), "linear-MiB")
	b.ReportMetric(mib(end)-mib(half), "second-half-growth-MiB")
}

// memoryWarmUp is how many requests BenchmarkMemoryMixed plays before timing.
const memoryWarmUp = 10_000

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
