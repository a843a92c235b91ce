package upstream

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// DefaultRecorderLimit is how many requests a recorder keeps (the oldest are
// dropped first; the total count is kept).
const DefaultRecorderLimit = 1000

// Recorded is one request a recorder received.
type Recorded struct {
	// Seq numbers the recorder's requests from 1.
	Seq       uint64
	Time      time.Time
	Method    string
	Authority string
	Path      string
	Headers   [][2]string
	Body      []byte
}

// Header returns the first value of the header name (lower-case).
func (r Recorded) Header(name string) string {
	for _, h := range r.Headers {
		if h[0] == name {
			return h[1]
		}
	}
	return ""
}

// Recorder is a built-in subscriber: it answers every request with 202,
// keeps the request and prints a one-line summary of it.
type Recorder struct {
	name  string
	out   io.Writer
	limit int

	mu    sync.Mutex
	total uint64
	kept  []Recorded // ring of at most limit entries; the oldest at index total%limit once full
}

// NewRecorder returns a recorder named name that prints one line per request
// to out (nil: silent) and keeps the last limit requests (≤0: default).
func NewRecorder(name string, out io.Writer, limit int) *Recorder {
	if limit <= 0 {
		limit = DefaultRecorderLimit
	}
	return &Recorder{name: name, out: out, limit: limit}
}

// Name returns the recorder's cluster name.
func (r *Recorder) Name() string { return r.name }

// Record keeps req and answers 202 Accepted.
func (r *Recorder) Record(req Request) Response {
	rec := Recorded{Time: time.Now(), Method: req.Method, Authority: req.Authority, Path: req.Path,
		Headers: append([][2]string(nil), req.Headers...), Body: append([]byte(nil), req.Body...)}
	r.mu.Lock()
	r.total++
	rec.Seq = r.total
	if len(r.kept) < r.limit {
		r.kept = append(r.kept, rec)
	} else {
		r.kept[(r.total-1)%uint64(r.limit)] = rec
	}
	r.mu.Unlock()
	if r.out != nil {
		fmt.Fprintln(r.out, r.summary(rec))
	}
	return Response{Status: http.StatusAccepted, Headers: [][2]string{{"content-length", "0"}}}
}

func (r *Recorder) summary(rec Recorded) string {
	ct := rec.Header("content-type")
	if ct == "" {
		ct = "-"
	}
	return fmt.Sprintf("[%s] recorder %s #%d %s %s%s %s %s", rec.Time.Format("15:04:05.000"), r.name, rec.Seq,
		rec.Method, rec.Authority, rec.Path, ct, strconv.Itoa(len(rec.Body))+"B")
}

// Requests returns the kept requests, oldest first.
func (r *Recorder) Requests() []Recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.kept) < r.limit {
		return append([]Recorded(nil), r.kept...)
	}
	head := int(r.total % uint64(r.limit))
	out := make([]Recorded, 0, r.limit)
	out = append(out, r.kept[head:]...)
	return append(out, r.kept[:head]...)
}

// Total returns how many requests the recorder received.
func (r *Recorder) Total() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}
