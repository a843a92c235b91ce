package hostsim

import (
	"context"
	"fmt"
	"strconv"
)

// Header-phase states of one direction.
const (
	hNone      uint8 = iota // headers not received yet
	hStopAll                // Pause → StopAllIterationAndWatermark: nothing more reaches the filter
	hStopIter               // Pause with allow_on_headers_stop_iteration: headers held, body still delivered
	hContinued              // headers forwarded
)

// Callback phases (which callback of a direction is running).
const (
	phaseNone uint8 = iota
	phaseHeaders
	phaseBody
	phaseTrailers
)

// direction is the filter state of the request (0) or response (1) path.
type direction struct {
	headers       Headers
	headersOwned  bool
	trailers      Headers
	trailersOwned bool
	hstate        uint8
	phase         uint8
	body          []byte // held by the filter: the chunk being delivered or the buffered body
	bodySeen      bool   // the filter has seen (part of) the held body
	bodyStopped   bool   // the last body callback asked to buffer
	forwarded     []byte
	eosIn         bool // the end of this direction has arrived at the filter
	trailersIn    bool
	trailersHeld  bool // the trailers callback paused
	trailersDone  bool // trailers forwarded
	trailersAdded bool // trailers created by the plugin in its final body callback
	complete      bool // everything including the end of stream forwarded
}

// bodyAvailable reports whether the body buffer may be read or changed now (HOSTABI §2.5).
func (d *direction) bodyAvailable() bool {
	return d.phase == phaseBody || (d.bodyStopped && d.bodySeen)
}

// Stream is one HTTP stream through the plugin on one worker VM, with Envoy's filter semantics. Methods are
// safe to call from any goroutine; guest calls are serialized by the VM.
type Stream struct {
	host *Host
	vm   *vm
	id   uint32
	slot int // index in the VM's live streams
	root *rootContext

	created      bool
	dirs         [2]direction
	reply        *LocalReply
	pendingReply *LocalReply
	replying     bool // the local reply is running through the response path
	reset        bool
	resetDetails string
	passThrough  bool // the VM failed with fail-open: no more callbacks
	logging      bool
	completed    bool
	filterState  map[string][]byte
	err          error
	changed      chan struct{}
	startNs      int64 // Host clock's Nanotime when the stream reached the filter
	startUnix    int64 // wall time of the same moment, Unix nanoseconds
}

func newStream(h *Host, v *vm) *Stream {
	return &Stream{host: h, vm: v}
}

// ensureCreated issues proxy_on_context_create lazily (Envoy does it in the first decodeHeaders). Callers
// hold the VM lock. It returns false when the stream can get no callbacks (failed VM).
func (s *Stream) ensureCreated() bool {
	v := s.vm
	if s.created {
		return v.failed == nil && !s.passThrough
	}
	if v.failed != nil || v.closed || v.root == nil {
		s.failVM()
		return false
	}
	s.created = true
	s.startNs, s.startUnix = s.host.clock.Nanotime(), s.host.clock.Now().UnixNano()
	s.id = v.newContextID()
	s.root = v.root
	v.addStream(s)
	v.stack[0], v.stack[1] = uint64(s.id), uint64(s.root.id)
	if _, err := v.invokeStream(v.fn.contextCreate, "proxy_on_context_create", s); err != nil {
		s.err = err
		return false
	}
	return true
}

// failVM applies Envoy's handling of a stream on a failed VM: fail-open passes it through untouched, else a
// 503 local reply with details wasm_fail_stream.
func (s *Stream) failVM() {
	if s.reply != nil || s.reset || s.passThrough {
		return
	}
	if s.host.opts.Plugin.FailOpen {
		s.passThrough = true
		for i := range s.dirs {
			s.forwardAll(i)
		}
		s.notify()
		return
	}
	s.reply = &LocalReply{Status: 503, Details: "wasm_fail_stream"}
	s.setResponseFromReply(s.reply)
	s.notify()
}

// forwardHeld moves the held body to the forwarded bytes: the buffer itself
// when nothing was forwarded yet (no copy of a whole buffered body), else a
// copy appended to what was.
func (d *direction) forwardHeld() {
	if len(d.forwarded) == 0 {
		d.forwarded, d.body = d.body, nil
		return
	}
	d.forwarded = append(d.forwarded, d.body...)
	d.body = d.body[:0]
}

