package proxy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/eventroute/eventroute/hostsim"
	"github.com/eventroute/eventroute/hostsim/upstream"
)

// message is one direction of an exchange between chain stages.
type message struct {
	headers  hostsim.Headers
	body     []byte
	trailers hostsim.Headers
}

// ServeHTTP runs one downstream request through the chain, the route table
// and a cluster, and the response back through the chain.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.downstream.Add(1)
	ctx := r.Context()
	streams := make([]*hostsim.Stream, 0, len(s.chain))
	defer func() {
		for _, st := range streams {
			st.Complete()
		}
	}()

	req := message{headers: requestHeaders(r)}
	var reply *message
	for i, st := range s.chain {
		stream := st.host.NewStream(ctx)
		streams = append(streams, stream)
		var err error
		if i == 0 {
			reply, err = s.decodeStreaming(ctx, stream, &req, r.Body, r.ContentLength, r.Trailer)
		} else {
			reply, err = s.decode(ctx, stream, &req)
		}
		if err != nil {
			s.fail(w, st.name, err)
			return
		}
		if reply != nil {
			// A local reply goes back through the stages before this one.
			s.respond(w, s.encode(ctx, streams[:i], reply))
			return
		}
	}

	route, ok := s.mesh.RouteFor(req.headers)
	if !ok {
		s.noRoute.Add(1)
		s.respond(w, s.encode(ctx, streams, &message{headers: hostsim.Headers{{":status", "404"}, {"content-length", "0"}}}))
		return
	}
	cluster, _ := s.clusters.Get(route.Cluster)
	resp := cluster.Do(ctx, upstream.NewRequest(req.headers, req.body))
	out := &message{headers: append(hostsim.Headers{{":status", strconv.Itoa(resp.Status)}}, resp.Headers...), body: resp.Body}
	s.respond(w, s.encode(ctx, streams, out))
}

// decodeStreaming feeds the first stage: headers, then the body in the chunks
// the connection delivers, then waits for the plugin's decision.
func (s *Server) decodeStreaming(ctx context.Context, stream *hostsim.Stream, req *message, body io.Reader, length int64, trailer http.Header) (*message, error) {
	eos := length == 0
	if err := stream.SendRequestHeaders(req.headers, eos); err != nil {
		return nil, fmt.Errorf("request headers: %w", err)
	}
	if !eos {
		// With announced trailers the body's last chunk does not end the stream: the trailers do.
		hasTrailers := len(trailer) > 0
		bp := s.chunks.Get().(*[]byte)
		defer s.chunks.Put(bp)
		buf := *bp
		var read int64
		for stream.LocalReply() == nil {
			n, err := body.Read(buf)
			read += int64(n)
			last := errors.Is(err, io.EOF) || (length > 0 && read >= length)
			if n > 0 || last {
				if serr := stream.SendRequestBody(buf[:n], last && !hasTrailers); serr != nil {
					return nil, fmt.Errorf("request body: %w", serr)
				}
			}
			if last {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("reading request body: %w", err)
			}
		}
		if hasTrailers && stream.LocalReply() == nil {
			t := make(hostsim.Headers, 0, len(trailer))
			for k, vs := range trailer {
				for _, v := range vs {
					t = append(t, [2]string{strings.ToLower(k), v})
				}
			}
			if err := stream.SendRequestTrailers(t); err != nil {
				return nil, fmt.Errorf("request trailers: %w", err)
			}
		}
	}
	return s.decision(ctx, stream, req)
}

// decode feeds a later stage with what the previous one let through.
func (s *Server) decode(ctx context.Context, stream *hostsim.Stream, req *message) (*message, error) {
	eos := len(req.body) == 0 && req.trailers == nil
	if err := stream.SendRequestHeaders(req.headers, eos); err != nil {
		return nil, fmt.Errorf("request headers: %w", err)
	}
	for off := 0; !eos && off < len(req.body) && stream.LocalReply() == nil; off += chunkSize {
		end := min(off+chunkSize, len(req.body))
		if err := stream.SendRequestBody(req.body[off:end], end == len(req.body) && req.trailers == nil); err != nil {
			return nil, fmt.Errorf("request body: %w", err)
		}
	}
	if req.trailers != nil && stream.LocalReply() == nil {
		if err := stream.SendRequestTrailers(req.trailers); err != nil {
			return nil, fmt.Errorf("request trailers: %w", err)
		}
	}
	return s.decision(ctx, stream, req)
}

