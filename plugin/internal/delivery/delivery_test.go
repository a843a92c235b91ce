package delivery_test

import (
	"testing"
	"time"

	"github.com/eventroute/eventroute/plugin/internal/delivery"
)

func TestOutcome_RetryableStatuses(t *testing.T) {
	for status, want := range map[int]bool{0: true, 200: false, 202: false, 400: false, 403: false, 404: false,
		408: true, 429: true, 500: true, 503: true, 504: true, 599: true} {
		if got := (delivery.Outcome{Status: status}).Retryable(); got != want {
			t.Errorf("status %d: retryable = %v, want %v", status, got, want)
		}
	}
	if !(delivery.Outcome{Status: 204}).Delivered() || (delivery.Outcome{Status: 302}).Delivered() {
		t.Error("Delivered must be exactly 2xx")
	}
}

func TestBackoff_DoublesUpToMaxWithJitterInUpperHalf(t *testing.T) {
	initial, max := 100*time.Millisecond, 500*time.Millisecond
	for failed, base := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		3: 400 * time.Millisecond, 4: 500 * time.Millisecond, 30: 500 * time.Millisecond} {
		lo := delivery.Backoff(initial, max, failed, 0)
		hi := delivery.Backoff(initial, max, failed, 0.9999999)
		if lo != base-base/2 || hi > base || hi < base-base/1000 {
			t.Errorf("failed=%d: range [%v,%v], want [%v,%v]", failed, lo, hi, base/2, base)
		}
	}
}

func TestBudget_BoundsByCountAndBytes(t *testing.T) {
	b := delivery.Budget{MaxCount: 2, MaxBytes: 100}
	if r := b.Reserve(60); r != delivery.DropNone {
		t.Fatalf("first: %v", r)
	}
	if r := b.Reserve(50); r != delivery.DropTooManyBytes {
		t.Fatalf("bytes bound: got %v", r)
	}
	if r := b.Reserve(40); r != delivery.DropNone {
		t.Fatalf("second: %v", r)
	}
	if r := b.Reserve(0); r != delivery.DropTooMany {
		t.Fatalf("count bound: got %v", r)
	}
	b.Release(60)
	if b.Pending() != 1 || b.PendingBytes() != 40 {
		t.Fatalf("after release: %d pending, %d bytes", b.Pending(), b.PendingBytes())
	}
}