// forwardAll forwards everything held in direction i.
func (s *Stream) forwardAll(i int) {
	d := &s.dirs[i]
	if d.hstate != hNone {
		d.hstate = hContinued
	}
	d.forwardHeld()
	d.bodyStopped, d.bodySeen, d.trailersHeld = false, false, false
	if d.trailersIn {
		d.trailersDone = true
	}
	s.checkComplete(i)
}

func (s *Stream) checkComplete(i int) {
	d := &s.dirs[i]
	if d.hstate == hContinued && d.eosIn && len(d.body) == 0 && !d.bodyStopped && (!d.trailersIn || d.trailersDone) {
		d.complete = true
	}
}

// notify wakes WaitDecision callers.
func (s *Stream) notify() {
	if s.changed != nil {
		close(s.changed)
		s.changed = nil
	}
}

// finished reports whether direction i takes no more input (local reply, reset, or pass-through handled).
func (s *Stream) stopped(i int) bool {
	return s.reset || (s.reply != nil && (i == 0 || !s.replying))
}

// afterCallback turns a callback result into Envoy's filter status for direction i and phase, then runs the
// deferred actions. Callers hold the VM lock.
func (s *Stream) afterCallback(i int, phase uint8, res uint32, err error) error {
	d := &s.dirs[i]
	d.phase = phaseNone
	if err != nil {
		s.err = err
		s.notify()
		return err
	}
	if s.pendingReply != nil {
		res = 1 // stopNextIteration: the local reply forces the stop variant
	}
	switch phase {
	case phaseHeaders:
		switch {
		case res == 0:
			s.continueHeaders(i)
		case s.host.opts.Plugin.AllowOnHeadersStopIteration && res == 1:
			d.hstate = hStopIter
		default:
			d.hstate = hStopAll
		}
	case phaseBody:
		switch {
		case res == 0:
			s.forwardBody(i)
		case res <= 2:
			d.bodyStopped = true
		default: // StopIterationNoBuffer: the filter keeps nothing
			d.body = d.body[:0]
			d.bodyStopped, d.bodySeen = false, false
		}
	case phaseTrailers:
		if res == 0 {
			s.forwardAll(i)
		} else {
			d.trailersHeld = true
		}
	}
	s.vm.runAfter()
	s.checkComplete(i)
	s.notify()
	return nil
}

// continueHeaders forwards the headers of direction i (continueDecoding/continueEncoding for headers).
func (s *Stream) continueHeaders(i int) {
	d := &s.dirs[i]
	wasStopAll := d.hstate == hStopAll
	d.hstate = hContinued
	s.checkComplete(i)
	if !wasStopAll {
		return
	}
	// Envoy resumes a StopAllIteration filter at itself for the data it buffered meanwhile.
	if len(d.body) > 0 || (d.eosIn && !d.trailersIn && d.bodySeenEOSPending()) {
		s.deliverBody(i)
		return
	}
	if d.trailersIn && !d.trailersDone {
		s.deliverTrailers(i)
	}
}

// bodySeenEOSPending is false: an end of stream without data after paused headers needs no body callback.
func (d *direction) bodySeenEOSPending() bool { return false }

// forwardBody forwards the held body (and the headers, if still held).
func (s *Stream) forwardBody(i int) {
	d := &s.dirs[i]
	if d.hstate != hContinued {
		d.hstate = hContinued
	}
	d.forwardHeld()
	d.bodyStopped, d.bodySeen = false, false
	if d.trailersAdded {
		d.trailersIn, d.trailersDone = true, true
	}
	s.checkComplete(i)
}

// resume is proxy_continue_stream for direction i, run after the VM call.
func (s *Stream) resume(i int) {
	if s.stopped(i) || s.passThrough {
		return
	}
	d := &s.dirs[i]
	switch {
	case d.hstate == hStopAll:
		s.continueHeaders(i)
	case d.hstate == hStopIter:
		d.hstate = hContinued
		s.forwardAll(i)
		if d.trailersIn && !d.trailersDone {
			s.deliverTrailers(i)
		}
	case d.bodyStopped:
		s.forwardBody(i)
	case d.trailersHeld:
		s.forwardAll(i)
	}
	s.checkComplete(i)
	s.notify()
}

