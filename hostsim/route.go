package hostsim

import (
	"context"
	"fmt"
	"strings"
)

// RouteMatch selects requests for a Route; every field set must hold. An empty match matches everything.
type RouteMatch struct {
	Authority string // exact :authority (port ignored when the match has none)
	Prefix    string // :path prefix
	Header    *HeaderMatch
}

// HeaderMatch is an exact header match.
type HeaderMatch struct {
	Name, Exact string
}

// Route sends matching requests to Cluster. Routes are evaluated in order after the filter chain, on the
// request as forwarded (so header rewrites by the plugin re-route, as Envoy's cleared route cache does).
type Route struct {
	Match   RouteMatch
	Cluster string
}

// Matches reports whether the route matches headers h.
func (m RouteMatch) Matches(h Headers) bool {
	if m.Authority != "" {
		a := h.Value(":authority")
		if a != m.Authority && !(strings.IndexByte(m.Authority, ':') < 0 && strings.HasPrefix(a, m.Authority+":")) {
			return false
		}
	}
	if m.Prefix != "" && !strings.HasPrefix(h.Value(":path"), m.Prefix) {
		return false
	}
	if m.Header != nil {
		v, ok := h.Get(m.Header.Name)
		if !ok || v != m.Header.Exact {
			return false
		}
	}
	return true
}

// RouteFor returns the cluster of the first route matching the request as forwarded.
func (h *Host) RouteFor(r RequestState) (cluster string, ok bool) {
	for _, rt := range h.opts.Routes {
		if rt.Match.Matches(r.Headers) {
			return rt.Cluster, true
		}
	}
	return "", false
}

// Result is the outcome of Host.Do.
type Result struct {
	Request    RequestState // the request as forwarded upstream
	Response   RequestState // the response as delivered downstream
	LocalReply *LocalReply  // set when the plugin (or a failed VM) answered locally
	Cluster    string       // upstream chosen by the route table ("" when none matched or not forwarded)
	Upstream   bool         // the upstream function was called
	Reset      bool         // the stream was reset (proxy_close_stream)
	Worker     int          // worker VM index
}

// Do runs a whole request through the plugin: headers, body (in Chunks), trailers; waits until the plugin
// continues, answers or resets; calls upstream with the request as forwarded (nil upstream answers 200 with no
// body); runs the response through the plugin; completes the stream (on_log, on_done, on_delete). A guest
// failure is returned as an error together with the Result (the stream then got 503 or passed, per FailOpen).
func (h *Host) Do(ctx context.Context, req Request, upstream func(RequestState) Response) (*Result, error) {
	s := h.NewStream(ctx)
	res, err := h.drive(ctx, s, req, upstream)
	if cerr := s.Complete(); err == nil {
		err = cerr
	}
	if res != nil {
		res.Response = s.Response()
		res.LocalReply = s.LocalReply()
		res.Reset, _ = s.Reset()
	}
	return res, err
}

func (h *Host) drive(ctx context.Context, s *Stream, req Request, upstream func(RequestState) Response) (*Result, error) {
	res := &Result{Worker: s.Worker()}
	noBody := len(req.Body) == 0 && req.Trailers == nil
	if err := s.SendRequestHeaders(req.Headers, noBody); err != nil {
		return res, err
	}
	if !noBody {
		chunks := req.Chunks
		if chunks <= 0 {
			chunks = 1
		}
		size := (len(req.Body) + chunks - 1) / chunks
		for off := 0; off < len(req.Body) || off == 0; off += max(size, 1) {
			end := min(off+size, len(req.Body))
			last := end >= len(req.Body) && req.Trailers == nil
			if err := s.SendRequestBody(req.Body[off:end], last); err != nil {
				return res, err
			}
			if end >= len(req.Body) {
				break
			}
		}
		if req.Trailers != nil {
			if err := s.SendRequestTrailers(req.Trailers); err != nil {
				return res, err
			}
		}
	}
	if err := s.WaitRequestComplete(ctx); err != nil {
		return res, err
	}
	res.Request = s.Request()
	if s.LocalReply() != nil {
		return res, nil
	}
	if reset, _ := s.Reset(); reset {
		return res, nil
	}
	res.Cluster, _ = h.RouteFor(res.Request)
	resp := Response{Headers: Headers{{":status", "200"}}}
	if upstream != nil {
		resp = upstream(res.Request)
		res.Upstream = true
		if resp.Headers == nil {
			resp.Headers = Headers{{":status", "200"}}
		}
	}
	if _, ok := resp.Headers.Get(":status"); !ok {
		return res, fmt.Errorf("hostsim: upstream response has no :status")
	}
	noRespBody := len(resp.Body) == 0 && resp.Trailers == nil
	if err := s.SendResponseHeaders(resp.Headers, noRespBody); err != nil {
		return res, err
	}
	if !noRespBody {
		if err := s.SendResponseBody(resp.Body, resp.Trailers == nil); err != nil {
			return res, err
		}
		if resp.Trailers != nil {
			if err := s.SendResponseTrailers(resp.Trailers); err != nil {
				return res, err
			}
		}
	}
	if err := s.WaitResponseComplete(ctx); err != nil {
		return res, err
	}
	return res, nil
}
