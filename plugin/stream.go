package main

import (
	"errors"
	"math"
	"strconv"

	"github.com/eventroute/eventroute/filters"
	"github.com/eventroute/eventroute/filters/event"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm"
	"github.com/proxy-wasm/proxy-wasm-go-sdk/proxywasm/types"
)

// hopHeader counts how many eventroute deliveries an event went through.
const hopHeader = "x-eventroute-hop"

// httpContext is one HTTP stream through the filter. Contexts are recycled
// (see pluginContext.recycle): a new stream resets streamState in one
// pointer-free assignment and keeps the slices' capacity.
type httpContext struct {
	types.DefaultHttpContext
	p   *pluginContext
	set *settings

	headers [][2]string // request headers as received (only for event requests)
	failed  []string    // broker "ack: delivered": subscribers whose first attempt failed

	streamState
}

// streamState is the per-stream state of an httpContext, without pointers.
type streamState struct {
	id    uint32
	class filters.Classification
	hop   int // incoming x-eventroute-hop

	wantBody     bool  // the body is buffered and inspected at end of stream
	holding      bool  // headers are paused and still modifiable
	inHeld       bool  // the stream is in its root's held map
	holdDeadline int64 // when the hold guard resumes a stream that got no body (Unix ns)
	bodySeen     bool
	routed       bool // the route was decided (and applied) from headers
	answered     bool // a local reply was sent
	done         bool // the stream ended (OnHttpStreamDone)

	awaiting int // broker "ack: delivered": first attempts still running
}

// OnHttpRequestHeaders implements types.HttpContext.
func (h *httpContext) OnHttpRequestHeaders(_ int, endOfStream bool) types.Action {
	s, m := h.set, h.set.metrics
	m.requests.inc()
	if _, ok := h.p.host.value(requestHeaders, s.cfg.RouteHeader); ok {
		if proxywasm.RemoveHttpRequestHeader(s.cfg.RouteHeader) == nil {
			m.spoofed.inc()
		}
	}
	if !h.classify() {
		return types.ActionContinue
	}
	if v, ok := headerValue(h.headers, hopHeader); ok {
		h.hop = parseHop(v)
		if h.hop >= s.cfg.Limits.MaxHops {
			m.loopSuppressed.inc()
			return types.ActionContinue
		}
	}
	headers := h.headers
	if endOfStream {
		return h.process(nil, true)
	}
	if n, ok := contentLength(headers); ok && n > int64(s.cfg.Limits.MaxBodyBytes) {
		m.bodyTooLarge.inc()
		return types.ActionContinue
	}
	if !h.class.NeedsBody && !s.cfg.Broker.Enabled {
		return h.process(nil, true)
	}
	h.wantBody = true
	if h.attributesInHeaders() && !s.cfg.Broker.Enabled {
		// Try to decide the route from headers now; the body is read for
		// mirrors (and for data-filter routes when this cannot decide).
		if a, final := h.routeFromHeaders(); final {
			return a
		}
	}
	if s.cfg.HoldHeaders {
		h.holding = true
		h.p.hold(h)
		return types.ActionPause
	}
	return types.ActionContinue
}

// classify decides whether the request may carry an event. It reads the
// one or two headers that decide it first, and the whole header map only for
// requests that may be events (h.headers). When ce-specversion is absent the
// probe's classification stands: the whole map adds nothing Classify reads
// (the same first content-type and :path, still no ce-specversion).
func (h *httpContext) classify() bool {
	router, host := h.set.router, &h.p.host
	probed := false
	if _, ok := host.value(requestHeaders, "ce-specversion"); !ok {
		ct, ok := host.value(requestHeaders, "content-type")
		if !ok {
			return false
		}
		probe := append(h.p.probe[:0], [2]string{"content-type", ct})
		if h.set.probePath {
			if path, ok := host.value(requestHeaders, ":path"); ok {
				probe = append(probe, [2]string{":path", path})
			}
		}
		if h.class = router.Classify(probe); h.class.Mode == event.ModeNone {
			return false
		}
		probed = true
	}
	headers, ok := host.pairs(requestHeaders, h.headers[:0])
	if !ok {
		proxywasm.LogWarn("eventroute: cannot read request headers")
		return false
	}
	h.headers = headers
	if !probed {
		h.class = router.Classify(headers)
	}
	return h.class.Mode != event.ModeNone
}

