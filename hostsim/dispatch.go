package hostsim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// defaultConnectTimeout is Envoy's default cluster connect_timeout.
const defaultConnectTimeout = 5 * time.Second

// newClusterTransport returns the connection pool of one cluster.
func newClusterTransport(c Cluster) *http.Transport {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = defaultConnectTimeout
	}
	dialer := &net.Dialer{Timeout: timeout}
	return &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
}

// DispatchOutcome is how a proxy_http_call ended.
type DispatchOutcome int

// Dispatch outcomes.
const (
	DispatchPending       DispatchOutcome = iota
	DispatchResponded                     // the cluster answered (any status)
	DispatchTimedOut                      // Envoy's 504 "upstream request timeout"
	DispatchConnectFailed                 // Envoy's 503 for a connect failure
	DispatchReset                         // callback with (0, 0, 0)
	DispatchCancelled                     // root context destroyed first: no callback
)

// String names the outcome.
func (o DispatchOutcome) String() string {
	return [...]string{"pending", "responded", "timed_out", "connect_failed", "reset", "cancelled"}[o]
}

// Dispatch records one proxy_http_call.
type Dispatch struct {
	Worker   int
	Token    uint32
	Cluster  string
	Headers  Headers
	Body     []byte
	Trailers Headers
	Timeout  time.Duration
	Outcome  DispatchOutcome
	Status   int // :status delivered to the guest (0 for a reset)
	Sent     time.Time
	Latency  time.Duration // from the call to its callback (by the Host's clock)
}

// pendingCall is an outstanding proxy_http_call on a VM.
type pendingCall struct {
	v      *vm
	token  uint32
	root   uint32
	rec    *Dispatch
	done   bool
	timer  Timer
	stop   context.CancelFunc
	sentNs int64

	request CallRequest // what the cluster receives
	record  Dispatch    // what Host.Dispatches reports (rec points here)
}

func (c *pendingCall) cancel() {
	if c.done {
		return
	}
	c.done = true
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.stop != nil {
		c.stop()
	}
	c.v.host.dispMu.Lock()
	c.rec.Outcome = DispatchCancelled
	c.v.host.dispMu.Unlock()
}

func hostHTTPCall(v *vm, p []uint64) uint32 {
	clusterName, ok1 := v.read(u32(p[0]), u32(p[1]))
	hb, ok2 := v.read(u32(p[2]), u32(p[3]))
	body, ok3 := v.read(u32(p[4]), u32(p[5]))
	tb, ok4 := v.read(u32(p[6]), u32(p[7]))
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return statusInvalidMemoryAccess
	}
	timeoutMS := int32(u32(p[8]))
	if timeoutMS < 0 {
		return statusBadArgument
	}
	cluster, known := v.host.clusterNames[string(clusterName)] // the map's own copy: no allocation
	if !known {
		return statusBadArgument
	}
	headers := DecodePairs(hb)
	for i := range headers {
		headers[i][0] = lowerASCII(headers[i][0])
	}
	for _, must := range []string{":path", ":method", ":authority"} {
		if _, ok := headers.Get(must); !ok {
			return statusBadArgument
		}
	}
	if len(body) > 0 {
		headers = replaceHeader(headers, "content-length", strconv.Itoa(len(body)))
	}
	r := v.rootFor()
	if r == nil {
		return statusBadArgument
	}
	token := v.nextToken
	v.nextToken += 4
	if !v.mem.WriteUint32Le(u32(p[9]), token) {
		return statusInvalidMemoryAccess
	}
	c := v.host.opts.Clusters[cluster]
	// The request and its record live in the pending call: one allocation for the three.
	pc := &pendingCall{v: v, token: token, root: r.id, sentNs: v.host.clock.Nanotime()}
	pc.request = CallRequest{Cluster: cluster, Headers: headers, Body: append([]byte(nil), body...),
		Trailers: DecodePairs(tb), Timeout: time.Duration(timeoutMS) * time.Millisecond}
	req := &pc.request
	pc.record = Dispatch{Worker: v.index, Token: token, Cluster: cluster, Headers: req.Headers, Body: req.Body,
		Trailers: req.Trailers, Timeout: req.Timeout, Sent: v.host.clock.Now()}
	pc.rec = &pc.record
	v.host.dispMu.Lock()
	v.host.retainDispatch(pc.rec)
	v.host.dispMu.Unlock()
	v.calls[token] = pc
	if req.Timeout > 0 {
		pc.timer = v.host.clock.AfterFunc(req.Timeout, func() {
			v.deliver(pc, envoyResponse(504, "upstream request timeout"), DispatchTimedOut)
		})
	}
	if c.Inline {
		// Answered on this worker once the dispatching VM call returns: no goroutine, no lock handoff.
		v.post(postedEvent{kind: postCallAnswer, call: pc, cluster: c, req: req}, true)
		return statusOK
	}
	ctx, stop := context.WithCancel(context.Background())
	pc.stop = stop
	v.host.inflight.start()
	v.host.tasks.run(func() {
		defer v.host.inflight.done()
		resp, outcome := v.host.callCluster(ctx, c, req)
		// Posted rather than delivered under a blocking lock: a busy worker delivers it when its current
		// call returns, and this goroutine does not wait for the VM.
		v.post(postedEvent{kind: postCallResponse, call: pc, resp: resp, outcome: outcome}, false)
	})
	return statusOK
}

