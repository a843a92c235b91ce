package hostsim

import "context"

// postedKind is what a posted event delivers.
type postedKind uint8

const (
	postCallAnswer   postedKind = iota // run an inline cluster's handler, then deliver its answer
	postCallResponse                   // deliver an answer that is ready
	postQueueReady                     // proxy_on_queue_ready
)

// postedEvent is work posted to a worker's event loop (Envoy's dispatcher post): it runs on that worker after
// the VM call in progress returns, never inside it.
type postedEvent struct {
	kind    postedKind
	call    *pendingCall
	cluster Cluster
	req     *CallRequest
	resp    *CallResponse
	outcome DispatchOutcome
	root    uint32
	queue   uint32
}

// post queues e for this worker. The goroutine holding v.mu runs it before releasing the VM; a goroutine that
// does not hold v.mu takes the VM if it is free and runs it itself. Each event counts as an in-flight task
// until it has run (or been dropped).
func (v *vm) post(e postedEvent, holdsVM bool) {
	v.host.inflight.start()
	v.postMu.Lock()
	v.posted = append(v.posted, e)
	v.postMu.Unlock()
	if !holdsVM && v.mu.TryLock() {
		v.unlock()
	}
}

// unlock runs the posted events, then releases the VM. An event posted by another goroutine while the VM is
// being released is picked up here or by whoever holds the VM next. Callers hold v.mu.
func (v *vm) unlock() {
	for {
		v.runPosted()
		v.mu.Unlock()
		v.postMu.Lock()
		pending := v.postHead < len(v.posted)
		v.postMu.Unlock()
		if !pending || !v.mu.TryLock() {
			return
		}
	}
}

// runPosted runs posted events in order, including those they post in turn. Callers hold v.mu.
func (v *vm) runPosted() {
	for {
		v.postMu.Lock()
		if v.postHead == len(v.posted) {
			v.postMu.Unlock()
			return
		}
		e := v.posted[v.postHead]
		v.posted[v.postHead] = postedEvent{}
		v.postHead++
		if v.postHead == len(v.posted) {
			v.posted, v.postHead = v.posted[:0], 0
		}
		v.postMu.Unlock()
		v.runEvent(e)
	}
}

// runEvent delivers one posted event on the VM. Callers hold v.mu.
func (v *vm) runEvent(e postedEvent) {
	defer v.host.inflight.done()
	defer v.host.guard(nil)
	switch e.kind {
	case postCallAnswer:
		if e.call.done {
			return
		}
		resp, outcome := v.host.callCluster(context.Background(), e.cluster, e.req)
		v.deliverLocked(e.call, resp, outcome)
	case postCallResponse:
		v.deliverLocked(e.call, e.resp, e.outcome)
	case postQueueReady:
		v.queueReadyLocked(e.root, e.queue)
	}
}
