package main

import (
	"math/rand/v2"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/eventroute/eventroute/filters/event"
	"github.com/eventroute/eventroute/plugin/internal/delivery"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
)

// pendingDelivery is one message to one subscriber, from scheduling until it
// is delivered, dead-lettered or dropped.
type pendingDelivery struct {
	sub     *subscriber
	headers [][2]string
	body    []byte
	attempt int       // attempts dispatched so far
	due     time.Time // when a waiting retry is dispatched
	sentAt  time.Time // when the current attempt was dispatched
	// events are snapshots for the dead-letter message (nil without a deadLetter).
	events []*event.Event
	// origMode is how the events arrived (dead-letter "original" format).
	origMode event.Mode
	hop      int
	// isDeadLetter: this message is itself a dead-letter; it is never dead-lettered again.
	isDeadLetter bool
	// waiter is a broker stream waiting for the first attempt ("ack: delivered").
	waiter *httpContext
}

// maxErrorText bounds the eventrouteerror extension (SPEC §3.3).
const maxErrorText = 1024

// schedule admits a delivery and dispatches it: at once when running on the
// root context, else from the root's wake-up right after the current stream
// callback (see wake.go).
func (p *pluginContext) schedule(d *pendingDelivery) {
	m := &d.sub.metrics
	m.sent.inc()
	if reason := p.budget.Reserve(len(d.body)); reason != delivery.DropNone {
		m.dropped.inc()
		p.logDrop(d.sub, reason)
		if w := d.waiter; w != nil {
			d.waiter = nil
			w.addFailed(d.sub.Name)
		}
		return
	}
	if d.waiter != nil {
		d.waiter.awaiting++
	}
	if p.onRoot {
		p.dispatch(d, time.Now())
		return
	}
	p.queued = append(p.queued, d)
	p.wake()
}

// dispatch sends one attempt.
func (p *pluginContext) dispatch(d *pendingDelivery, now time.Time) {
	d.attempt++
	d.sentAt = now
	_, err := proxywasm.DispatchHttpCall(d.sub.Cluster, d.headers, d.body, nil, d.sub.timeoutMs,
		func(numHeaders, bodySize, _ int) { p.onResponse(d, numHeaders, bodySize) })
	if err != nil {
		p.finish(d, 0, "dispatch refused by the proxy: "+err.Error(), true, now)
	}
}

// dispatchQueued dispatches what streams scheduled since the last tick.
func (p *pluginContext) dispatchQueued(now time.Time) {
	q := p.queued
	p.queued = nil
	for i, d := range q {
		q[i] = nil
		p.dispatch(d, now)
	}
	if p.queued == nil {
		p.queued = q[:0]
	}
}

// dispatchDueRetries dispatches the retries whose backoff elapsed.
func (p *pluginContext) dispatchDueRetries(now time.Time) {
	if len(p.waiting) == 0 {
		return
	}
	var due []*pendingDelivery
	kept := p.waiting[:0]
	for _, d := range p.waiting {
		if now.Before(d.due) {
			kept = append(kept, d)
		} else {
			due = append(due, d)
		}
	}
	for i := len(kept); i < len(p.waiting); i++ {
		p.waiting[i] = nil
	}
	p.waiting = kept
	for _, d := range due {
		p.dispatch(d, now)
	}
}

// onResponse handles the proxy's answer to one attempt. Envoy reports a
// timeout as 504, a connect failure as 503 and a reset as no headers.
func (p *pluginContext) onResponse(d *pendingDelivery, numHeaders, bodySize int) {
	elapsed := time.Since(d.sentAt) // one monotonic clock read
	now := d.sentAt.Add(elapsed)
	p.onRoot = true
	ms := elapsed.Milliseconds()
	if ms < 0 {
		ms = 0
	}
	d.sub.metrics.latencyMs.record(uint64(ms))
	status := 0
	errText := "connection reset"
	if numHeaders > 0 {
		status = p.responseStatus()
		if status < 200 || status >= 300 {
			errText = "HTTP " + strconv.Itoa(status) + responseSnippet(bodySize)
		}
	}
	p.finish(d, status, errText, false, now)
	p.onRoot = false
	p.rearm(now)
}