// headerValue returns the first value of a lower-case header name.
func headerValue(headers [][2]string, name string) (string, bool) {
	for _, kv := range headers {
		if kv[0] == name {
			return kv[1], true
		}
	}
	return "", false
}

// OnHttpRequestBody implements types.HttpContext: the body is buffered until
// its end, then inspected once.
func (h *httpContext) OnHttpRequestBody(bodySize int, endOfStream bool) types.Action {
	if !h.wantBody || h.answered {
		return types.ActionContinue
	}
	if !h.bodySeen {
		h.bodySeen = true
		h.p.unhold(h)
	}
	if bodySize > h.set.cfg.Limits.MaxBodyBytes {
		h.set.metrics.bodyTooLarge.inc()
		h.wantBody, h.holding = false, false
		return types.ActionContinue
	}
	if !endOfStream {
		return types.ActionPause
	}
	h.wantBody = false
	var body []byte
	if bodySize > 0 {
		b, err := h.p.host.buffer(requestBody, 0, bodySize)
		if err != nil {
			proxywasm.LogWarn("eventroute: cannot read the request body: " + err.Error())
			h.holding = false
			return types.ActionContinue
		}
		body = b
	}
	a := h.process(body, h.holding)
	h.holding = false
	return a
}

// OnHttpRequestTrailers implements types.HttpContext: a request with
// trailers ends its body without an end-of-stream body callback.
func (h *httpContext) OnHttpRequestTrailers(int) types.Action {
	if !h.wantBody || h.answered {
		return types.ActionContinue
	}
	h.wantBody = false
	body, err := h.p.host.buffer(requestBody, 0, h.set.cfg.Limits.MaxBodyBytes)
	if err != nil {
		body = nil
	}
	a := h.process(body, h.holding)
	h.holding = false
	return a
}

// OnHttpStreamDone implements types.HttpContext.
func (h *httpContext) OnHttpStreamDone() {
	h.done = true
	h.p.unhold(h)
	h.p.recycle(h)
}

// process recognizes the events of the request and acts on them. headersOpen
// says whether request headers may still be changed (route rewrite).
func (h *httpContext) process(body []byte, headersOpen bool) types.Action {
	p, s, m := h.p, h.set, h.set.metrics
	b := &p.batch
	if err := s.router.Recognize(h.class, h.headers, body, b); err != nil {
		m.invalid.inc()
		if s.cfg.OnInvalid == filters.OnInvalidPass {
			return types.ActionContinue
		}
		return h.replyProblem(400, problemInvalid, "Invalid event", err.Error())
	}
	events := b.Events
	if len(events) == 0 {
		return types.ActionContinue
	}
	m.events[h.class.Mode].add(len(events))
	if s.hasPublishers && !h.publishersAllowed(events) {
		m.publisherDenied.inc()
		return h.replyProblem(403, problemPublisher, "Publisher not allowed",
			"the downstream peer may not publish this event")
	}
	if s.cfg.Broker.Enabled {
		return h.broker(events, body)
	}
	if !h.routed {
		h.route(events, headersOpen)
	}
	h.mirror(events, body)
	return types.ActionContinue
}

// attributesInHeaders reports whether the event's attributes are all in the
// request headers (binary mode, or a JSON profile that reads only headers).
func (h *httpContext) attributesInHeaders() bool {
	switch h.class.Mode {
	case event.ModeBinary:
		return true
	case event.ModeJSON:
		profiles := h.set.cfg.Recognize.JSON
		return h.class.Profile >= 0 && h.class.Profile < len(profiles) && !profiles[h.class.Profile].ReadsBody
	default:
		return false
	}
}

