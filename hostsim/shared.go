package hostsim

import "sync"

// SharedStore holds proxy-wasm shared data and shared queues. Envoy keeps them process-wide, keyed by vm_id;
// pass one store to several Hosts to share them, or leave Options.Shared nil for a private store.
type SharedStore struct {
	mu      sync.Mutex
	data    map[string]map[string]*sharedValue
	cas     uint32
	queues  map[queueKey]*sharedQueue
	byID    map[uint32]*sharedQueue
	queueID uint32
}

type sharedValue struct {
	value []byte
	cas   uint32
}

type queueKey struct{ vmID, name string }

type sharedQueue struct {
	id    uint32
	items [][]byte
	owner *vm
	root  uint32
}

// NewSharedStore returns an empty store.
func NewSharedStore() *SharedStore {
	return &SharedStore{data: map[string]map[string]*sharedValue{}, queues: map[queueKey]*sharedQueue{},
		byID: map[uint32]*sharedQueue{}}
}

// nextCAS returns the next global CAS value (starting at 1, 0 skipped). Callers hold mu.
func (s *SharedStore) nextCAS() uint32 {
	s.cas++
	if s.cas == 0 {
		s.cas++
	}
	return s.cas
}

func (s *SharedStore) get(vmID, key string) ([]byte, uint32, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.data[vmID][key]
	if !ok {
		return nil, 0, false
	}
	return e.value, e.cas, true
}

func (s *SharedStore) set(vmID, key string, value []byte, cas uint32) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.data[vmID]
	if m == nil {
		m = map[string]*sharedValue{}
		s.data[vmID] = m
	}
	e := m[key]
	if e != nil && cas != 0 && cas != e.cas {
		return statusCasMismatch
	}
	if e == nil {
		e = &sharedValue{}
		m[key] = e
	}
	e.value = append([]byte(nil), value...)
	e.cas = s.nextCAS()
	return statusOK
}

func hostGetSharedData(v *vm, p []uint64) uint32 {
	key, ok := v.readString(u32(p[0]), u32(p[1]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	val, cas, found := v.host.shared.get(v.host.opts.Plugin.VMID, key)
	if !found {
		return statusNotFound
	}
	if st := v.copyOut(val, u32(p[2]), u32(p[3])); st != statusOK {
		return st
	}
	if !v.mem.WriteUint32Le(u32(p[4]), cas) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

func hostSetSharedData(v *vm, p []uint64) uint32 {
	key, ok1 := v.readString(u32(p[0]), u32(p[1]))
	val, ok2 := v.read(u32(p[2]), u32(p[3]))
	if !ok1 || !ok2 {
		return statusInvalidMemoryAccess
	}
	return v.host.shared.set(v.host.opts.Plugin.VMID, key, val, u32(p[4]))
}

func hostRegisterQueue(v *vm, p []uint64) uint32 {
	name, ok := v.readString(u32(p[0]), u32(p[1]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	r := v.rootFor()
	s := v.host.shared
	s.mu.Lock()
	k := queueKey{v.host.opts.Plugin.VMID, name}
	q := s.queues[k]
	if q == nil {
		s.queueID++
		q = &sharedQueue{id: s.queueID}
		s.queues[k] = q
		s.byID[q.id] = q
	}
	q.owner = v
	if r != nil {
		q.root = r.id
	}
	id := q.id
	s.mu.Unlock()
	if !v.mem.WriteUint32Le(u32(p[2]), id) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

func hostResolveQueue(v *vm, p []uint64) uint32 {
	vmID, ok1 := v.readString(u32(p[0]), u32(p[1]))
	name, ok2 := v.readString(u32(p[2]), u32(p[3]))
	if !ok1 || !ok2 {
		return statusInvalidMemoryAccess
	}
	if vmID == "" {
		vmID = v.host.opts.Plugin.VMID
	}
	s := v.host.shared
	s.mu.Lock()
	q := s.queues[queueKey{vmID, name}]
	s.mu.Unlock()
	if q == nil {
		return statusNotFound
	}
	if !v.mem.WriteUint32Le(u32(p[4]), q.id) {
		return statusInvalidMemoryAccess
	}
	return statusOK
}

func hostDequeue(v *vm, p []uint64) uint32 {
	s := v.host.shared
	s.mu.Lock()
	q := s.byID[u32(p[0])]
	if q == nil {
		s.mu.Unlock()
		return statusNotFound
	}
	if len(q.items) == 0 {
		s.mu.Unlock()
		return statusEmpty
	}
	item := q.items[0]
	q.items = q.items[1:]
	s.mu.Unlock()
	return v.copyOut(item, u32(p[1]), u32(p[2]))
}

func hostEnqueue(v *vm, p []uint64) uint32 {
	val, ok := v.read(u32(p[1]), u32(p[2]))
	if !ok {
		return statusInvalidMemoryAccess
	}
	s := v.host.shared
	s.mu.Lock()
	q := s.byID[u32(p[0])]
	if q == nil {
		s.mu.Unlock()
		return statusNotFound
	}
	q.items = append(q.items, append([]byte(nil), val...))
	owner, root, id := q.owner, q.root, q.id
	s.mu.Unlock()
	switch {
	case owner == v:
		// Envoy posts the notification to the registrant's dispatcher: it runs right after this VM call.
		v.post(postedEvent{kind: postQueueReady, root: root, queue: id}, true)
	case owner != nil:
		// Another worker: posted from a pool goroutine (a VM never runs inside another VM's call); a busy
		// worker runs it right after its current VM call, an idle one at once.
		owner.host.inflight.start()
		owner.host.tasks.run(func() {
			defer owner.host.inflight.done()
			owner.post(postedEvent{kind: postQueueReady, root: root, queue: id}, false)
		})
	}
	return statusOK
}

// queueReadyLocked delivers proxy_on_queue_ready to the registrant.
// Callers hold v.mu.
func (v *vm) queueReadyLocked(root, id uint32) {
	if v.closed || v.failed != nil {
		return
	}
	if r := v.roots[root]; r == nil || r.deleted {
		return
	}
	v.stack[0], v.stack[1] = uint64(root), uint64(id)
	if _, err := v.invoke(v.fn.queueReady, "proxy_on_queue_ready", root); err != nil {
		return
	}
	v.runAfter()
}