// deliverBody runs the body callback of direction i over the held body. Callers hold the VM lock.
func (s *Stream) deliverBody(i int) {
	if !s.ensureCreated() {
		s.afterFailure(i)
		return
	}
	d := &s.dirs[i]
	v := s.vm
	if len(d.body) > s.host.opts.MaxBufferBytes {
		s.bufferOverflow(i)
		return
	}
	eos := d.eosIn && !d.trailersIn
	d.phase, d.bodySeen = phaseBody, true
	fn, name := v.fn.reqBody, "proxy_on_request_body"
	if i == 1 {
		fn, name = v.fn.respBody, "proxy_on_response_body"
	}
	v.stack[0], v.stack[1], v.stack[2] = uint64(s.id), uint64(len(d.body)), b2u(eos)
	res, err := v.invokeStream(fn, name, s)
	_ = s.afterCallback(i, phaseBody, uint32(res), err)
	if err == nil && d.trailersIn && !d.trailersDone && !d.trailersHeld && d.hstate == hContinued && !d.bodyStopped && !s.stopped(i) {
		s.deliverTrailers(i)
	}
}

// deliverTrailers runs the trailers callback of direction i.
func (s *Stream) deliverTrailers(i int) {
	d := &s.dirs[i]
	v := s.vm
	d.phase = phaseTrailers
	fn, name := v.fn.reqTrailers, "proxy_on_request_trailers"
	if i == 1 {
		fn, name = v.fn.respTrailers, "proxy_on_response_trailers"
	}
	v.stack[0], v.stack[1] = uint64(s.id), uint64(len(d.trailers))
	res, err := v.invokeStream(fn, name, s)
	_ = s.afterCallback(i, phaseTrailers, uint32(res), err)
}

// bufferOverflow answers as Envoy does when a filter buffers more than the limit: 413 for a request, 500 for
// a response.
func (s *Stream) bufferOverflow(i int) {
	if i == 0 {
		s.pendingReply = &LocalReply{Status: 413, Body: []byte("Payload Too Large"), Details: "request_payload_too_large"}
	} else {
		s.pendingReply = &LocalReply{Status: 500, Body: []byte("Internal Server Error"), Details: "response_payload_too_large"}
	}
	s.dirs[i].body = s.dirs[i].body[:0]
	s.applyLocalReply()
}