// finish accounts for the end of one attempt: delivered, retried later,
// dead-lettered or dropped.
func (p *pluginContext) finish(d *pendingDelivery, status int, errText string, refused bool, now time.Time) {
	m := &d.sub.metrics
	o := delivery.Outcome{Status: status}
	if !refused && o.Delivered() {
		m.delivered.inc()
		p.notifyWaiter(d, true)
		p.budget.Release(len(d.body))
		return
	}
	m.failed.inc()
	p.notifyWaiter(d, false)
	r := d.sub.Retry
	if !refused && o.Retryable() && d.attempt < r.Attempts {
		m.retried.inc()
		d.due = now.Add(delivery.Backoff(r.InitialBackoff, r.MaxBackoff, d.attempt, rand.Float64()))
		p.waiting = append(p.waiting, d)
		return
	}
	p.budget.Release(len(d.body))
	if dl := d.sub.deadLetter; dl != nil && !d.isDeadLetter && len(d.events) > 0 {
		m.deadLettered.inc()
		p.sendToDeadLetter(d, dl, status, errText)
		return
	}
	m.dropped.inc()
	reason := delivery.DropExhausted
	if refused {
		reason = delivery.DropDispatchError
	}
	p.logDrop(d.sub, reason)
}

// sendToDeadLetter schedules the events of a failed delivery to the
// dead-letter subscriber with the eventroute* extensions that say why.
func (p *pluginContext) sendToDeadLetter(d *pendingDelivery, dl *subscriber, status int, errText string) {
	errText = truncateUTF8(errText, maxErrorText)
	statusText := strconv.Itoa(status)
	for _, ev := range d.events {
		ev.Extensions = append(ev.Extensions,
			event.Attr{Name: "eventroutesubscriber", Value: d.sub.Name},
			event.Attr{Name: "eventroutestatus", Value: statusText},
			event.Attr{Name: "eventrouteerror", Value: errText})
		mode := d.origMode
		if mode != event.ModeBinary {
			mode = event.ModeStructured
		}
		headers, body := encodeOne(dl, ev, mode, d.hop)
		p.schedule(&pendingDelivery{sub: dl, headers: headers, body: body, origMode: mode, hop: d.hop,
			isDeadLetter: true, events: []*event.Event{ev}})
	}
}

// notifyWaiter tells a broker stream that one first attempt ended.
func (p *pluginContext) notifyWaiter(d *pendingDelivery, ok bool) {
	w := d.waiter
	if w == nil {
		return
	}
	d.waiter = nil
	w.awaiting--
	if !ok {
		w.addFailed(d.sub.Name)
	}
	if w.awaiting == 0 && !w.done && !w.answered {
		if err := proxywasm.SetEffectiveContext(w.id); err != nil {
			return
		}
		w.answerBroker()
		_ = proxywasm.SetEffectiveContext(p.id)
	}
}

// logDrop logs a dropped delivery once per subscriber and reason (per
// configuration: a new configuration logs again).
func (p *pluginContext) logDrop(sub *subscriber, reason delivery.DropReason) {
	bit := uint8(1) << reason
	if sub.loggedDrops&bit != 0 {
		return
	}
	sub.loggedDrops |= bit
	proxywasm.LogWarn("eventroute: dropped a delivery to subscriber " + sub.Name + ": " + reason.String() +
		" (counted in eventroute.subscriber." + sub.Name + ".dropped; logged once)")
}

// responseStatus reads :status of the current dispatch response; 0 if absent.
func (p *pluginContext) responseStatus() int {
	v, ok := p.host.value(callResponseHeaders, ":status")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// responseSnippet returns ": <start of the response body>" for error texts,
// printable characters only.
func responseSnippet(bodySize int) string {
	if bodySize <= 0 {
		return ""
	}
	n := bodySize
	if n > 256 {
		n = 256
	}
	b, err := proxywasm.GetHttpCallResponseBody(0, n)
	if err != nil || len(b) == 0 {
		return ""
	}
	out := make([]byte, 0, len(b)+2)
	out = append(out, ':', ' ')
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, '?')
		case r < 0x20 || (r >= 0x7f && r < 0xa0):
			out = append(out, ' ')
		default:
			out = utf8.AppendRune(out, r)
		}
	}
	return string(out)
}

// truncateUTF8 cuts s to at most n bytes on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
