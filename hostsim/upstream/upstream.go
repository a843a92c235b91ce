// Package upstream holds hostsim's clusters: named upstreams that receive the
// requests the route table forwards and the calls plugins dispatch. A cluster
// is either a set of real HTTP/1.1 endpoints balanced round-robin (an
// endpoint whose connection fails is skipped for a while, as Envoy's outlier
// detection would) or a built-in Recorder that answers 202 and keeps what it
// received. Failures are answered the way Envoy's router answers them: 503
// for a connect failure or reset, 504 for a timeout.
package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Request is one HTTP request sent to a cluster.
type Request struct {
	Method    string
	Authority string
	Path      string
	// Headers are the regular headers (no pseudo-headers), lower-case keys.
	Headers [][2]string
	Body    []byte
}

// NewRequest makes a cluster request from a proxy-wasm style header list
// (pseudo-headers :method, :path and :authority plus regular headers) and a
// body. Other pseudo-headers are dropped.
func NewRequest(headers [][2]string, body []byte) Request {
	req := Request{Body: body}
	for _, h := range headers {
		switch h[0] {
		case ":method":
			req.Method = h[1]
		case ":path":
			req.Path = h[1]
		case ":authority":
			req.Authority = h[1]
		default:
			if !strings.HasPrefix(h[0], ":") {
				req.Headers = append(req.Headers, h)
			}
		}
	}
	return req
}

// Response is a cluster's answer, real or made by hostsim on a failure.
type Response struct {
	Status int
	// Headers are the response headers (no :status), lower-case keys.
	Headers [][2]string
	Body    []byte
	// Failure is set when hostsim made the response: "connect", "timeout" or "reset".
	Failure string
}

// failedEndpointBackoff is how long an endpoint whose connection failed is skipped.
const failedEndpointBackoff = 5 * time.Second

// maxResponseBytes bounds an upstream response body kept in memory.
const maxResponseBytes = 16 << 20

// Cluster is one named upstream.
type Cluster struct {
	name     string
	timeout  time.Duration
	recorder *Recorder
	client   *http.Client
	next     atomic.Uint64

	endpoints []*endpoint
	requests  atomic.Uint64
}

type endpoint struct {
	address     string
	requests    atomic.Uint64
	connectFail atomic.Uint64
	failedUntil atomic.Int64 // unix nanos
}

// EndpointStatus is a snapshot of one endpoint for the admin /clusters page.
type EndpointStatus struct {
	Address     string
	Requests    uint64
	ConnectFail uint64
	Healthy     bool
}

// NewEndpoints returns a cluster balancing over real endpoints (host:port).
func NewEndpoints(name string, endpoints []string, timeout time.Duration, transport *http.Transport) *Cluster {
	c := &Cluster{name: name, timeout: timeout, client: &http.Client{
		Transport: transport,
		// Redirects are the client's business, as behind Envoy.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	for _, e := range endpoints {
		c.endpoints = append(c.endpoints, &endpoint{address: e})
	}
	return c
}

// NewRecorderCluster returns a cluster served by the built-in recorder r.
func NewRecorderCluster(name string, r *Recorder) *Cluster {
	return &Cluster{name: name, recorder: r}
}

// NewTransport returns the HTTP/1.1 transport clusters share: keep-alive
// pools sized for a loopback mesh, no proxy, no compression.
func NewTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
}

// Name returns the cluster name.
func (c *Cluster) Name() string { return c.name }

// Recorder returns the cluster's recorder, or nil for an endpoint cluster.
func (c *Cluster) Recorder() *Recorder { return c.recorder }

// Requests returns how many requests the cluster was sent.
func (c *Cluster) Requests() uint64 { return c.requests.Load() }

// Endpoints returns a snapshot of the endpoints (none for a recorder).
func (c *Cluster) Endpoints() []EndpointStatus {
	now := time.Now().UnixNano()
	out := make([]EndpointStatus, 0, len(c.endpoints))
	for _, e := range c.endpoints {
		out = append(out, EndpointStatus{Address: e.address, Requests: e.requests.Load(),
			ConnectFail: e.connectFail.Load(), Healthy: e.failedUntil.Load() <= now})
	}
	return out
}

