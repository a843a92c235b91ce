package hostsim

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/sys"
)

// Proxy-wasm status codes (HOSTABI §1.4).
const (
	statusOK                  = 0
	statusNotFound            = 1
	statusBadArgument         = 2
	statusSerializationFailed = 3
	statusInvalidMemoryAccess = 6
	statusEmpty               = 7
	statusCasMismatch         = 8
	statusInternalFailure     = 10
	statusUnimplemented       = 12
)

// vmKey is the context key under which a guest instance's *vm travels into host functions.
type vmKey struct{}

// vmFrom returns the VM a host function was called for.
func vmFrom(ctx context.Context) *vm {
	v, _ := ctx.Value(vmKey{}).(*vm)
	return v
}

// rootContext is one plugin (root) context inside a VM.
type rootContext struct {
	id         uint32
	configured bool
	tickPeriod uint32
	tickTimer  Timer
	tickGen    uint64
	deleted    bool
}

// exports are a guest's callbacks, looked up once per instance (reusing api.Function avoids allocations).
type exports struct {
	malloc, contextCreate, vmStart, configure                   api.Function
	reqHeaders, reqBody, reqTrailers                            api.Function
	respHeaders, respBody, respTrailers                         api.Function
	httpCallResponse, tick, queueReady, onLog, onDone, onDelete api.Function
}

// afterAction is work Envoy defers until the current VM call returns (addAfterVmCallAction).
type afterAction struct {
	stream *Stream
	kind   uint8
	dir    int
}

const (
	actContinue uint8 = iota
	actClose
	actLocalReply
)

// vm is one guest instance (a worker VM, or the canary). Every guest call holds mu.
type vm struct {
	host  *Host
	index int
	mod   api.Module
	mem   api.Memory
	ctx   context.Context // guest calls: carries only the VM (a short chain keeps wazero's per-call lookups cheap)
	fn    exports

	mu     sync.Mutex
	stack  [8]uint64
	mstack [1]uint64

	nextContextID uint32
	root          *rootContext
	roots         map[uint32]*rootContext
	streams       []*Stream // live streams (created, not completed); Stream.slot is the index

	running     string // name of the running callback, "" when idle
	current     uint32 // context of the running callback
	effective   uint32
	estream     *Stream // the stream the effective context names (nil for a root context)
	pluginCfg   []byte  // readable only during proxy_on_configure
	inConfigure bool
	callResp    *CallResponse // during proxy_on_http_call_response
	polls       int

	failed    error
	closed    bool
	nextToken uint32
	calls     map[uint32]*pendingCall
	metrics   [3][]*metric // by type, then id/4-1: ids of type t are t+4, t+8, ... (Envoy's numbering)
	nextID    [3]uint32
	after     []afterAction

	postMu   sync.Mutex    // guards posted and postHead (posters need not hold mu)
	posted   []postedEvent // events for this worker's loop, run before the VM is released
	postHead int           // next event to run
}

// newVM instantiates the module and runs its initializer. index is the worker index (-1 for the canary).
func newVM(ctx context.Context, h *Host, index int) (*vm, error) {
	v := &vm{host: h, index: index, nextContextID: 1, nextToken: 4,
		roots:  map[uint32]*rootContext{},
		calls:  map[uint32]*pendingCall{},
		nextID: [3]uint32{4, 5, 6}}
	v.ctx = context.WithValue(context.Background(), vmKey{}, v)
	cfg := wazero.NewModuleConfig().WithName("").WithStartFunctions()
	v.mu.Lock()
	defer v.mu.Unlock()
	// Instantiation sees the caller's context values (wazero reads experimental options from it).
	mod, err := h.module.rt.rt.InstantiateModule(context.WithValue(context.WithoutCancel(ctx), vmKey{}, v), h.module.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: instantiating module: %w", ErrStartFailed, err)
	}
	v.mod, v.mem = mod, mod.Memory()
	get := mod.ExportedFunction
	v.fn = exports{
		malloc: get(h.module.allocator), contextCreate: get("proxy_on_context_create"),
		vmStart: get("proxy_on_vm_start"), configure: get("proxy_on_configure"),
		reqHeaders: get("proxy_on_request_headers"), reqBody: get("proxy_on_request_body"),
		reqTrailers: get("proxy_on_request_trailers"), respHeaders: get("proxy_on_response_headers"),
		respBody: get("proxy_on_response_body"), respTrailers: get("proxy_on_response_trailers"),
		httpCallResponse: get("proxy_on_http_call_response"), tick: get("proxy_on_tick"),
		queueReady: get("proxy_on_queue_ready"), onLog: get("proxy_on_log"),
		onDone: get("proxy_on_done"), onDelete: get("proxy_on_delete"),
	}
	if name := h.module.initializer; name != "" {
		if _, err := v.invoke(get(name), name, 0); err != nil {
			_ = mod.Close(v.ctx)
			return nil, fmt.Errorf("%w: %w", ErrStartFailed, err)
		}
	}
	return v, nil
}

