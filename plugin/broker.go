package main

import (
	"strings"

	"github.com/eventroute/eventroute/filters"
	"github.com/eventroute/eventroute/filters/event"
	"github.com/eventroute/eventroute/plugin/internal/problem"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// broker answers the request itself and delivers each event to the
// subscriber of its first matching route and to every matching mirror.
// "ack: accepted" answers 202 once deliveries are scheduled; "ack: delivered"
// answers when every first attempt ended (see notifyWaiter).
func (h *httpContext) broker(events []event.Event, body []byte) types.Action {
	p, s := h.p, h.set
	p.resetPlan()
	for i := range events {
		if r := s.router.Route(&events[i]); r >= 0 {
			s.metrics.routeMatched[r].inc()
			p.addToPlan(s.cfg.Routes[r].Subscriber, i)
		}
		h.planMirrors(&events[i], i)
	}
	var waiter *httpContext
	if s.cfg.Broker.Ack == filters.AckDelivered {
		waiter = h
	}
	h.deliverPlan(events, body, waiter)
	if waiter == nil || h.awaiting == 0 {
		h.answerBroker()
	}
	return types.ActionPause
}

// addFailed records a subscriber whose first attempt failed (once).
func (h *httpContext) addFailed(name string) {
	for _, f := range h.failed {
		if f == name {
			return
		}
	}
	h.failed = append(h.failed, name)
}

// answerBroker sends the broker's reply: 202, or 502 naming the subscribers
// whose first attempt failed.
func (h *httpContext) answerBroker() {
	if len(h.failed) == 0 {
		h.reply(202, nil)
		return
	}
	p := problem.Problem{
		Type:        problemDelivery,
		Title:       "Delivery failed",
		Status:      502,
		Detail:      "delivery failed for subscriber(s): " + strings.Join(h.failed, ", "),
		Subscribers: h.failed,
	}
	h.reply(502, p.Append(nil))
}
