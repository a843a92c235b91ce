package hostsim

import (
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
)

// recorderServer is a real HTTP/1.1 endpoint that answers 202 and records "METHOD PATH HOST BODY".
type recorderServer struct {
	addr string
	mu   sync.Mutex
	seen []string
}

func newRecorderServer(t *testing.T) *recorderServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorderServer{addr: l.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.seen = append(r.seen, req.Method+" "+req.URL.Path+" "+req.Host+" "+string(b))
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return r
}

func (r *recorderServer) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}
