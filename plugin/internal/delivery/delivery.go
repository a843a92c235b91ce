// Package delivery holds the plugin's delivery policy: which outcomes are
// retried, how long to back off, and the bound on pending deliveries. It is
// pure Go so the policy can be tested without a host.
package delivery

import "time"

// Outcome is how one delivery attempt ended, as the proxy reports it.
type Outcome struct {
	// Status is the HTTP status of the response; 0 when the call was reset
	// (Envoy calls back with no headers) or could not be dispatched.
	Status int
}

// Delivered reports whether the attempt succeeded (2xx).
func (o Outcome) Delivered() bool { return o.Status >= 200 && o.Status < 300 }

// Retryable reports whether a failed attempt may be tried again: a reset or
// dispatch failure (0), 408, 429 and every 5xx (Envoy reports a connect
// failure as 503 and a timeout as 504). Other statuses are final.
func (o Outcome) Retryable() bool {
	switch {
	case o.Status == 0, o.Status == 408, o.Status == 429:
		return true
	default:
		return o.Status >= 500 && o.Status < 600
	}
}

// Backoff returns the wait before the next attempt after failed attempts
// (≥ 1): initial·2^(failed−1) capped at max, with "equal jitter": half of it
// fixed, the other half scaled by random, a value in [0, 1).
func Backoff(initial, max time.Duration, failed int, random float64) time.Duration {
	if initial <= 0 {
		return 0
	}
	d := initial
	for i := 1; i < failed && d < max; i++ {
		d *= 2
	}
	if max > 0 && d > max {
		d = max
	}
	if random < 0 {
		random = 0
	} else if random >= 1 {
		random = 0.999999
	}
	half := d / 2
	return d - half + time.Duration(float64(half)*random)
}

// DropReason says why a delivery was not scheduled.
type DropReason uint8

// Reasons a delivery is dropped.
const (
	DropNone          DropReason = iota // not dropped
	DropTooMany                         // maxPendingDeliveries reached
	DropTooManyBytes                    // maxPendingBytes reached
	DropExhausted                       // attempts exhausted and no dead-letter subscriber
	DropDispatchError                   // the proxy refused the call (e.g. unknown cluster)
)

// String names the reason for logs.
func (r DropReason) String() string {
	switch r {
	case DropTooMany:
		return "maxPendingDeliveries reached"
	case DropTooManyBytes:
		return "maxPendingBytes reached"
	case DropExhausted:
		return "attempts exhausted, no deadLetter"
	case DropDispatchError:
		return "dispatch refused by the proxy"
	default:
		return "none"
	}
}

// Budget bounds the deliveries that are pending (in flight or waiting for a
// retry) by count and by bytes. The zero value admits nothing.
type Budget struct {
	// MaxCount and MaxBytes are the limits; both must be > 0 to admit anything.
	MaxCount, MaxBytes int
	count, bytes       int
}

// Reserve admits a delivery of n bytes, or says why it cannot be admitted.
func (b *Budget) Reserve(n int) DropReason {
	if b.count >= b.MaxCount {
		return DropTooMany
	}
	if n > b.MaxBytes-b.bytes {
		return DropTooManyBytes
	}
	b.count++
	b.bytes += n
	return DropNone
}

// Release returns a delivery of n bytes admitted by Reserve.
func (b *Budget) Release(n int) {
	b.count--
	b.bytes -= n
	if b.count < 0 || b.bytes < 0 {
		b.count, b.bytes = 0, 0
	}
}

// Pending returns the number of admitted deliveries not yet released.
func (b *Budget) Pending() int { return b.count }

// PendingBytes returns the bytes of admitted deliveries not yet released.
func (b *Budget) PendingBytes() int { return b.bytes }