// afterFailure handles input arriving for a stream whose VM failed.
func (s *Stream) afterFailure(i int) {
	s.failVM()
	if s.passThrough {
		s.forwardAll(i)
	}
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// sendHeaders delivers headers for direction i.
func (s *Stream) sendHeaders(i int, h Headers, eos bool) (err error) {
	defer s.host.guard(&err)
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	if s.completed {
		return fmt.Errorf("hostsim: stream already completed")
	}
	d := &s.dirs[i]
	if d.hstate != hNone {
		return fmt.Errorf("hostsim: headers sent twice")
	}
	if s.stopped(i) {
		return nil
	}
	d.headers, d.headersOwned, d.eosIn = h, false, eos
	d.hstate = hStopAll // until the callback answers
	if s.passThrough || !s.ensureCreated() {
		s.afterFailure(i)
		s.notify()
		return s.err
	}
	d.phase = phaseHeaders
	fn, name := v.fn.reqHeaders, "proxy_on_request_headers"
	if i == 1 {
		fn, name = v.fn.respHeaders, "proxy_on_response_headers"
	}
	v.stack[0], v.stack[1], v.stack[2] = uint64(s.id), uint64(len(h)), b2u(eos)
	res, err := v.invokeStream(fn, name, s)
	return s.afterCallback(i, phaseHeaders, uint32(res), err)
}

// sendBody delivers a body chunk for direction i with Envoy's buffering.
func (s *Stream) sendBody(i int, chunk []byte, eos bool) (err error) {
	defer s.host.guard(&err)
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	d := &s.dirs[i]
	if d.hstate == hNone {
		return fmt.Errorf("hostsim: body before headers")
	}
	if d.eosIn {
		return fmt.Errorf("hostsim: body after end of stream")
	}
	if s.stopped(i) {
		return nil
	}
	d.eosIn = eos
	if s.passThrough || v.failed != nil {
		d.body = append(d.body, chunk...)
		s.afterFailure(i)
		s.notify()
		return nil
	}
	switch {
	case d.hstate == hStopAll:
		// The filter sees nothing until it continues the headers; the filter manager buffers.
		d.body = append(d.body, chunk...)
		if len(d.body) > s.host.opts.MaxBufferBytes {
			s.bufferOverflow(i)
		}
		s.notify()
		return nil
	case d.bodyStopped:
		d.body = append(d.body, chunk...) // cumulative: body_size is the whole buffer
	default:
		d.body = append(d.body[:0], chunk...)
	}
	if len(chunk) == 0 && !eos {
		return nil
	}
	s.deliverBody(i)
	return s.err
}

// sendTrailers delivers trailers for direction i.
func (s *Stream) sendTrailers(i int, t Headers) (err error) {
	defer s.host.guard(&err)
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	d := &s.dirs[i]
	if d.hstate == hNone || d.eosIn {
		return fmt.Errorf("hostsim: trailers out of order")
	}
	if s.stopped(i) {
		return nil
	}
	d.trailers, d.trailersOwned, d.trailersIn, d.eosIn = t, false, true, true
	if s.passThrough || v.failed != nil {
		s.afterFailure(i)
		s.notify()
		return nil
	}
	if d.hstate == hStopAll {
		s.notify()
		return nil
	}
	s.deliverTrailers(i)
	return s.err
}

// SendRequestHeaders delivers the request headers (proxy_on_request_headers). endOfStream means no body.
func (s *Stream) SendRequestHeaders(h Headers, endOfStream bool) error {
	return s.sendHeaders(0, h, endOfStream)
}

// SendRequestBody delivers one request body chunk (proxy_on_request_body, cumulative while buffering).
func (s *Stream) SendRequestBody(chunk []byte, endOfStream bool) error {
	return s.sendBody(0, chunk, endOfStream)
}

// SendRequestTrailers delivers request trailers (ends the request).
func (s *Stream) SendRequestTrailers(t Headers) error { return s.sendTrailers(0, t) }

// SendResponseHeaders delivers the upstream response headers (proxy_on_response_headers).
func (s *Stream) SendResponseHeaders(h Headers, endOfStream bool) error {
	return s.sendHeaders(1, h, endOfStream)
}

// SendResponseBody delivers one response body chunk.
func (s *Stream) SendResponseBody(chunk []byte, endOfStream bool) error {
	return s.sendBody(1, chunk, endOfStream)
}

// SendResponseTrailers delivers response trailers.
func (s *Stream) SendResponseTrailers(t Headers) error { return s.sendTrailers(1, t) }

// Complete ends the stream: proxy_on_log, proxy_on_done, proxy_on_delete (Envoy's order), if the context was
// created.
func (s *Stream) Complete() (err error) {
	defer s.host.guard(&err)
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	if s.completed {
		return nil
	}
	s.completed = true
	defer s.notify()
	if !s.created {
		return nil
	}
	defer v.removeStream(s)
	if v.failed != nil || v.closed {
		return nil
	}
	s.logging = true
	v.stack[0] = uint64(s.id)
	_, err = v.invokeStream(v.fn.onLog, "proxy_on_log", s)
	s.logging = false
	if err != nil {
		return err
	}
	v.stack[0] = uint64(s.id)
	if _, err := v.invokeStream(v.fn.onDone, "proxy_on_done", s); err != nil {
		return err
	}
	v.stack[0] = uint64(s.id)
	if _, err := v.invokeStream(v.fn.onDelete, "proxy_on_delete", s); err != nil {
		return err
	}
	v.after = v.after[:0]
	return nil
}

// state snapshots direction i.
func (s *Stream) state(i int) RequestState {
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	d := &s.dirs[i]
	return RequestState{
		Headers:   d.headers.Clone(),
		Body:      append([]byte(nil), d.forwarded...),
		Trailers:  d.trailers.Clone(),
		Forwarded: d.hstate == hContinued,
		Complete:  d.complete,
		Paused:    !d.complete && !s.stopped(i) && (d.hstate == hStopAll || d.hstate == hStopIter || d.bodyStopped || d.trailersHeld),
		Buffered:  len(d.body),
	}
}

// Request returns the request as the plugin left it: headers, body forwarded so far, whether it was
// continued and whether it is paused.
func (s *Stream) Request() RequestState { return s.state(0) }

// Response returns the response as it goes downstream (the local reply after the plugin saw it, if any).
func (s *Stream) Response() RequestState { return s.state(1) }

// LocalReply returns the local reply sent on this stream (by the plugin, or Envoy's 503 for a failed VM).
func (s *Stream) LocalReply() *LocalReply {
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	return s.reply
}

// Reset reports whether the stream was reset (proxy_close_stream) and Envoy's response details.
func (s *Stream) Reset() (bool, string) {
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	return s.reset, s.resetDetails
}

// ID returns the stream's context id in its VM (0 before the first callback).
func (s *Stream) ID() uint32 {
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	return s.id
}

// Worker returns the index of the VM this stream runs on.
func (s *Stream) Worker() int { return s.vm.index }

// FilterState returns what the plugin stored with proxy_set_property on this stream (key without "wasm.").
func (s *Stream) FilterState(key string) ([]byte, bool) {
	v := s.vm
	v.mu.Lock()
	defer v.unlock()
	b, ok := s.filterState[key]
	return b, ok
}

// waitFor blocks until cond (evaluated under the VM lock) holds or ctx ends.
func (s *Stream) waitFor(ctx context.Context, cond func() bool) error {
	v := s.vm
	for {
		v.mu.Lock()
		if cond() {
			v.unlock()
			return nil
		}
		if s.changed == nil {
			s.changed = make(chan struct{})
		}
		ch := s.changed
		v.unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the stream: %w", ctx.Err())
		}
	}
}

