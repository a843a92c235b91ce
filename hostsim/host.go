package hostsim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// PluginConfig is Envoy's PluginConfig plus the VM configuration of one plugin.
type PluginConfig struct {
	Name, RootID, VMID string
	// VMConfiguration is vm_config.configuration (BufferType VmConfiguration).
	VMConfiguration []byte
	// Configuration is the plugin configuration (BufferType PluginConfiguration, readable in on_configure).
	Configuration []byte
	// AllowOnHeadersStopIteration is Envoy ≥1.35's allow_on_headers_stop_iteration: a Pause from a headers
	// callback holds the headers but still delivers body callbacks. Default false: StopAllIterationAndWatermark.
	AllowOnHeadersStopIteration bool
	// FailOpen lets streams pass untouched when the VM has failed (else 503 wasm_fail_stream).
	FailOpen bool
	// EnvoyVersion is the emulated release: "1.33".."1.38" answer poll_oneoff with ENOSYS; "" or ≥"1.39" use
	// the fixed host (0 events, success).
	EnvoyVersion string
	// Environment is vm_config.environment_variables, the only environment the guest sees.
	Environment map[string]string
}

// Peer is the downstream connection as properties show it (source.*, destination.*, connection.*).
type Peer struct {
	SourceAddress      string // "ip:port" (source.address); default 127.0.0.1:40000
	DestinationAddress string // "ip:port" (destination.address); default 127.0.0.1:10000
	// URISAN is the peer certificate's URI SAN (connection.uri_san_peer_certificate), e.g. a SPIFFE ID; a
	// non-empty value implies mTLS.
	URISAN      string
	DNSSAN      string // connection.dns_san_peer_certificate
	Subject     string // connection.subject_peer_certificate
	LocalURISAN string // connection.uri_san_local_certificate
	// RequestedServerName is the SNI (connection.requested_server_name).
	RequestedServerName string
	TLSVersion          string // connection.tls_version, default "TLSv1.3" under mTLS
	ConnectionID        uint64 // connection.id / connection_id (default 1)
}

// XDS is what xds.* properties report.
type XDS struct {
	NodeID            string
	NodeMetadata      map[string]string
	ClusterName       string
	RouteName         string
	VirtualHostName   string
	FilterChainName   string
	ListenerDirection int64 // 1 inbound, 2 outbound
}

// Cluster is the target of proxy_http_call (and of the route table). Exactly one of Handler / Addresses.
type Cluster struct {
	// Handler answers calls in-process, on its own goroutine (it may use the Host); a nil response is a reset
	// (callback with 0 headers, 0 body, 0 trailers).
	Handler func(ctx context.Context, req *CallRequest) *CallResponse
	// Addresses are real HTTP/1.1 endpoints host:port, used round-robin; an endpoint that refuses the
	// connection is skipped.
	Addresses []string
	// Inline runs Handler on the dispatching worker right after the VM call that dispatched returns (as a
	// later event of that worker, never inside the call), instead of on its own goroutine. For handlers that
	// answer at once: the Stream method (or timer) that led to the dispatch returns only after the handler
	// and the guest's proxy_on_http_call_response, and the handler must not block or call into this Host.
	Inline bool
	// Timeout is the connect timeout (default 5s, Envoy's connect_timeout); failure gives Envoy's 503.
	Timeout time.Duration
}

// CallRequest is one proxy_http_call as the cluster receives it.
type CallRequest struct {
	Cluster  string
	Headers  Headers // lower-case keys, pseudo-headers included; content-length added for a body
	Body     []byte
	Trailers Headers
	Timeout  time.Duration // 0 means none
}

// CallResponse is a cluster's answer. Headers should contain ":status" (200 is assumed otherwise).
type CallResponse struct {
	Headers  Headers
	Body     []byte
	Trailers Headers
}