// decision waits until the plugin continued the request or answered it, and
// returns the local reply (nil when the request goes on, req updated).
func (s *Server) decision(ctx context.Context, stream *hostsim.Stream, req *message) (*message, error) {
	wctx, cancel := context.WithTimeout(ctx, decisionTimeout)
	defer cancel()
	if err := stream.WaitRequestComplete(wctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return &message{headers: hostsim.Headers{{":status", "408"}, {"content-type", "text/plain"}},
				body: []byte("stream timeout")}, nil
		}
		return nil, err
	}
	if reset, _ := stream.Reset(); reset {
		return nil, errReset
	}
	if lr := stream.LocalReply(); lr != nil {
		// The plugin has seen its own reply on its response path (Envoy runs
		// local replies through the encoder chain); take it as it left.
		if err := stream.WaitResponseComplete(wctx); err == nil {
			if st := stream.Response(); st.Forwarded {
				return &message{headers: st.Headers, body: st.Body, trailers: st.Trailers}, nil
			}
		}
		h := hostsim.Headers{{":status", strconv.Itoa(lr.Status)}}
		return &message{headers: append(h, lr.Headers...), body: lr.Body}, nil
	}
	st := stream.Request()
	req.headers, req.body, req.trailers = st.Headers, st.Body, st.Trailers
	return nil, nil
}

// errReset reports that a plugin reset the stream (proxy_close_stream).
var errReset = errors.New("stream reset by the plugin")

// encode runs a response back through the given stages, last first. It
// returns nil when a plugin reset the stream.
func (s *Server) encode(ctx context.Context, streams []*hostsim.Stream, resp *message) *message {
	for i := len(streams) - 1; i >= 0; i-- {
		stream := streams[i]
		eos := len(resp.body) == 0
		if err := stream.SendResponseHeaders(resp.headers, eos); err != nil {
			return failure(err)
		}
		if !eos {
			if err := stream.SendResponseBody(resp.body, true); err != nil {
				return failure(err)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, decisionTimeout)
		err := stream.WaitResponseComplete(wctx)
		cancel()
		if err != nil {
			return failure(fmt.Errorf("response: %w", err))
		}
		if reset, _ := stream.Reset(); reset {
			return nil
		}
		st := stream.Response()
		if lr := stream.LocalReply(); lr != nil && !st.Forwarded {
			h := hostsim.Headers{{":status", strconv.Itoa(lr.Status)}}
			resp = &message{headers: append(h, lr.Headers...), body: lr.Body}
			continue
		}
		resp = &message{headers: st.Headers, body: st.Body, trailers: st.Trailers}
	}
	return resp
}

func failure(err error) *message {
	body := "hostsim: " + err.Error()
	return &message{headers: hostsim.Headers{{":status", "500"}, {"content-type", "text/plain"}}, body: []byte(body)}
}

func (s *Server) fail(w http.ResponseWriter, plugin string, err error) {
	if errors.Is(err, errReset) {
		s.respond(w, nil)
		return
	}
	s.streamErrors.Add(1)
	s.respond(w, failure(fmt.Errorf("plugin %s: %w", plugin, err)))
}

// respond writes a response message to the downstream client; nil resets
// the stream, which on HTTP/1.1 means closing the connection.
func (s *Server) respond(w http.ResponseWriter, m *message) {
	if m == nil {
		s.resets.Add(1)
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	status := http.StatusOK
	for _, h := range m.headers {
		switch {
		case h[0] == ":status":
			if n, err := strconv.Atoi(h[1]); err == nil && n >= 100 && n <= 999 {
				status = n
			}
		case strings.HasPrefix(h[0], ":"), h[0] == "content-length", h[0] == "transfer-encoding", h[0] == "connection":
		default:
			w.Header().Add(h[0], h[1])
		}
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
	w.WriteHeader(status)
	w.Write(m.body)
	if class := status / 100; class >= 1 && class <= 5 {
		s.byClass[class].Add(1)
	}
}

// requestHeaders builds the header map a filter sees: pseudo-headers first,
// then lower-cased request headers, plus what Envoy's connection manager
// adds (x-forwarded-proto, x-request-id).
func requestHeaders(r *http.Request) hostsim.Headers {
	h := make(hostsim.Headers, 0, len(r.Header)+6)
	path := r.RequestURI
	if r.URL.IsAbs() || path == "" { // absolute-form (proxy-style) request line
		path = r.URL.RequestURI()
	}
	h = append(h, [2]string{":authority", r.Host}, [2]string{":path", path},
		[2]string{":method", r.Method}, [2]string{":scheme", "http"})
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if lk == "connection" || lk == "keep-alive" || lk == "transfer-encoding" || lk == "upgrade" {
			continue
		}
		for _, v := range vs {
			h = append(h, [2]string{lk, v})
		}
	}
	if r.ContentLength > 0 {
		if _, ok := h.Get("content-length"); !ok {
			h = append(h, [2]string{"content-length", strconv.FormatInt(r.ContentLength, 10)})
		}
	}
	h = append(h, [2]string{"x-forwarded-proto", "http"})
	if _, ok := h.Get("x-request-id"); !ok {
		h = append(h, [2]string{"x-request-id", requestID()})
	}
	return h
}

func requestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	x := hex.EncodeToString(b[:])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:]
}
