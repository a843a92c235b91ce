package main

import (
	"time"

	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
)

// The hold guard (SPEC §1): with "holdHeaders": true the plugin pauses
// request headers while it reads the body. A host that does not really hold
// (Envoy without allow_on_headers_stop_iteration) delivers no body until the
// headers continue, so a stream that sees no body callback within
// limits.holdTimeout is resumed from a tick.

// hold registers a stream paused in its headers callback.
func (p *pluginContext) hold(h *httpContext) {
	now := time.Now()
	h.holdDeadline = now.Add(h.set.holdTimeout).UnixNano()
	p.held[h.id] = h
	h.inHeld = true
	p.rearm(now)
}

// unhold forgets a stream that got its body or ended.
func (p *pluginContext) unhold(h *httpContext) {
	if h.inHeld {
		delete(p.held, h.id)
		h.inHeld = false
	}
}

// expireHolds resumes the held streams whose deadline passed.
func (p *pluginContext) expireHolds(now time.Time) {
	resumed := false
	for id, h := range p.held {
		if now.UnixNano() < h.holdDeadline {
			continue
		}
		delete(p.held, id)
		h.inHeld, h.holding = false, false
		resumed = true
		if err := proxywasm.SetEffectiveContext(id); err != nil {
			continue
		}
		if err := proxywasm.ResumeHttpRequest(); err != nil {
			proxywasm.LogError("eventroute: cannot resume a held request: " + err.Error())
			continue
		}
		h.set.metrics.holdTimeout.inc()
		if !p.loggedHoldTimeout {
			p.loggedHoldTimeout = true
			proxywasm.LogWarn(`eventroute: "holdHeaders": true but the host delivered no request body while headers ` +
				"were paused; the request was resumed after limits.holdTimeout. Enable allow_on_headers_stop_iteration " +
				`(Envoy >= 1.35) or set "holdHeaders": false`)
		}
	}
	if resumed {
		_ = proxywasm.SetEffectiveContext(p.id) // back to the root for what follows in this tick
	}
}