// Options configures a Host.
type Options struct {
	Plugin   PluginConfig
	Workers  int   // worker VMs (Envoy: one per worker thread); default 1
	Canary   bool  // run Envoy's canary start/configure first on a throwaway instance
	Clock    Clock // nil = real clock; *VirtualClock for deterministic tests
	Clusters map[string]Cluster
	Routes   []Route        // route table used by RouteFor and Do
	Peer     Peer           // downstream identity and addresses shown via properties
	XDS      XDS            // xds.* properties
	Shared   *SharedStore   // shared data and queues; nil = private to this Host
	Log      func(LogEntry) // optional sink, in addition to the retained log
	LogLevel LogLevel       // what proxy_get_log_level reports (default trace)
	// MaxBufferBytes is the per-stream buffer limit (Envoy's per_connection_buffer_limit_bytes, default
	// 1 MiB): buffering more gives a 413 local reply (request) or 500 (response).
	MaxBufferBytes int
	// Retain is how many log entries and dispatch records Logs and Dispatches keep (the most recent ones);
	// default 10000, so a long-running proxy does not grow without bound.
	Retain int
	// RetainBodyBytes bounds the call bodies that the retained dispatch records hold: older records are
	// dropped once their bodies add up to more (default 32 MiB), so large bodies do not make Retain records
	// hold gigabytes.
	RetainBodyBytes int
}

// Host runs one plugin on one or more worker VMs that share metrics and shared data.
type Host struct {
	module     *Module
	opts       Options
	clock      Clock
	environ    []string
	pollENOSYS bool
	polls      atomic.Int64
	metrics    *metricStore
	shared     *SharedStore
	rr         map[string]*atomic.Uint32
	transports map[string]*http.Transport
	// clusterNames maps each cluster name to itself, so a lookup by the guest's bytes yields a string
	// without allocating one per call.
	clusterNames map[string]string

	workers []*vm
	next    atomic.Uint32

	cfgMu        sync.Mutex
	pluginConfig []byte

	logMu sync.Mutex
	logs  []LogEntry

	dispMu     sync.Mutex
	dispatches []*Dispatch
	// dispatchBytes is the sum of the retained dispatches' body sizes.
	dispatchBytes int

	inflight taskCounter
	tasks    workerPool // runs dispatch handlers and deferred guest callbacks
	closed   atomic.Bool
}

// defaultRetain is how many log entries and dispatch records a Host keeps by default.
const defaultRetain = 10000

// defaultRetainBodyBytes bounds the bodies of retained dispatch records by default.
const defaultRetainBodyBytes = 32 << 20

// defaultBufferLimit is Envoy's default per_connection_buffer_limit_bytes.
const defaultBufferLimit = 1 << 20

// pollENOSYSFor reports whether version emulates an Envoy whose poll_oneoff answers ENOSYS.
func pollENOSYSFor(version string) (bool, error) {
	if version == "" {
		return false, nil
	}
	parts := strings.Split(version, ".")
	if len(parts) < 2 || parts[0] != "1" {
		return false, fmt.Errorf("envoy version %q: want 1.N", version)
	}
	minor, err := strconv.Atoi(parts[1])
	if err != nil {
		return false, fmt.Errorf("envoy version %q: %w", version, err)
	}
	if minor < 33 {
		return false, fmt.Errorf("envoy version %q: Go proxy-wasm guests need Envoy ≥ 1.33", version)
	}
	return minor <= 38, nil
}

