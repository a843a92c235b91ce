// Package proxy is the engine of `hostsim serve`: a real HTTP/1.1 proxy on
// loopback that behaves like an Envoy listener with an HTTP connection
// manager. Each request runs through the mesh file's chain of proxy-wasm
// plugins (each plugin a hostsim.Host with one VM per worker), then the route
// table (evaluated on the headers as the chain left them, as Envoy's cleared
// route cache re-evaluates after a header change), then goes to the chosen
// cluster. Plugins' dispatch_http_call calls go to the same clusters. An
// admin endpoint reports readiness, stats and recorder contents.
//
// Request bodies reach the first plugin in the chunks the connection delivers
// them; the upstream request is sent once the chain has let the whole request
// through (store and forward).
package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventroute/eventroute/hostsim"
	"github.com/eventroute/eventroute/hostsim/admin"
	"github.com/eventroute/eventroute/hostsim/mesh"
	"github.com/eventroute/eventroute/hostsim/upstream"
)

// Options configure a Server.
type Options struct {
	Mesh *mesh.Mesh
	// Concurrency is the number of worker VMs per plugin (Envoy's --concurrency); default 1.
	Concurrency int
	// Out receives recorder summaries, plugin warnings and progress lines; nil = os.Stdout.
	Out io.Writer
	// RecorderOut receives the one-line summary per recorded request; nil = Out.
	RecorderOut io.Writer
	// QuietRecorders stops the one-line summary per recorded request.
	QuietRecorders bool
	// Runtime is a shared hostsim runtime; nil = the server makes and closes its own.
	Runtime *hostsim.Runtime
	// CacheDir, when the server makes its own runtime, keeps compiled plugins on disk there so the next
	// start skips compilation; "" = in memory only.
	CacheDir string
}

// Server is a running mesh.
type Server struct {
	mesh       *mesh.Mesh
	out        io.Writer
	runtime    *hostsim.Runtime
	ownRuntime bool
	chain      []*stage
	clusters   *upstream.Set

	listener, adminListener net.Listener
	httpServer, adminServer *http.Server
	ready                   atomic.Bool
	served                  sync.WaitGroup

	downstream   atomic.Uint64
	byClass      [6]atomic.Uint64 // downstream responses by status class 1xx..5xx
	noRoute      atomic.Uint64
	streamErrors atomic.Uint64
	resets       atomic.Uint64

	chunks sync.Pool // *[]byte of chunkSize: request body read buffers
}

type stage struct {
	name   string
	host   *hostsim.Host
	config []byte // the configuration the plugin runs with
}

// chunkSize is the largest body chunk handed to a plugin at once (Envoy reads
// about 16 KiB per socket read).
const chunkSize = 16 << 10

// decisionTimeout bounds how long a stream may stay paused by a plugin
// (Envoy's stream idle timeout would end it; hostsim answers 408).
const decisionTimeout = 60 * time.Second

// Start builds the mesh: binds the listeners (a port in use fails here),
// checks that every endpoint cluster has a reachable endpoint, loads and
// starts every plugin, then serves. Every error is one line naming the mesh
// file, line and key.
func Start(ctx context.Context, o Options) (*Server, error) {
	m := o.Mesh
	s := &Server{mesh: m, out: o.Out, runtime: o.Runtime, clusters: upstream.NewSet()}
	s.chunks.New = func() any { b := make([]byte, chunkSize); return &b }
	if s.out == nil {
		s.out = os.Stdout
	}
	var err error
	if s.listener, err = net.Listen("tcp", m.Listen.Value); err != nil {
		return nil, m.At(m.Listen.Line, "listen", err)
	}
	if m.Admin.Value != "" {
		if s.adminListener, err = net.Listen("tcp", m.Admin.Value); err != nil {
			s.listener.Close()
			return nil, m.At(m.Admin.Line, "admin", err)
		}
	}
	if err := s.build(ctx, o); err != nil {
		s.close(ctx)
		return nil, err
	}
	s.httpServer = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	s.serve(s.httpServer, s.listener)
	if s.adminListener != nil {
		s.adminServer = &http.Server{Handler: admin.Handler(admin.Sources{
			Ready: s.ready.Load, Stats: s.Stats, Clusters: s.clusters.All,
		}), ReadHeaderTimeout: 10 * time.Second}
		s.serve(s.adminServer, s.adminListener)
	}
	s.ready.Store(true)
	return s, nil
}

func (s *Server) serve(srv *http.Server, l net.Listener) {
	s.served.Add(1)
	go func() {
		defer s.served.Done()
		srv.Serve(l)
	}()
}

// newRuntime makes a hostsim runtime, with an on-disk compilation cache in dir unless dir is "".
func newRuntime(ctx context.Context, dir string) (*hostsim.Runtime, error) {
	if dir == "" {
		return hostsim.NewRuntime(ctx)
	}
	return hostsim.NewRuntimeWithCacheDir(ctx, dir)
}

