// Package loadgen is hostsim's bounded load generator: it sends one request
// shape at a fixed rate from a fixed number of concurrent clients to a
// loopback address and reports throughput, errors, latency percentiles and,
// optionally, the resident memory of the process under test over time. It
// refuses non-loopback targets and caps rate, clients and duration, so it can
// only load the local mesh.
package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds of a run.
const (
	MaxRPS         = 50000
	MaxConcurrency = 1024
	MaxDuration    = 10 * time.Minute
)

// ErrBounds is returned for options outside the generator's bounds.
var ErrBounds = errors.New("load generator bounds")

// Options describe one run.
type Options struct {
	URL         string
	Method      string // default POST when Body is set, else GET
	Headers     [][2]string
	Body        []byte
	RPS         int
	Concurrency int
	Duration    time.Duration
	// PID, when > 0, is the process whose resident memory is sampled (Linux /proc).
	PID int
	// Every is the progress interval (default 10s).
	Every time.Duration
}

// Result sums up a run.
type Result struct {
	Sent, OK, Errors int
	// Statuses counts responses by status code.
	Statuses map[int]int
	// FirstError is the first transport error or non-2xx status seen.
	FirstError    string
	P50, P99, Max time.Duration
	Elapsed       time.Duration
	// RSS samples of the watched process, in KiB (empty without PID).
	RSS []int
}

// Run sends the requests and writes progress lines to progress.
func Run(ctx context.Context, o Options, progress io.Writer) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if o.Method == "" {
		o.Method = http.MethodGet
		if len(o.Body) > 0 {
			o.Method = http.MethodPost
		}
	}
	if o.Every <= 0 {
		o.Every = 10 * time.Second
	}
	transport := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: o.Concurrency, MaxConnsPerHost: o.Concurrency,
		DisableCompression: true}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}

	tokens := make(chan struct{}, o.Concurrency)
	res := &Result{Statuses: map[int]int{}}
	var mu sync.Mutex
	var latencies []time.Duration
	var wg sync.WaitGroup
	for range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range tokens {
				start := time.Now()
				status, err := send(ctx, client, o)
				d := time.Since(start)
				mu.Lock()
				res.Sent++
				latencies = append(latencies, d)
				switch {
				case err != nil:
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				default:
					res.Statuses[status]++
					if status >= 200 && status < 300 {
						res.OK++
					} else {
						res.Errors++
						if res.FirstError == "" {
							res.FirstError = "status " + strconv.Itoa(status)
						}
					}
				}
				mu.Unlock()
			}
		}()
	}

	start := time.Now()
	total := int(o.Duration.Seconds() * float64(o.RPS))
	interval := time.Second / time.Duration(o.RPS)
	nextReport := start.Add(o.Every)
	if o.PID > 0 {
		res.RSS = append(res.RSS, rssKiB(o.PID))
	}
	lastSent := 0
	for n := 0; n < total && ctx.Err() == nil; n++ {
		due := start.Add(time.Duration(n) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		tokens <- struct{}{}
		if now := time.Now(); now.After(nextReport) {
			mu.Lock()
			sent, errs := res.Sent, res.Errors
			mu.Unlock()
			line := fmt.Sprintf("t=%-4s sent=%d (%d/s) errors=%d", now.Sub(start).Round(time.Second), sent,
				int(float64(sent-lastSent)/o.Every.Seconds()), errs)
			if o.PID > 0 {
				rss := rssKiB(o.PID)
				res.RSS = append(res.RSS, rss)
				line += fmt.Sprintf(" rss=%.1fMiB", float64(rss)/1024)
			}
			fmt.Fprintln(progress, line)
			lastSent = sent
			nextReport = nextReport.Add(o.Every)
		}
	}
	close(tokens)
	wg.Wait()
	res.Elapsed = time.Since(start)
	if o.PID > 0 {
		res.RSS = append(res.RSS, rssKiB(o.PID))
	}
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	if n := len(latencies); n > 0 {
		res.P50 = latencies[(n-1)/2]
		res.P99 = latencies[min(n-1, int(float64(n)*0.99))]
		res.Max = latencies[n-1]
	}
	return res, ctx.Err()
}

func (o Options) check() error {
	u, err := url.Parse(o.URL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return fmt.Errorf("%w: url %q: want http://host:port/path", ErrBounds, o.URL)
	}
	ips, err := net.LookupIP(u.Hostname())
	if err != nil {
		return fmt.Errorf("%w: resolve %q: %v", ErrBounds, u.Hostname(), err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%w: %s is not a loopback address: only the local mesh may be loaded", ErrBounds, u.Hostname())
		}
	}
	switch {
	case o.RPS < 1 || o.RPS > MaxRPS:
		return fmt.Errorf("%w: rps %d outside 1..%d", ErrBounds, o.RPS, MaxRPS)
	case o.Concurrency < 1 || o.Concurrency > MaxConcurrency:
		return fmt.Errorf("%w: concurrency %d outside 1..%d", ErrBounds, o.Concurrency, MaxConcurrency)
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("%w: duration %s outside (0, %s]", ErrBounds, o.Duration, MaxDuration)
	}
	return nil
}

func send(ctx context.Context, client *http.Client, o Options) (int, error) {
	req, err := http.NewRequestWithContext(ctx, o.Method, o.URL, bytes.NewReader(o.Body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	for _, h := range o.Headers {
		if strings.EqualFold(h[0], "host") {
			req.Host = h[1]
			continue
		}
		req.Header.Add(h[0], h[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, fmt.Errorf("read response: %w", err)
	}
	return resp.StatusCode, nil
}

// rssKiB reads VmRSS of pid from /proc (0 when unavailable).
func rssKiB(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(rest)[0])
			return n
		}
	}
	return 0
}

// Write prints the result summary.
func (r *Result) Write(w io.Writer) {
	fmt.Fprintf(w, "sent %d in %s (%.0f/s): ok %d, errors %d, statuses %v\n", r.Sent, r.Elapsed.Round(time.Millisecond),
		float64(r.Sent)/r.Elapsed.Seconds(), r.OK, r.Errors, r.Statuses)
	fmt.Fprintf(w, "latency p50 %s  p99 %s  max %s\n", r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Max.Round(time.Microsecond))
	if r.FirstError != "" {
		fmt.Fprintf(w, "first error: %s\n", r.FirstError)
	}
	if len(r.RSS) > 0 {
		parts := make([]string, len(r.RSS))
		for i, k := range r.RSS {
			parts[i] = fmt.Sprintf("%.1f", float64(k)/1024)
		}
		fmt.Fprintf(w, "rss MiB over the run: %s\n", strings.Join(parts, " "))
	}
}
