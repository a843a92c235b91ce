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
// is delivered, dead-lettered or dropped. Deliveries are pooled per plugin
// context (see newDelivery and release).
type pendingDelivery struct {
	sub     *subscriber
	headers [][2]string
	body    []byte
	attempt int       // attempts dispatched so far
	due     time.Time // when a waiting retry is dispatched
	sentAt  time.Time // when the current attempt was dispatched
	// events are snapshots for the dead-letter message (empty without a deadLetter).
	events []*event.Event
	// origMode is how the events arrived (dead-letter "original" format).
	origMode event.Mode
	hop      int
	// isDeadLetter: this message is itself a dead-letter; it is never dead-lettered again.
	isDeadLetter bool
	// waiter is a broker stream waiting for the first attempt ("ack: delivered").
	waiter *httpContext
	// onAnswer is the dispatch callback of this delivery, made once when the
	// delivery is allocated and kept while it is pooled (a closure made per
	// dispatch would be one more allocation per attempt).
	onAnswer func(numHeaders, bodySize, numTrailers int)
}

// maxSpareDeliveries bounds the finished deliveries kept for reuse per VM.
const maxSpareDeliveries = 256

// maxSpareCap bounds the capacity of the headers and of the events a pooled
// delivery keeps (a batch or an event with many extensions does not make
// every spare delivery large).
const maxSpareCap = 32

// newDelivery returns an empty delivery to sub, reused when one is spare. Its
// headers and events are empty slices whose capacity may be reused.
func (p *pluginContext) newDelivery(sub *subscriber) *pendingDelivery {
	if n := len(p.spare); n > 0 {
		d := p.spare[n-1]
		p.spare[n-1] = nil
		p.spare = p.spare[:n-1]
		d.sub = sub
		return d
	}
	d := &pendingDelivery{sub: sub, headers: make([][2]string, 0, 8)}
	d.onAnswer = func(numHeaders, bodySize, _ int) { p.onResponse(d, numHeaders, bodySize) }
	return d
}

// release keeps a finished delivery (delivered, dead-lettered or dropped)
// for reuse. Only a delivery that nothing refers to any more is released:
// it is in neither p.queued nor p.waiting, its waiter was notified, and no
// dispatch of it is in flight (a dispatch callback runs once, and finish
// releases the delivery only after it, or after a dispatch the proxy
// refused, which registers no callback).
func (p *pluginContext) release(d *pendingDelivery) {
	headers, events, onAnswer := d.headers, d.events, d.onAnswer
	clear(headers) // drop the references to the message's strings; keep the capacity
	clear(events)
	if cap(headers) > maxSpareCap {
		headers = nil
	}
	if cap(events) > maxSpareCap {
		events = nil
	}
	*d = pendingDelivery{headers: headers[:0], events: events[:0], onAnswer: onAnswer}
	if len(p.spare) < maxSpareDeliveries {
		p.spare = append(p.spare, d)
	}
}

// maxErrorText bounds the eventrouteerror extension (SPEC §3.3).
const maxErrorText = 1024

// schedule admits a delivery and dispatches it: at once when running on the
// root context, else from the root's wake-up right after the current stream
// callback (see wake.go). The caller hands d over: it must not use d after.
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
		p.release(d)
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

// dispatch sends one attempt. The caller must not use d after: a refused
// dispatch may finish (and release) it.
func (p *pluginContext) dispatch(d *pendingDelivery, now time.Time) {
	d.attempt++
	d.sentAt = now
	_, err := proxywasm.DispatchHttpCall(d.sub.Cluster, d.headers, d.body, nil, d.sub.timeoutMs, d.onAnswer)
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
// dead-lettered or dropped. Unless it waits for a retry, d is released: the
// caller must not use it after.
func (p *pluginContext) finish(d *pendingDelivery, status int, errText string, refused bool, now time.Time) {
	m := &d.sub.metrics
	o := delivery.Outcome{Status: status}
	if !refused && o.Delivered() {
		m.delivered.inc()
		p.notifyWaiter(d, true)
		p.budget.Release(len(d.body))
		p.release(d)
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
		p.release(d)
		return
	}
	m.dropped.inc()
	reason := delivery.DropExhausted
	if refused {
		reason = delivery.DropDispatchError
	}
	p.logDrop(d.sub, reason)
	p.release(d)
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
		dd := p.newDelivery(dl)
		dd.headers, dd.body = encodeOne(dd.headers, dl, ev, mode, d.hop)
		dd.origMode, dd.hop, dd.isDeadLetter = mode, d.hop, true
		dd.events = append(dd.events, ev)
		p.schedule(dd)
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