func (s *Server) build(ctx context.Context, o Options) error {
	m := o.Mesh
	transport := upstream.NewTransport()
	for _, c := range m.Clusters {
		if c.Recorder {
			var out io.Writer
			if !o.QuietRecorders {
				out = o.RecorderOut
				if out == nil {
					out = s.out
				}
			}
			s.clusters.Add(upstream.NewRecorderCluster(c.Name, upstream.NewRecorder(c.Name, out, 0)))
			continue
		}
		cl := upstream.NewEndpoints(c.Name, c.Endpoints, c.Timeout, transport)
		if err := cl.Probe(ctx); err != nil {
			return m.At(c.Line, "clusters."+c.Name, err)
		}
		s.clusters.Add(cl)
	}
	if s.runtime == nil {
		rt, err := newRuntime(ctx, o.CacheDir)
		if err != nil {
			return fmt.Errorf("hostsim runtime: %w", err)
		}
		s.runtime, s.ownRuntime = rt, true
	}
	dispatch := map[string]hostsim.Cluster{}
	for _, c := range s.clusters.All() {
		dispatch[c.Name()] = hostsim.Cluster{Handler: callHandler(c)}
	}
	workers := max(o.Concurrency, 1)
	for i, p := range m.Plugins {
		key := fmt.Sprintf("plugins[%d]", i)
		wasm, err := os.ReadFile(p.Wasm.Value)
		if err != nil {
			return m.At(p.Wasm.Line, key+".wasm", err)
		}
		slow := time.AfterFunc(time.Second, func() {
			fmt.Fprintf(s.out, "compiling %s for plugin %q (first load takes a few seconds)...\n", p.Wasm.Value, p.Name)
		})
		mod, err := s.runtime.Load(ctx, wasm)
		slow.Stop()
		if err != nil {
			return m.At(p.Wasm.Line, key+".wasm", err)
		}
		host, err := hostsim.NewHost(ctx, mod, hostsim.Options{
			Plugin: hostsim.PluginConfig{Name: p.Name, RootID: p.RootID, VMID: p.VMID,
				VMConfiguration: p.VMConfiguration, Configuration: p.Configuration,
				AllowOnHeadersStopIteration: p.AllowOnHeadersStopIteration, FailOpen: p.FailOpen,
				EnvoyVersion: p.EnvoyVersion, Environment: p.Environment},
			Workers:  workers,
			Canary:   true,
			Retain:   1000, // a long-running proxy keeps only recent logs and dispatch records
			Clusters: dispatch,
			Peer:     hostsim.Peer{URISAN: m.Principal, DestinationAddress: s.listener.Addr().String()},
			Log:      s.pluginLog(p.Name),
		})
		if err != nil {
			return m.At(p.Line, key+" ("+p.Name+")", fmt.Errorf("plugin failed to start: %s", oneLine(err.Error())))
		}
		s.chain = append(s.chain, &stage{name: p.Name, host: host, config: p.Configuration})
	}
	return nil
}

// pluginLog prints a plugin's warnings and errors once the mesh serves (a
// start failure carries them in its error); lower levels stay in the host's
// retained log.
func (s *Server) pluginLog(name string) func(hostsim.LogEntry) {
	return func(e hostsim.LogEntry) {
		if e.Level >= hostsim.LogWarn && s.ready.Load() {
			fmt.Fprintf(s.out, "[%s] plugin %s %s: %s\n", e.Time.Format("15:04:05.000"), name, e.Level, oneLine(e.Message))
		}
	}
}

// callHandler answers a plugin's dispatch_http_call through cluster c.
func callHandler(c *upstream.Cluster) func(context.Context, *hostsim.CallRequest) *hostsim.CallResponse {
	return func(ctx context.Context, req *hostsim.CallRequest) *hostsim.CallResponse {
		resp := c.Do(ctx, upstream.NewRequest(req.Headers, req.Body))
		if resp.Failure == "reset" {
			return nil
		}
		out := &hostsim.CallResponse{Headers: hostsim.Headers{{":status", strconv.Itoa(resp.Status)}}, Body: resp.Body}
		out.Headers = append(out.Headers, resp.Headers...)
		return out
	}
}

// ListenAddr returns the proxy listener's address.
func (s *Server) ListenAddr() string { return s.listener.Addr().String() }

// AdminAddr returns the admin listener's address ("" when disabled).
func (s *Server) AdminAddr() string {
	if s.adminListener == nil {
		return ""
	}
	return s.adminListener.Addr().String()
}

// Clusters returns the mesh's clusters in file order.
func (s *Server) Clusters() []*upstream.Cluster { return s.clusters.All() }

// Hosts returns the plugin chain's hosts, in chain order.
func (s *Server) Hosts() []*hostsim.Host {
	out := make([]*hostsim.Host, len(s.chain))
	for i, st := range s.chain {
		out[i] = st.host
	}
	return out
}