// Do sends req to the cluster and returns its response, or the response
// Envoy's router would make when no endpoint answers: 503 after connect
// failures or a reset, 504 after the cluster timeout (or ctx's deadline).
// An endpoint that refuses the connection is skipped and the next one tried.
func (c *Cluster) Do(ctx context.Context, req Request) Response {
	c.requests.Add(1)
	if c.recorder != nil {
		return c.recorder.Record(req)
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	var lastErr error
	for _, e := range c.order() {
		e.requests.Add(1)
		resp, err := c.send(ctx, e.address, req)
		if err == nil {
			e.failedUntil.Store(0)
			return resp
		}
		lastErr = err
		if !isConnectFailure(err) || ctx.Err() != nil {
			break
		}
		e.connectFail.Add(1)
		e.failedUntil.Store(time.Now().Add(failedEndpointBackoff).UnixNano())
	}
	return failure(ctx, lastErr)
}

// order returns the endpoints to try: round-robin start, endpoints that
// recently failed moved to the end.
func (c *Cluster) order() []*endpoint {
	n := len(c.endpoints)
	start := int(c.next.Add(1)-1) % n
	now := time.Now().UnixNano()
	healthy := make([]*endpoint, 0, n)
	var failed []*endpoint
	for i := range n {
		e := c.endpoints[(start+i)%n]
		if e.failedUntil.Load() > now {
			failed = append(failed, e)
		} else {
			healthy = append(healthy, e)
		}
	}
	return append(healthy, failed...)
}

func (c *Cluster) send(ctx context.Context, address string, req Request) (Response, error) {
	path := req.Path
	if path == "" {
		path = "/"
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, "http://"+address+path, bytes.NewReader(req.Body))
	if err != nil {
		return Response{}, fmt.Errorf("build request: %w", err)
	}
	hr.Host = req.Authority
	for _, h := range req.Headers {
		if hopByHop(h[0]) {
			continue
		}
		hr.Header.Add(h[0], h[1])
	}
	hr.ContentLength = int64(len(req.Body))
	resp, err := c.client.Do(hr)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Response{}, fmt.Errorf("read response: %w", err)
	}
	out := Response{Status: resp.StatusCode, Body: body}
	for k, vs := range resp.Header {
		if hopByHop(strings.ToLower(k)) {
			continue
		}
		for _, v := range vs {
			out.Headers = append(out.Headers, [2]string{strings.ToLower(k), v})
		}
	}
	return out, nil
}

func isConnectFailure(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func failure(ctx context.Context, err error) Response {
	text := func(status int, failure, body string) Response {
		return Response{Status: status, Failure: failure, Body: []byte(body),
			Headers: [][2]string{{"content-type", "text/plain"}, {"content-length", fmt.Sprint(len(body))}}}
	}
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		return text(http.StatusGatewayTimeout, "timeout", "upstream request timeout")
	case isConnectFailure(err):
		return text(http.StatusServiceUnavailable, "connect",
			"upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: "+causeOf(err))
	default:
		return text(http.StatusServiceUnavailable, "reset",
			"upstream connect error or disconnect/reset before headers. reset reason: connection termination")
	}
}

func causeOf(err error) string {
	var sys *net.OpError
	if errors.As(err, &sys) && sys.Err != nil {
		return sys.Err.Error()
	}
	if err == nil {
		return "unknown"
	}
	return err.Error()
}

// hopByHop reports connection-level headers a proxy does not forward.
func hopByHop(name string) bool {
	switch name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "content-length":
		return true
	}
	return false
}

// Set is the clusters of one mesh by name.
type Set struct {
	mu       sync.RWMutex
	clusters map[string]*Cluster
	order    []string
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{clusters: map[string]*Cluster{}} }

// Add adds c (replacing a cluster of the same name).
func (s *Set) Add(c *Cluster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clusters[c.name]; !ok {
		s.order = append(s.order, c.name)
	}
	s.clusters[c.name] = c
}

// Get returns the cluster named name.
func (s *Set) Get(name string) (*Cluster, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.clusters[name]
	return c, ok
}

// All returns the clusters in the order they were added.
func (s *Set) All() []*Cluster {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*Cluster, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, s.clusters[n])
	}
	return out
}

// Probe dials every endpoint of c once and returns an error if none accepts a
// connection (one line naming the cluster and the last failure).
func (c *Cluster) Probe(ctx context.Context) error {
	if c.recorder != nil {
		return nil
	}
	var lastErr error
	for _, e := range c.endpoints {
		d := net.Dialer{Timeout: time.Second}
		conn, err := d.DialContext(ctx, "tcp", e.address)
		if err == nil {
			conn.Close()
			return nil
		}
		lastErr = err
	}
	return fmt.Errorf("cluster %q: no endpoint reachable: %w", c.name, lastErr)
}