// WaitDecision blocks until the request is continued, answered locally or reset. Continued means the
// filter holds nothing of what has arrived: headers forwarded and no body or trailers paused, so Request()
// then shows everything sent so far as forwarded.
func (s *Stream) WaitDecision(ctx context.Context) error {
	return s.waitFor(ctx, func() bool {
		d := &s.dirs[0]
		continued := d.hstate == hContinued && !d.bodyStopped && len(d.body) == 0 && !d.trailersHeld
		return continued || s.reply != nil || s.reset || s.completed
	})
}

// WaitRequestComplete blocks until the whole request was forwarded, answered locally or reset.
func (s *Stream) WaitRequestComplete(ctx context.Context) error {
	return s.waitFor(ctx, func() bool {
		return s.dirs[0].complete || s.reply != nil || s.reset || s.completed
	})
}

// WaitResponseComplete blocks until the whole response was forwarded downstream or the stream was reset.
func (s *Stream) WaitResponseComplete(ctx context.Context) error {
	return s.waitFor(ctx, func() bool {
		return s.dirs[1].complete || s.reset || s.completed
	})
}

// closeByPlugin is proxy_close_stream: Envoy resets the stream after the VM call.
func (s *Stream) closeByPlugin() {
	if s.reset {
		return
	}
	s.reset, s.resetDetails = true, "wasm_close_stream"
	s.notify()
}

// applyLocalReply sends the pending local reply after the VM call, as Envoy's sendLocalReply: if the response
// has not started, it goes through the encoder chain, so the plugin sees its own reply in its response
// callbacks.
func (s *Stream) applyLocalReply() {
	r := s.pendingReply
	if r == nil || s.reply != nil {
		return
	}
	s.pendingReply = nil
	s.reply = r
	req := &s.dirs[0]
	req.phase = phaseNone
	resp := &s.dirs[1]
	if resp.hstate == hContinued {
		s.reset, s.resetDetails = true, "local_reply_after_response_started"
		s.notify()
		return
	}
	if resp.hstate != hNone {
		// The upstream response is held by the filter: the reply replaces it without re-entering the plugin.
		s.setResponseFromReply(r)
		s.notify()
		return
	}
	headers := replyHeaders(r)
	s.replying = true
	resp.headers, resp.headersOwned, resp.eosIn = headers, true, len(r.Body) == 0
	resp.hstate = hStopAll
	v := s.vm
	if s.passThrough || v.failed != nil || !s.created {
		s.forwardAll(1)
		resp.forwarded = append(resp.forwarded, r.Body...)
		s.replying = false
		s.notify()
		return
	}
	resp.phase = phaseHeaders
	v.stack[0], v.stack[1], v.stack[2] = uint64(s.id), uint64(len(headers)), b2u(resp.eosIn)
	res, err := v.invokeStream(v.fn.respHeaders, "proxy_on_response_headers", s)
	if s.afterCallback(1, phaseHeaders, uint32(res), err) == nil && len(r.Body) > 0 && !s.reset {
		resp.eosIn = true
		if resp.hstate == hStopAll {
			resp.body = append(resp.body, r.Body...)
		} else {
			resp.body = append(resp.body[:0], r.Body...)
			s.deliverBody(1)
		}
	}
	s.replying = false
	s.notify()
}

