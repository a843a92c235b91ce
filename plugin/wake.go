package main

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
)

// Deliveries scheduled by a stream are dispatched from the root context: the
// SDK registers a dispatch's callback under the context that made it and
// drops the response when that stream ended first (proxy-wasm-go-sdk issue
// #261), and Envoy cancels a context's calls when it is deleted. To let them
// leave at once, the root registers a shared queue of its own; a stream that
// queued deliveries enqueues one byte, and the host calls OnQueueReady on the
// root right after the stream's callback returns. Without the queue (a host
// that refuses it) the next 1 ms tick dispatches them.

// wakeQueuePrefix names the wake-up queue. Queue names are shared by every VM
// with the same vm_id (one per Envoy worker), so each root adds a random
// suffix: a wake-up must reach the root of the VM that queued the delivery.
const wakeQueuePrefix = "eventroute.wake."

// registerWakeQueue registers this root's wake-up queue once.
func (p *pluginContext) registerWakeQueue() {
	if p.wakeable {
		return
	}
	id, err := proxywasm.RegisterSharedQueue(wakeQueuePrefix + strconv.FormatUint(rand.Uint64(), 36))
	if err != nil {
		proxywasm.LogWarn("eventroute: cannot register the wake-up queue, deliveries leave on the next tick: " + err.Error())
		return
	}
	p.wakeQueue, p.wakeable = id, true
}

// wake asks the host to run OnQueueReady on the root soon (once per batch of
// queued deliveries).
func (p *pluginContext) wake() {
	if p.wakePending || !p.wakeable {
		return
	}
	if err := proxywasm.EnqueueSharedQueue(p.wakeQueue, p.wakeMsg[:]); err != nil {
		proxywasm.LogWarn("eventroute: cannot enqueue a wake-up, deliveries leave on the next tick: " + err.Error())
		p.wakeable = false
		return
	}
	p.wakePending = true
}

// OnQueueReady implements types.PluginContext: it takes the wake-up item
// (there is one at most: wake enqueues only while none is pending) and
// dispatches what streams queued.
func (p *pluginContext) OnQueueReady(queueID uint32) {
	if !p.wakeable || queueID != p.wakeQueue {
		return
	}
	_, _ = p.host.dequeue(queueID) // Empty is fine: the wake-up is what counts
	p.wakePending = false
	if len(p.queued) == 0 {
		return
	}
	now := time.Now()
	p.onRoot = true
	p.dispatchQueued(now)
	p.onRoot = false
	p.rearm(now)
}