// invoke calls fn for the root (or VM) context ctxID with the parameters in v.stack and returns its first
// result. A nil fn (the export is absent) returns 0. A trap marks the VM failed. Callers hold v.mu.
func (v *vm) invoke(fn api.Function, name string, ctxID uint32) (uint64, error) {
	return v.call(fn, name, ctxID, nil)
}

// invokeStream is invoke for a callback of stream s.
func (v *vm) invokeStream(fn api.Function, name string, s *Stream) (uint64, error) {
	return v.call(fn, name, s.id, s)
}

func (v *vm) call(fn api.Function, name string, ctxID uint32, s *Stream) (uint64, error) {
	if v.failed != nil {
		return 0, v.failed
	}
	if fn == nil {
		return 0, nil
	}
	prevRunning, prevCurrent, prevEffective, prevStream := v.running, v.current, v.effective, v.estream
	v.running, v.current, v.effective, v.estream, v.polls = name, ctxID, ctxID, s, 0
	err := fn.CallWithStack(v.ctx, v.stack[:])
	v.running, v.current, v.effective, v.estream = prevRunning, prevCurrent, prevEffective, prevStream
	if err != nil {
		return 0, v.fail(name, err)
	}
	return v.stack[0], nil
}

// fail marks the VM failed because the named callback trapped or misbehaved, logging as Envoy does.
func (v *vm) fail(name string, cause error) error {
	var exit *sys.ExitError
	detail := cause.Error()
	if errors.As(cause, &exit) {
		detail = fmt.Sprintf("guest called proc_exit(%d)", exit.ExitCode())
	}
	v.failed = fmt.Errorf("%w: Function: %s failed: %s", ErrGuestFailed, name, detail)
	v.host.log(v.index, LogCritical, v.failed.Error())
	v.stopTimers()
	v.failStreams()
	return v.failed
}

// stopTimers cancels every tick timer of this VM.
func (v *vm) stopTimers() {
	for _, r := range v.roots {
		if r.tickTimer != nil {
			r.tickTimer.Stop()
			r.tickTimer = nil
		}
		r.tickGen++
	}
}

// newContextID returns the next context id (never reused within a VM).
func (v *vm) newContextID() uint32 {
	id := v.nextContextID
	v.nextContextID++
	return id
}

// startRoot creates a root context and runs on_vm_start and on_configure for it. ok reports the guest's
// answers; err is a trap.
func (v *vm) startRoot(vmConfig, pluginConfig []byte) (*rootContext, bool, error) {
	r := &rootContext{id: v.newContextID()}
	v.roots[r.id] = r
	v.stack[0], v.stack[1] = uint64(r.id), 0
	if _, err := v.invoke(v.fn.contextCreate, "proxy_on_context_create", r.id); err != nil {
		return r, false, err
	}
	v.stack[0], v.stack[1] = uint64(r.id), uint64(len(vmConfig))
	res, err := v.invoke(v.fn.vmStart, "proxy_on_vm_start", r.id)
	if err != nil {
		return r, false, err
	}
	v.runAfter()
	if uint32(res) == 0 {
		v.host.log(v.index, LogError, "Plugin start failed: proxy_on_vm_start returned false")
		return r, false, nil
	}
	ok, err := v.configureRoot(r, pluginConfig)
	return r, ok, err
}