// replyHeaders are the response headers Envoy builds for a local reply.
func replyHeaders(r *LocalReply) Headers {
	h := Headers{{":status", strconv.Itoa(r.Status)}}
	h = append(h, r.Headers...)
	if _, ok := h.Get("content-length"); !ok {
		h = append(h, [2]string{"content-length", strconv.Itoa(len(r.Body))})
	}
	if _, ok := h.Get("content-type"); !ok && len(r.Body) > 0 {
		h = append(h, [2]string{"content-type", "text/plain"})
	}
	return h
}

// setResponseFromReply makes the response direction the reply, forwarded as is.
func (s *Stream) setResponseFromReply(r *LocalReply) {
	resp := &s.dirs[1]
	resp.headers, resp.headersOwned = replyHeaders(r), true
	resp.hstate, resp.eosIn = hContinued, true
	resp.body = resp.body[:0]
	resp.forwarded = append(resp.forwarded[:0], r.Body...)
	resp.trailers, resp.trailersIn, resp.trailersDone = nil, false, false
	resp.bodyStopped, resp.trailersHeld = false, false
	resp.complete = true
}

// failStreams applies the failed-VM policy to every live stream of the VM (Envoy's streams on a failed VM
// get 503 or pass through), so none stays paused forever.
func (v *vm) failStreams() {
	for _, s := range v.streams {
		if !s.completed {
			s.failVM()
		}
	}
}

// headerMap returns the header map of type mt for the effective context, or the status Envoy gives when it is
// unavailable now. write asks for a mutable map. Callers hold the VM lock (inside a guest call).
func (v *vm) headerMap(mt uint32, write bool) (*Headers, uint32) {
	if mt > 7 {
		return nil, statusBadArgument
	}
	if mt == 6 || mt == 7 {
		if v.callResp == nil || write {
			return nil, statusBadArgument
		}
		if mt == 6 {
			return &v.callResp.Headers, statusOK
		}
		return &v.callResp.Trailers, statusOK
	}
	s := v.streamFor()
	if s == nil || mt > 3 {
		return nil, statusBadArgument
	}
	d := &s.dirs[mt/2]
	trailers := mt%2 == 1
	if s.logging {
		if write || (trailers && mt == 1) {
			return nil, statusBadArgument
		}
		if trailers {
			return &d.trailers, statusOK
		}
		return &d.headers, statusOK
	}
	if !trailers {
		if d.phase == phaseHeaders || d.hstate == hStopAll || d.hstate == hStopIter {
			if write && !d.headersOwned {
				d.headers, d.headersOwned = d.headers.cloneToWrite(), true
			}
			return &d.headers, statusOK
		}
		return nil, statusBadArgument
	}
	switch {
	case d.phase == phaseTrailers || d.trailersHeld || (d.trailersIn && !d.trailersDone && d.hstate == hStopAll):
		if write && !d.trailersOwned {
			d.trailers, d.trailersOwned = d.trailers.cloneToWrite(), true
		}
		return &d.trailers, statusOK
	case d.phase == phaseBody && d.eosIn && !d.trailersIn:
		// The final body callback may create trailers (addDecodedTrailers).
		if write {
			d.trailersAdded, d.trailersOwned = true, true
		}
		return &d.trailers, statusOK
	}
	return nil, statusBadArgument
}

// headersChanged is called after a header map mutation. (Envoy clears the route cache for ABI ≤ 0.2.1 plugins
// after request-header changes; hostsim's route table is evaluated when the request is forwarded, so a
// rewrite re-routes the same way.)
func (v *vm) headersChanged(uint32) {}

// buffer returns buffer bt for the effective context, or Envoy's status when unavailable.
func (v *vm) buffer(bt uint32) ([]byte, uint32) {
	switch bt {
	case 0, 1:
		s := v.streamFor()
		if s == nil || !s.dirs[bt].bodyAvailable() {
			return nil, statusNotFound
		}
		return s.dirs[bt].body, statusOK
	case 4:
		if v.callResp == nil {
			return nil, statusNotFound
		}
		return v.callResp.Body, statusOK
	case 6:
		return v.host.opts.Plugin.VMConfiguration, statusOK
	case 7:
		if !v.inConfigure {
			return nil, statusNotFound
		}
		return v.pluginCfg, statusOK
	case 2, 3, 5, 8:
		return nil, statusNotFound
	}
	return nil, statusBadArgument
}
