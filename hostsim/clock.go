package hostsim

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Clock is the time source of a Host: what the guest reads through WASI clock_time_get and what drives tick
// timers and dispatch timeouts.
type Clock interface {
	// Now returns the wall-clock time.
	Now() time.Time
	// Nanotime returns a monotonic reading in nanoseconds.
	Nanotime() int64
	// AfterFunc calls f once, on its own goroutine or the one advancing the clock, after d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a pending AfterFunc call.
type Timer interface {
	// Stop prevents the call if it has not happened yet and reports whether it did so.
	Stop() bool
}

// realClock reads the system clock.
type realClock struct{ start time.Time }

// RealClock returns the system clock (the default when Options.Clock is nil).
func RealClock() Clock { return realClock{start: time.Now()} }

func (c realClock) Now() time.Time  { return time.Now() }
func (c realClock) Nanotime() int64 { return int64(time.Since(c.start)) + 1 }
func (c realClock) AfterFunc(d time.Duration, f func()) Timer {
	return time.AfterFunc(d, f)
}

// VirtualClock is a Clock that only moves when Advance is called, firing due timers in deadline order on the
// caller's goroutine, so ticks and dispatch timeouts happen deterministically. Safe for concurrent use.
type VirtualClock struct {
	nanos atomic.Int64 // nanoseconds since base
	base  time.Time

	mu     sync.Mutex
	timers []*virtualTimer
	seq    uint64
	adv    sync.Mutex // serializes Advance calls
}

// NewVirtualClock returns a clock reading start (the Unix epoch when start is zero).
func NewVirtualClock(start time.Time) *VirtualClock {
	if start.IsZero() {
		start = time.Unix(0, 0).UTC()
	}
	return &VirtualClock{base: start}
}

// Now returns the virtual wall-clock time.
func (c *VirtualClock) Now() time.Time { return c.base.Add(time.Duration(c.nanos.Load())) }

// Nanotime returns the virtual monotonic time in nanoseconds (never 0, Go's runtime treats 0 as unset).
func (c *VirtualClock) Nanotime() int64 { return c.nanos.Load() + 1 }

// AfterFunc schedules f to run when Advance reaches now+d.
func (c *VirtualClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &virtualTimer{clock: c, at: c.nanos.Load() + int64(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Pending returns how many timers are scheduled.
func (c *VirtualClock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Advance moves the clock forward by d, running every timer that falls due, earliest first, each with the
// clock reading its deadline. Timers scheduled by those callbacks fire too if they fall within d.
func (c *VirtualClock) Advance(d time.Duration) {
	c.adv.Lock()
	defer c.adv.Unlock()
	target := c.nanos.Load() + int64(d)
	for {
		t := c.popDue(target)
		if t == nil {
			break
		}
		t.f()
	}
	c.nanos.Store(target)
}

// popDue removes and returns the earliest timer due at or before target, moving the clock to its deadline.
func (c *VirtualClock) popDue(target int64) *virtualTimer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.timers) == 0 {
		return nil
	}
	sort.Slice(c.timers, func(i, j int) bool {
		a, b := c.timers[i], c.timers[j]
		return a.at < b.at || (a.at == b.at && a.seq < b.seq)
	})
	t := c.timers[0]
	if t.at > target {
		return nil
	}
	c.timers = c.timers[1:]
	if t.at > c.nanos.Load() {
		c.nanos.Store(t.at)
	}
	return t
}

type virtualTimer struct {
	clock *VirtualClock
	at    int64
	seq   uint64
	f     func()
}

func (t *virtualTimer) Stop() bool {
	c := t.clock
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			return true
		}
	}
	return false
}