// envoyResponse is a response Envoy's router generates itself.
func envoyResponse(status int, body string) *CallResponse {
	return &CallResponse{Headers: Headers{{":status", strconv.Itoa(status)},
		{"content-length", strconv.Itoa(len(body))}, {"content-type", "text/plain"}, {"server", "envoy"}},
		Body: []byte(body)}
}

// callCluster runs the request against the cluster's handler or real endpoints.
func (h *Host) callCluster(ctx context.Context, c Cluster, req *CallRequest) (*CallResponse, DispatchOutcome) {
	if c.Handler != nil {
		resp := c.Handler(ctx, req)
		if resp == nil {
			return nil, DispatchReset
		}
		if _, ok := resp.Headers.Get(":status"); !ok {
			resp.Headers = append(Headers{{":status", "200"}}, resp.Headers...)
		}
		return resp, DispatchResponded
	}
	n := len(c.Addresses)
	start := int(h.rr[req.Cluster].Add(1) - 1)
	var lastErr error
	for i := 0; i < n; i++ {
		addr := c.Addresses[(start+i)%n]
		resp, err := h.roundTrip(ctx, addr, req)
		if err == nil {
			return resp, DispatchResponded
		}
		lastErr = err
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			break // not a connect failure: the endpoint was reached
		}
	}
	if ctx.Err() != nil {
		return nil, DispatchCancelled
	}
	var op *net.OpError
	if errors.As(lastErr, &op) && op.Op == "dial" {
		return envoyResponse(503, "upstream connect error or disconnect/reset before headers. reset reason: remote connection failure, transport failure reason: "+op.Err.Error()), DispatchConnectFailed
	}
	return nil, DispatchReset
}

// roundTrip sends req to one HTTP/1.1 endpoint through the cluster's transport (connect timeout applied by
// its dialer).
func (h *Host) roundTrip(ctx context.Context, addr string, req *CallRequest) (*CallResponse, error) {
	method, path, authority := req.Headers.Value(":method"), req.Headers.Value(":path"), req.Headers.Value(":authority")
	hr, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(req.Body))
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	hr.Host = authority
	for _, kv := range req.Headers {
		if len(kv[0]) > 0 && kv[0][0] != ':' && kv[0] != "content-length" {
			hr.Header.Add(kv[0], kv[1])
		}
	}
	hr.ContentLength = int64(len(req.Body))
	resp, err := h.transports[req.Cluster].RoundTrip(hr)
	if err != nil {
		return nil, fmt.Errorf("calling %s: %w", addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading response from %s: %w", addr, err)
	}
	out := &CallResponse{Headers: Headers{{":status", strconv.Itoa(resp.StatusCode)}}, Body: body}
	for k, vs := range resp.Header {
		for _, val := range vs {
			out.Headers = append(out.Headers, [2]string{lowerASCII(k), val})
		}
	}
	for k, vs := range resp.Trailer {
		for _, val := range vs {
			out.Trailers = append(out.Trailers, [2]string{lowerASCII(k), val})
		}
	}
	return out, nil
}

// deliver hands a call's outcome to the guest on its root context (proxy_on_http_call_response), once,
// after any VM call in progress. resp nil is a reset: (0, 0, 0).
func (v *vm) deliver(pc *pendingCall, resp *CallResponse, outcome DispatchOutcome) {
	defer v.host.guard(nil)
	v.mu.Lock()
	defer v.unlock()
	v.deliverLocked(pc, resp, outcome)
}

// deliverLocked is deliver for a caller holding v.mu.
func (v *vm) deliverLocked(pc *pendingCall, resp *CallResponse, outcome DispatchOutcome) {
	if pc.done {
		return
	}
	pc.done = true
	if pc.timer != nil {
		pc.timer.Stop()
	}
	if pc.stop != nil {
		pc.stop()
	}
	delete(v.calls, pc.token)
	status := 0
	if resp != nil {
		status, _ = strconv.Atoi(resp.Headers.Value(":status"))
	}
	v.host.dispMu.Lock()
	pc.rec.Outcome, pc.rec.Status = outcome, status
	pc.rec.Latency = time.Duration(v.host.clock.Nanotime() - pc.sentNs)
	v.host.dispMu.Unlock()
	if v.closed || v.failed != nil {
		return
	}
	if r := v.roots[pc.root]; r == nil || r.deleted {
		return
	}
	v.callResp = resp
	v.stack[0], v.stack[1] = uint64(pc.root), uint64(pc.token)
	v.stack[2], v.stack[3], v.stack[4] = 0, 0, 0
	if resp != nil {
		v.stack[2], v.stack[3], v.stack[4] = uint64(len(resp.Headers)), uint64(len(resp.Body)), uint64(len(resp.Trailers))
	}
	_, err := v.invoke(v.fn.httpCallResponse, "proxy_on_http_call_response", pc.root)
	v.callResp = nil
	if err == nil {
		v.runAfter()
	}
}