// Settle returns once no plugin has dispatches being answered.
func (s *Server) Settle(ctx context.Context) error {
	for _, st := range s.chain {
		if err := st.host.WaitIdle(ctx); err != nil {
			return fmt.Errorf("plugin %s: %w", st.name, err)
		}
	}
	return nil
}

// Shutdown stops accepting requests, lets those in flight finish (until ctx
// ends), waits for the plugins' dispatches, and shuts the plugins down.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	var errs []error
	if s.httpServer != nil {
		errs = append(errs, s.httpServer.Shutdown(ctx))
	}
	errs = append(errs, s.Settle(ctx))
	if s.adminServer != nil {
		errs = append(errs, s.adminServer.Shutdown(ctx))
	}
	s.served.Wait()
	errs = append(errs, s.close(ctx))
	return errors.Join(errs...)
}

func (s *Server) close(ctx context.Context) error {
	var errs []error
	for _, st := range s.chain {
		errs = append(errs, st.host.Close(ctx))
	}
	if s.ownRuntime && s.runtime != nil {
		errs = append(errs, s.runtime.Close(ctx))
	}
	if s.httpServer == nil {
		s.listener.Close()
		if s.adminListener != nil {
			s.adminListener.Close()
		}
	}
	return errors.Join(errs...)
}

// Stats returns the admin stats: every plugin metric as wasmcustom.<name>,
// plus the proxy's own counters and memory gauges under Envoy's names.
func (s *Server) Stats() []admin.Stat {
	var out []admin.Stat
	for _, st := range s.chain {
		for _, m := range st.host.Metrics() {
			stat := admin.Stat{Name: admin.CustomPrefix + m.Name, Value: int64(m.Value)}
			switch m.Type {
			case hostsim.MetricCounter:
				stat.Type = admin.Counter
			case hostsim.MetricGauge:
				stat.Type = admin.Gauge
			default:
				stat.Type, stat.Samples = admin.Histogram, m.Histogram
				stat.Count, stat.Sum, stat.Buckets = m.HistogramCount, m.HistogramSum, m.HistogramBuckets
			}
			out = append(out, stat)
		}
	}
	counter := func(name string, v uint64) {
		out = append(out, admin.Stat{Name: name, Type: admin.Counter, Value: int64(v)})
	}
	counter("http.hostsim.downstream_rq_total", s.downstream.Load())
	for class := 1; class <= 5; class++ {
		counter(fmt.Sprintf("http.hostsim.downstream_rq_%dxx", class), s.byClass[class].Load())
	}
	counter("http.hostsim.no_route", s.noRoute.Load())
	counter("http.hostsim.downstream_rq_reset", s.resets.Load())
	counter("http.hostsim.stream_errors", s.streamErrors.Load())
	for _, c := range s.clusters.All() {
		counter("cluster."+c.Name()+".upstream_rq_total", c.Requests())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out = append(out,
		admin.Stat{Name: "server.memory_allocated", Type: admin.Gauge, Value: int64(ms.HeapAlloc)},
		admin.Stat{Name: "server.memory_heap_size", Type: admin.Gauge, Value: int64(ms.HeapSys)},
		admin.Stat{Name: "server.live", Type: admin.Gauge, Value: boolInt(s.ready.Load())},
		admin.Stat{Name: "server.concurrency", Type: admin.Gauge, Value: int64(s.workers())},
	)
	return out
}

func (s *Server) workers() int {
	if len(s.chain) == 0 {
		return 0
	}
	return s.chain[0].host.Workers()
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Reconfigure pushes the plugin configurations of m to the running plugins of
// the same names, as a new xDS filter config reaches Envoy: a plugin whose
// proxy_on_configure refuses the new configuration keeps the old one, and the
// error (wrapping hostsim.ErrConfigRejected) names the plugin's mesh line.
// Plugins whose configuration did not change are left alone; listeners,
// routes and clusters need a restart. It returns the names of the plugins
// that took a new configuration.
func (s *Server) Reconfigure(ctx context.Context, m *mesh.Mesh) ([]string, error) {
	var applied []string
	var errs []error
	for i, p := range m.Plugins {
		st := s.stage(p.Name)
		if st == nil {
			errs = append(errs, m.At(p.Line, fmt.Sprintf("plugins[%d]", i), fmt.Errorf("no running plugin named %q (restart to add plugins)", p.Name)))
			continue
		}
		if string(st.config) == string(p.Configuration) {
			continue
		}
		if err := st.host.Reconfigure(ctx, p.Configuration); err != nil {
			errs = append(errs, m.At(p.Line, fmt.Sprintf("plugins[%d] (%s)", i, p.Name), fmt.Errorf("new configuration refused, the old one keeps serving: %w", err)))
			continue
		}
		st.config = p.Configuration
		applied = append(applied, p.Name)
	}
	return applied, errors.Join(errs...)
}

func (s *Server) stage(name string) *stage {
	for _, st := range s.chain {
		if st.name == name {
			return st
		}
	}
	return nil
}