// routeFromHeaders decides the route of an event whose attributes are in the
// headers while they can still be changed; the body is read later for
// mirrors. The decision is final when the first matching route comes before
// any route that reads data. final reports that the request was answered
// (invalid event).
func (h *httpContext) routeFromHeaders() (action types.Action, final bool) {
	s, m := h.set, h.set.metrics
	if len(s.cfg.Routes) == 0 {
		return types.ActionContinue, false
	}
	b := &h.p.batch
	if err := s.router.Recognize(h.class, h.headers, nil, b); err != nil {
		m.invalid.inc()
		h.wantBody = false
		if s.cfg.OnInvalid == filters.OnInvalidPass {
			return types.ActionContinue, true
		}
		return h.replyProblem(400, problemInvalid, "Invalid event", err.Error()), true
	}
	if len(b.Events) != 1 {
		return types.ActionContinue, false
	}
	chosen := s.router.Route(&b.Events[0])
	if h.class.RouteNeedsBody && !decidedWithoutData(s.cfg.Routes, chosen) {
		return types.ActionContinue, false
	}
	h.route(b.Events, true)
	h.routed = true
	return types.ActionContinue, false
}

// decidedWithoutData reports whether a route chosen without the event's data
// is final: it matched, and no route before it reads data.
func decidedWithoutData(routes []filters.Route, chosen int) bool {
	if chosen < 0 {
		return false
	}
	for i := 0; i < chosen; i++ {
		if routes[i].NeedsData {
			return false
		}
	}
	return !routes[chosen].NeedsData
}

// route applies the first matching route when every event agrees on it.
func (h *httpContext) route(events []event.Event, headersOpen bool) {
	s, m := h.set, h.set.metrics
	if len(s.cfg.Routes) == 0 {
		return
	}
	chosen := s.router.Route(&events[0])
	for i := 1; i < len(events); i++ {
		if s.router.Route(&events[i]) != chosen {
			m.routeConflict.inc()
			return
		}
	}
	if chosen < 0 {
		return
	}
	m.routeMatched[chosen].add(len(events))
	if !headersOpen {
		m.needsHold.inc()
		if !h.p.loggedNeedsHold {
			h.p.loggedNeedsHold = true
			proxywasm.LogWarn("eventroute: route " + s.cfg.Routes[chosen].Name +
				" matched an event read from the body, but request headers were already sent; " +
				`set "holdHeaders": true on a host with allow_on_headers_stop_iteration to route such events`)
		}
		return
	}
	sub := s.subscribers[s.cfg.Routes[chosen].Subscriber]
	setHeader(s.cfg.RouteHeader, sub.Name)
	setHeader(":authority", sub.Authority)
	if sub.PathSet {
		setHeader(":path", sub.Path)
	}
}

func setHeader(name, value string) {
	if err := proxywasm.ReplaceHttpRequestHeader(name, value); err != nil {
		proxywasm.LogWarn("eventroute: cannot set request header " + name + ": " + err.Error())
	}
}

// publishersAllowed checks every event against the publisher rules with the
// downstream peer's URI SAN.
func (h *httpContext) publishersAllowed(events []event.Event) bool {
	principal := ""
	if v, err := proxywasm.GetProperty([]string{"connection", "uri_san_peer_certificate"}); err == nil {
		principal = string(v)
	}
	for i := range events {
		if !h.set.router.PublisherAllowed(&events[i], principal) {
			return false
		}
	}
	return true
}

// parseHop reads x-eventroute-hop; anything that is not a small non-negative
// integer counts as 0.
func parseHop(v string) int {
	n, err := strconv.Atoi(v)
	switch {
	case errors.Is(err, strconv.ErrRange) && v != "" && v[0] != '-':
		return math.MaxInt
	case err != nil || n < 0:
		return 0
	default:
		return n
	}
}

// contentLength returns the request's declared body size.
func contentLength(headers [][2]string) (int64, bool) {
	v, ok := headerValue(headers, "content-length")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}