// NewHost instantiates o.Workers VMs of m (after an optional canary) and starts the plugin on each:
// _initialize, proxy_on_context_create(root), proxy_on_vm_start, proxy_on_configure. A failure returns an
// error wrapping ErrStartFailed that carries the guest's error/critical logs.
func NewHost(ctx context.Context, m *Module, o Options) (*Host, error) {
	if m == nil {
		return nil, errors.New("hostsim: nil module")
	}
	enosys, err := pollENOSYSFor(o.Plugin.EnvoyVersion)
	if err != nil {
		return nil, err
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Retain <= 0 {
		o.Retain = defaultRetain
	}
	if o.RetainBodyBytes <= 0 {
		o.RetainBodyBytes = defaultRetainBodyBytes
	}
	if o.MaxBufferBytes <= 0 {
		o.MaxBufferBytes = defaultBufferLimit
	}
	for name, c := range o.Clusters {
		if (c.Handler == nil) == (len(c.Addresses) == 0) {
			return nil, fmt.Errorf("hostsim: cluster %q needs exactly one of Handler or Addresses", name)
		}
	}
	h := &Host{module: m, opts: o, clock: o.Clock, pollENOSYS: enosys, metrics: &metricStore{},
		shared: o.Shared, rr: map[string]*atomic.Uint32{}, pluginConfig: o.Plugin.Configuration}
	if h.clock == nil {
		h.clock = RealClock()
	}
	if h.shared == nil {
		h.shared = NewSharedStore()
	}
	h.transports = map[string]*http.Transport{}
	h.clusterNames = map[string]string{}
	for name, c := range o.Clusters {
		h.clusterNames[name] = name
		h.rr[name] = new(atomic.Uint32)
		if len(c.Addresses) > 0 {
			h.transports[name] = newClusterTransport(c)
		}
	}
	for k, v := range o.Plugin.Environment {
		h.environ = append(h.environ, k+"="+v)
	}
	sort.Strings(h.environ)

	if o.Canary {
		c, err := newVM(ctx, h, -1)
		if err == nil {
			_, ok, serr := c.startRoot(o.Plugin.VMConfiguration, o.Plugin.Configuration)
			if serr == nil && !ok {
				serr = fmt.Errorf("%w: canary: plugin start or configure returned false", ErrStartFailed)
			}
			err = serr
			c.close(ctx)
		}
		if err != nil {
			return nil, h.startError(err)
		}
	}
	for i := 0; i < o.Workers; i++ {
		v, err := newVM(ctx, h, i)
		if err == nil {
			v.mu.Lock()
			var ok bool
			v.root, ok, err = v.startRoot(o.Plugin.VMConfiguration, o.Plugin.Configuration)
			v.unlock()
			if err == nil && !ok {
				err = fmt.Errorf("%w: worker %d: plugin start or configure returned false", ErrStartFailed, i)
			}
			h.workers = append(h.workers, v)
		}
		if err != nil {
			for _, w := range h.workers {
				w.close(ctx)
			}
			return nil, h.startError(err)
		}
	}
	return h, nil
}

// startError wraps err with ErrStartFailed and the guest's error and critical log lines.
func (h *Host) startError(err error) error {
	var lines []string
	for _, e := range h.Logs() {
		if e.Level >= LogError {
			lines = append(lines, e.Message)
		}
	}
	if !errors.Is(err, ErrStartFailed) {
		err = fmt.Errorf("%w: %w", ErrStartFailed, err)
	}
	if len(lines) > 0 {
		return fmt.Errorf("%w; guest log: %s", err, strings.Join(lines, " | "))
	}
	return err
}

// Reconfigure pushes a new plugin configuration with Envoy's semantics: a new root context is created and
// configured on every worker; if any proxy_on_configure returns false (or traps) the new roots are dropped,
// the old configuration keeps serving and the error wraps ErrConfigRejected. On success new streams use the
// new root and the old root gets on_done/on_delete.
func (h *Host) Reconfigure(ctx context.Context, configuration []byte) error {
	if h.closed.Load() {
		return ErrClosed
	}
	h.cfgMu.Lock()
	defer h.cfgMu.Unlock()
	fresh := make([]*rootContext, len(h.workers))
	var failure error
	for i, v := range h.workers {
		v.mu.Lock()
		r, ok, err := v.startRoot(h.opts.Plugin.VMConfiguration, configuration)
		fresh[i] = r
		if err == nil && !ok {
			err = fmt.Errorf("worker %d: proxy_on_configure returned false", i)
		}
		v.unlock()
		if err != nil {
			failure = err
			break
		}
	}
	if failure != nil {
		for i, r := range fresh {
			if r == nil {
				continue
			}
			v := h.workers[i]
			v.mu.Lock()
			v.deleteRoot(r)
			v.unlock()
		}
		return h.rejectError(failure)
	}
	for i, v := range h.workers {
		v.mu.Lock()
		old := v.root
		v.root = fresh[i]
		v.deleteRoot(old)
		v.unlock()
	}
	h.pluginConfig = configuration
	return nil
}

func (h *Host) rejectError(err error) error {
	var lines []string
	for _, e := range h.Logs() {
		if e.Level == LogCritical {
			lines = append(lines, e.Message)
		}
	}
	if len(lines) > 0 {
		return fmt.Errorf("%w: %w; guest log: %s", ErrConfigRejected, err, lines[len(lines)-1])
	}
	return fmt.Errorf("%w: %w", ErrConfigRejected, err)
}

// Workers returns the number of worker VMs.
func (h *Host) Workers() int { return len(h.workers) }

// Failed returns the failure of worker i (nil when healthy).
func (h *Host) Failed(i int) error {
	v := h.workers[i]
	v.mu.Lock()
	defer v.unlock()
	return v.failed
}

// MemorySize returns the size in bytes of worker i's guest linear memory (0 for an index out of range). Linear
// memory never shrinks, so the value is the guest's high-water mark.
func (h *Host) MemorySize(worker int) uint64 {
	if worker < 0 || worker >= len(h.workers) {
		return 0
	}
	v := h.workers[worker]
	v.mu.Lock()
	defer v.unlock()
	return uint64(v.mem.Size())
}

// PollOneoffCalls returns how many times guests of this Host called WASI poll_oneoff.
func (h *Host) PollOneoffCalls() int64 { return h.polls.Load() }

// log records one log entry.
func (h *Host) log(worker int, level LogLevel, msg string) {
	e := LogEntry{Time: h.clock.Now(), Level: level, Worker: worker, Message: msg}
	h.logMu.Lock()
	h.logs = appendRetained(h.logs, e, h.opts.Retain)
	h.logMu.Unlock()
	if h.opts.Log != nil {
		h.opts.Log(e)
	}
}

// Logs returns the retained log entries (the last Options.Retain at least), oldest first.
func (h *Host) Logs() []LogEntry {
	h.logMu.Lock()
	defer h.logMu.Unlock()
	return append([]LogEntry(nil), h.logs...)
}

// Metrics returns a snapshot of all custom metrics, in definition order.
func (h *Host) Metrics() []Metric { return h.metrics.snapshot() }

// Metric returns the value of the counter or gauge called name (without "wasmcustom.").
func (h *Host) Metric(name string) (uint64, bool) { return h.metrics.value(name) }

// Dispatches returns the retained proxy_http_call records (the last Options.Retain at least), oldest first,
// with their outcomes.
func (h *Host) Dispatches() []Dispatch {
	h.dispMu.Lock()
	defer h.dispMu.Unlock()
	out := make([]Dispatch, len(h.dispatches))
	for i, d := range h.dispatches {
		out[i] = *d
	}
	return out
}

// WaitIdle returns when no dispatch is being answered and no queue notification is pending (dispatches only
// waiting for a virtual-clock timeout do not count), or when ctx ends.
func (h *Host) WaitIdle(ctx context.Context) error {
	return h.inflight.wait(ctx)
}

// Close shuts the plugin down (proxy_on_done, then proxy_on_delete, of each root) and releases the VMs.
func (h *Host) Close(ctx context.Context) error {
	if h.closed.Swap(true) {
		return nil
	}
	for _, v := range h.workers {
		v.mu.Lock()
		if v.root != nil {
			v.deleteRoot(v.root)
		}
		v.close(ctx)
		v.unlock()
	}
	for _, t := range h.transports {
		t.CloseIdleConnections()
	}
	h.tasks.close()
	return nil
}

// NewStream starts an HTTP stream on the next worker VM (round-robin).
func (h *Host) NewStream(ctx context.Context) *Stream {
	v := h.workers[int(h.next.Add(1)-1)%len(h.workers)]
	return newStream(h, v)
}

// retainDispatch records d (the caller holds dispMu). When more than twice
// Retain records are kept, or their bodies exceed RetainBodyBytes, the oldest
// are dropped down to Retain records and half the byte bound, so trimming
// stays amortized; the newest record is always kept.
func (h *Host) retainDispatch(d *Dispatch) {
	h.dispatches = append(h.dispatches, d)
	h.dispatchBytes += len(d.Body)
	limit, bytes := h.opts.Retain, h.opts.RetainBodyBytes
	if len(h.dispatches) <= 2*limit && h.dispatchBytes <= bytes {
		return
	}
	drop := 0
	for drop < len(h.dispatches)-1 && (len(h.dispatches)-drop > limit || h.dispatchBytes > bytes/2) {
		h.dispatchBytes -= len(h.dispatches[drop].Body)
		drop++
	}
	h.dispatches = dropOldest(h.dispatches, drop)
}

// appendRetained appends x and keeps at most the last limit elements (trimming in batches).
func appendRetained[T any](s []T, x T, limit int) []T {
	s = append(s, x)
	if len(s) > 2*limit {
		s = dropOldest(s, len(s)-limit)
	}
	return s
}

// dropOldest removes the first n elements of s in place, clearing the freed
// tail so it holds no references.
func dropOldest[T any](s []T, n int) []T {
	kept := copy(s, s[n:])
	clear(s[kept:])
	return s[:kept]
}