// configureRoot calls proxy_on_configure with pluginConfig readable as PluginConfiguration.
func (v *vm) configureRoot(r *rootContext, pluginConfig []byte) (bool, error) {
	v.pluginCfg, v.inConfigure = pluginConfig, true
	v.stack[0], v.stack[1] = uint64(r.id), uint64(len(pluginConfig))
	res, err := v.invoke(v.fn.configure, "proxy_on_configure", r.id)
	v.pluginCfg, v.inConfigure = nil, false
	if err != nil {
		return false, err
	}
	v.runAfter()
	if uint32(res) == 0 {
		v.host.log(v.index, LogError, "Plugin configure failed: proxy_on_configure returned false")
		return false, nil
	}
	r.configured = true
	return true, nil
}

// deleteRoot runs on_done (and on_delete when on_done says so) for a root context and cancels its work.
func (v *vm) deleteRoot(r *rootContext) {
	if r.deleted {
		return
	}
	r.deleted = true
	if r.tickTimer != nil {
		r.tickTimer.Stop()
		r.tickTimer = nil
	}
	r.tickGen++
	for tok, c := range v.calls {
		if c.root == r.id {
			c.cancel()
			delete(v.calls, tok)
		}
	}
	if v.failed != nil {
		return
	}
	v.stack[0] = uint64(r.id)
	res, err := v.invoke(v.fn.onDone, "proxy_on_done", r.id)
	if err != nil || uint32(res) == 0 {
		// Envoy keeps a root whose on_done returned false until proxy_done; hostsim is shutting it down, so it
		// stops here without on_delete.
		return
	}
	v.stack[0] = uint64(r.id)
	_, _ = v.invoke(v.fn.onDelete, "proxy_on_delete", r.id)
	delete(v.roots, r.id)
}

// runAfter performs the actions the guest requested during the call that just returned. Callers hold v.mu.
func (v *vm) runAfter() {
	// Actions may run guest callbacks that queue more actions (or run a nested runAfter): pop one at a time.
	for len(v.after) > 0 {
		a := v.after[0]
		copy(v.after, v.after[1:])
		v.after[len(v.after)-1] = afterAction{}
		v.after = v.after[:len(v.after)-1]
		switch a.kind {
		case actContinue:
			a.stream.resume(a.dir)
		case actClose:
			a.stream.closeByPlugin()
		case actLocalReply:
			a.stream.applyLocalReply()
		}
	}
}

// metricByID returns the metric the guest knows by id, or nil.
func (v *vm) metricByID(id uint32) *metric {
	t, i := id%4, int(id/4)-1
	if t > 2 || i < 0 || i >= len(v.metrics[t]) {
		return nil
	}
	return v.metrics[t][i]
}

// addStream registers s as live.
func (v *vm) addStream(s *Stream) {
	s.slot = len(v.streams)
	v.streams = append(v.streams, s)
}

// removeStream forgets the live stream s.
func (v *vm) removeStream(s *Stream) {
	last := len(v.streams) - 1
	if s.slot > last || v.streams[s.slot] != s {
		return
	}
	v.streams[s.slot] = v.streams[last]
	v.streams[s.slot].slot = s.slot
	v.streams[last] = nil
	v.streams = v.streams[:last]
}

// liveStream returns the live stream with context id, or nil. Linear: it only serves
// proxy_set_effective_context, and keeping no map saves a hash insert and delete per request.
func (v *vm) liveStream(id uint32) *Stream {
	for _, s := range v.streams {
		if s.id == id {
			return s
		}
	}
	return nil
}

// streamFor returns the stream the effective context names, or nil for a root or unknown context.
func (v *vm) streamFor() *Stream { return v.estream }

// rootFor returns the root context of the effective context.
func (v *vm) rootFor() *rootContext {
	if s := v.estream; s != nil {
		return s.root
	}
	if r, ok := v.roots[v.effective]; ok {
		return r
	}
	return v.root
}

// close releases the instance.
func (v *vm) close(ctx context.Context) {
	v.closed = true
	v.stopTimers()
	for _, c := range v.calls {
		c.cancel()
	}
	_ = v.mod.Close(ctx)
}

// ErrInternal reports a hostsim bug caught at an API boundary instead of crashing the process.
var ErrInternal = errors.New("hostsim internal error")

// guard converts a panic in hostsim's own code into an error (and a critical log line).
func (h *Host) guard(err *error) {
	if r := recover(); r != nil {
		e := fmt.Errorf("%w: %v", ErrInternal, r)
		h.log(-2, LogCritical, e.Error())
		if err != nil {
			*err = e
		}
	}
}
