package main

import (
	"errors"
	"time"

	"github.com/eventroute/eventroute/filters"
	"github.com/eventroute/eventroute/filters/event"
	"github.com/eventroute/eventroute/plugin/internal/delivery"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// pluginContext is the root context of one plugin in one VM. A VM runs one
// callback at a time, so the scratch buffers here are reused by every stream.
type pluginContext struct {
	types.DefaultPluginContext
	id  uint32
	set *settings

	// Per-request scratch, valid during one callback.
	host      hostReader
	batch     filters.Batch
	probe     [2][2]string
	mirrorIdx []int
	plan      [][]int // per subscriber: indexes into batch.Events it receives
	planned   []int   // subscribers with a non-empty plan, in first-seen order
	eventPtrs []*event.Event

	// Deliveries.
	budget  delivery.Budget
	queued  []*pendingDelivery // scheduled by a stream, dispatched from the root on the wake-up (see wake)
	waiting []*pendingDelivery // waiting for a retry
	spare   []*pendingDelivery // finished deliveries kept for reuse (see newDelivery)
	onRoot  bool               // the current callback runs on the root context

	// The wake-up queue: a shared queue registered by this root, so a stream
	// that queued deliveries gets them dispatched from the root at once
	// (OnQueueReady) instead of on the next tick.
	wakeQueue   uint32
	wakeable    bool    // wakeQueue is registered
	wakePending bool    // a wake-up was enqueued and OnQueueReady has not run yet
	wakeMsg     [1]byte // the wake-up item

	// Ended stream contexts ready for reuse.
	free []*httpContext

	// Streams whose headers are paused while the body is read (hold guard).
	held map[uint32]*httpContext

	tickMs uint32 // current tick period

	loggedNeedsHold, loggedHoldTimeout bool
}

func newPluginContext(id uint32) *pluginContext {
	return &pluginContext{id: id, held: map[uint32]*httpContext{}}
}

// OnPluginStart implements types.PluginContext: it reads and compiles the
// configuration. A bad configuration fails start (and a reconfiguration
// keeps the previous one) with a critical log naming the fault's JSON path,
// never the payload.
func (p *pluginContext) OnPluginStart(int) types.OnPluginStartStatus {
	config, err := proxywasm.GetPluginConfiguration()
	if err != nil && !errors.Is(err, types.ErrorStatusNotFound) {
		proxywasm.LogCritical("eventroute: cannot read the plugin configuration: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	s, err := loadSettings(config)
	if err != nil {
		proxywasm.LogCritical("eventroute: " + err.Error())
		return types.OnPluginStartStatusFailed
	}
	p.set = s
	lim := s.cfg.Limits
	p.budget.MaxCount, p.budget.MaxBytes = lim.MaxPendingDeliveries, lim.MaxPendingBytes
	if n := len(s.subscribers); cap(p.plan) < n {
		p.plan = make([][]int, n)
	}
	p.plan = p.plan[:len(s.subscribers)]
	p.registerWakeQueue()
	proxywasm.LogInfo("eventroute: configuration loaded")
	return types.OnPluginStartStatusOK
}

// NewHttpContext implements types.PluginContext. Stream contexts are
// recycled (see recycle) so a request allocates nothing here.
func (p *pluginContext) NewHttpContext(id uint32) types.HttpContext {
	if p.set == nil {
		return &types.DefaultHttpContext{}
	}
	if n := len(p.free); n > 0 {
		h := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		h.streamState = streamState{id: id}
		h.set, h.headers, h.failed = p.set, h.headers[:0], h.failed[:0]
		return h
	}
	return &httpContext{p: p, set: p.set, streamState: streamState{id: id}}
}

// maxFreeContexts bounds the recycled stream contexts kept per VM.
const maxFreeContexts = 256

// recycle keeps an ended stream's context for the next stream unless
// something still refers to it (a broker delivery waiting for it). The SDK
// makes no more calls into a context after OnHttpStreamDone.
func (p *pluginContext) recycle(h *httpContext) {
	if h.awaiting > 0 || len(p.free) >= maxFreeContexts {
		return
	}
	if h.inHeld {
		return
	}
	clear(h.headers) // drop the views of the host's buffer; keep the capacity
	h.headers = h.headers[:0]
	p.free = append(p.free, h)
}

// OnTick implements types.PluginContext: it dispatches queued deliveries,
// retries that are due, and resumes streams whose hold timed out.
func (p *pluginContext) OnTick() {
	now := time.Now()
	p.onRoot = true
	p.dispatchQueued(now)
	p.dispatchDueRetries(now)
	p.expireHolds(now)
	p.onRoot = false
	p.rearm(now)
}

// rearm sets the tick period to reach the earliest pending deadline: 1 ms
// when deliveries are queued without a wake-up on its way, else the earliest
// retry or hold deadline, else off. Ticks only run while there is timed work.
func (p *pluginContext) rearm(now time.Time) {
	var next time.Time
	if len(p.queued) > 0 && !p.wakePending {
		next = now
	}
	for _, d := range p.waiting {
		if next.IsZero() || d.due.Before(next) {
			next = d.due
		}
	}
	for _, h := range p.held {
		if deadline := time.Unix(0, h.holdDeadline); next.IsZero() || deadline.Before(next) {
			next = deadline
		}
	}
	var period uint32
	if !next.IsZero() {
		ms := (next.Sub(now) + time.Millisecond - 1) / time.Millisecond
		switch {
		case ms < 1:
			period = 1
		case ms > 1<<31:
			period = 1 << 31
		default:
			period = uint32(ms)
		}
	}
	if period != p.tickMs {
		if err := proxywasm.SetTickPeriodMilliSeconds(period); err != nil {
			proxywasm.LogError("eventroute: cannot set the tick period: " + err.Error())
			return
		}
		p.tickMs = period
	}
}
