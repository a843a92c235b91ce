package main

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/eventroute/eventroute/filters"
	"github.com/eventroute/eventroute/filters/cloudevent"
	"github.com/eventroute/eventroute/filters/event"
)

// Media types of delivered messages.
const (
	mediaStructured = "application/cloudevents+json"
	mediaBatch      = "application/cloudevents-batch+json"
)

// mirror fans the events out to every subscriber of every matching mirror
// (sampled by percent). The original request is not changed.
func (h *httpContext) mirror(events []event.Event, body []byte) {
	if len(h.set.cfg.Mirrors) == 0 {
		return
	}
	p := h.p
	p.resetPlan()
	for i := range events {
		h.planMirrors(&events[i], i)
	}
	h.deliverPlan(events, body, nil)
}

// planMirrors adds event i to the plan of every subscriber of every matching,
// sampled mirror.
func (h *httpContext) planMirrors(ev *event.Event, i int) {
	p, s := h.p, h.set
	p.mirrorIdx = s.router.Mirrors(ev, p.mirrorIdx[:0])
	for _, mi := range p.mirrorIdx {
		s.metrics.mirrorMatched[mi].inc()
		mir := &s.cfg.Mirrors[mi]
		if mir.Percent < 100 && rand.Float64()*100 >= mir.Percent {
			continue
		}
		for _, si := range mir.Subscribers {
			p.addToPlan(si, i)
		}
	}
}

// resetPlan empties the per-subscriber delivery plan.
func (p *pluginContext) resetPlan() {
	for _, si := range p.planned {
		p.plan[si] = p.plan[si][:0]
	}
	p.planned = p.planned[:0]
}

// addToPlan records that subscriber si receives event i (once).
func (p *pluginContext) addToPlan(si, i int) {
	if si < 0 || si >= len(p.plan) {
		return
	}
	idxs := p.plan[si]
	if n := len(idxs); n > 0 && idxs[n-1] == i {
		return
	}
	if len(idxs) == 0 {
		p.planned = append(p.planned, si)
	}
	p.plan[si] = append(idxs, i)
}

// deliverPlan schedules one delivery per planned subscriber (or per event when
// the subscriber's format carries one event per message).
func (h *httpContext) deliverPlan(events []event.Event, body []byte, waiter *httpContext) {
	p := h.p
	if len(p.planned) == 0 {
		return
	}
	for _, si := range p.planned {
		h.sendTo(h.set.subscribers[si], events, p.plan[si], body, waiter)
	}
	p.resetPlan()
	if !p.onRoot && len(p.queued) > 0 && !p.wakePending {
		p.rearm(time.Now()) // no wake-up queue: the next tick dispatches them
	}
}

// sendTo encodes the events at idxs in the subscriber's format and schedules them.
// The request body is sent as it is (no copy, no re-encoding) when it already
// is in the subscriber's format: "original" for a body-mode event, and a
// structured event for a "structured" subscriber (it was validated as one).
func (h *httpContext) sendTo(sub *subscriber, events []event.Event, idxs []int, body []byte, waiter *httpContext) {
	p, mode := h.p, h.class.Mode
	asIs := (sub.Format == filters.FormatOriginal && mode != event.ModeBinary) ||
		(sub.Format == filters.FormatStructured && mode == event.ModeStructured)
	if asIs {
		d := p.newDelivery(sub)
		headers := appendBaseHeaders(d.headers, sub, h.hop)
		msg := body
		ct := requestContentType(h.headers)
		if mode == event.ModeBatch && len(idxs) != len(events) {
			ptrs := p.eventPtrs[:0]
			for _, i := range idxs {
				ptrs = append(ptrs, &events[i])
			}
			msg = cloudevent.AppendBatch(nil, ptrs)
			clear(ptrs)
			p.eventPtrs = ptrs[:0]
			ct = mediaBatch
		}
		d.headers = append(headers, [2]string{"content-type", ct})
		d.body, d.origMode, d.hop, d.waiter = msg, mode, h.hop, waiter
		for _, i := range idxs {
			d.events = appendSnapshot(d.events, sub, &events[i])
		}
		p.schedule(d)
		return
	}
	as := event.ModeStructured
	if sub.Format == filters.FormatBinary || (sub.Format == filters.FormatOriginal && mode == event.ModeBinary) {
		as = event.ModeBinary
	}
	for _, i := range idxs {
		d := p.newDelivery(sub)
		d.headers, d.body = encodeOne(d.headers, sub, &events[i], as, h.hop)
		d.origMode, d.hop, d.waiter = mode, h.hop, waiter
		d.events = appendSnapshot(d.events, sub, &events[i])
		p.schedule(d)
	}
}

// encodeOne encodes one event for a subscriber in binary or structured mode:
// it appends the message's headers to dst and returns them with its body.
func encodeOne(dst [][2]string, sub *subscriber, ev *event.Event, as event.Mode, hop int) ([][2]string, []byte) {
	if as == event.ModeBinary {
		headers := appendBaseHeaders(dst, sub, hop)
		n := len(headers)
		headers = cloudevent.AppendBinaryHeaders(headers, ev)
		for i := n; i < len(headers); i++ {
			headers[i][1] = strings.Clone(headers[i][1])
		}
		return headers, bytes.Clone(cloudevent.BinaryBody(ev))
	}
	headers := append(appendBaseHeaders(dst, sub, hop), [2]string{"content-type", mediaStructured})
	return headers, cloudevent.AppendStructured(nil, ev)
}

// appendBaseHeaders appends the request line of a delivery to dst: POST to
// the subscriber's path and authority, one hop more than the incoming
// request.
func appendBaseHeaders(dst [][2]string, sub *subscriber, hop int) [][2]string {
	return append(dst,
		[2]string{":method", "POST"},
		[2]string{":path", sub.Path},
		[2]string{":authority", sub.Authority},
		[2]string{hopHeader, strconv.Itoa(hop + 1)})
}

// requestContentType returns the request's content-type header value.
func requestContentType(headers [][2]string) string {
	for _, kv := range headers {
		if kv[0] == "content-type" {
			return kv[1]
		}
	}
	return "application/json"
}

// appendSnapshot appends a copy of an event a delivery carries to dst when
// its subscriber has a dead-letter subscriber, so the dead-letter message can
// be built after the request's buffers are reused.
func appendSnapshot(dst []*event.Event, sub *subscriber, ev *event.Event) []*event.Event {
	if sub.deadLetter == nil {
		return dst
	}
	return append(dst, cloneEvent(ev))
}

// cloneEvent deep-copies an event (strings, extensions with their kinds, and data).
func cloneEvent(ev *event.Event) *event.Event {
	c := &event.Event{
		SpecVersion:     strings.Clone(ev.SpecVersion),
		ID:              strings.Clone(ev.ID),
		Source:          strings.Clone(ev.Source),
		Type:            strings.Clone(ev.Type),
		Subject:         strings.Clone(ev.Subject),
		Time:            strings.Clone(ev.Time),
		DataContentType: strings.Clone(ev.DataContentType),
		DataSchema:      strings.Clone(ev.DataSchema),
		Data:            bytes.Clone(ev.Data),
		DataKind:        ev.DataKind,
	}
	if len(ev.Extensions) > 0 {
		c.Extensions = make([]event.Attr, len(ev.Extensions), len(ev.Extensions)+3)
		for i, a := range ev.Extensions {
			c.Extensions[i] = event.Attr{Name: strings.Clone(a.Name), Value: strings.Clone(a.Value), Kind: a.Kind}
		}
	}
	return c
}
