package replay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/eventroute/eventroute/hostsim/upstream"
)

// Target is the running mesh a scenario is played against.
type Target struct {
	// Listen is the mesh listener's host:port.
	Listen string
	// Clusters are the mesh's clusters, observed for what they receive.
	Clusters []*upstream.Cluster
	// Settle returns once the mesh has finished the work a request started
	// (for example the plugin's dispatches still in flight); nil = no wait.
	Settle func(ctx context.Context) error
}

// Report is what a scenario's requests caused.
type Report struct {
	Title string
	// Clusters are the column names, in mesh order.
	Clusters []string
	// Recorders marks the clusters whose arrival times are known.
	Recorders map[string]bool
	Rows      []Row
}

// Row is one scenario step's outcome.
type Row struct {
	Step Step
	// Statuses counts the statuses the publisher received.
	Statuses map[int]int
	// Replies are the publisher's round-trip times.
	Replies []time.Duration
	// Deliveries are what each cluster received because of this step.
	Deliveries map[string]*Cell
}

// Cell is what one cluster received for one step.
type Cell struct {
	Count int
	// Latencies run from publishing to a recorder's receipt (recorders only).
	Latencies []time.Duration
}

// Play publishes every step of sc, in order and one at a time, and reports
// what each caused. Requests go over a fresh keep-alive client.
func Play(ctx context.Context, t Target, sc *Scenario) (*Report, error) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, DisableCompression: true}}
	defer client.CloseIdleConnections()
	rep := &Report{Title: sc.Title, Recorders: map[string]bool{}}
	for _, c := range t.Clusters {
		rep.Clusters = append(rep.Clusters, c.Name())
		if c.Recorder() != nil {
			rep.Recorders[c.Name()] = true
		}
	}
	for _, st := range sc.Steps {
		row := Row{Step: st, Statuses: map[int]int{}, Deliveries: map[string]*Cell{}}
		for range st.Repeat {
			before := make([]uint64, len(t.Clusters))
			seq := make([]uint64, len(t.Clusters))
			for i, c := range t.Clusters {
				before[i] = c.Requests()
				if r := c.Recorder(); r != nil {
					seq[i] = r.Total()
				}
			}
			start := time.Now()
			status, err := publish(ctx, client, t.Listen, st)
			if err != nil {
				return nil, fmt.Errorf("request %q (scenario line %d): %w", st.Name, st.Line, err)
			}
			row.Replies = append(row.Replies, time.Since(start))
			row.Statuses[status]++
			if err := settle(ctx, t); err != nil {
				return nil, fmt.Errorf("request %q: waiting for the mesh to settle: %w", st.Name, err)
			}
			for i, c := range t.Clusters {
				n := int(c.Requests() - before[i])
				if n == 0 {
					continue
				}
				cell := row.Deliveries[c.Name()]
				if cell == nil {
					cell = &Cell{}
					row.Deliveries[c.Name()] = cell
				}
				cell.Count += n
				if r := c.Recorder(); r != nil {
					for _, rec := range r.Requests() {
						if rec.Seq > seq[i] {
							cell.Latencies = append(cell.Latencies, rec.Time.Sub(start))
						}
					}
				}
			}
		}
		rep.Rows = append(rep.Rows, row)
	}
	return rep, nil
}

// Quiet period and bound of settle.
const (
	quietPolls   = 4
	pollInterval = 10 * time.Millisecond
	settleLimit  = 3 * time.Second
)

// settle waits for the target's own idleness, then until no cluster has
// received anything for a quiet period (plugins may deliver asynchronously,
// e.g. from a timer), so each request's effects are attributed to it.
func settle(ctx context.Context, t Target) error {
	if t.Settle != nil {
		if err := t.Settle(ctx); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(settleLimit)
	last, quiet := uint64(0), 0
	for quiet < quietPolls && time.Now().Before(deadline) {
		var sum uint64
		for _, c := range t.Clusters {
			sum += c.Requests()
		}
		if sum == last {
			quiet++
		} else {
			last, quiet = sum, 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pollInterval):
		}
	}
	return nil
}

func publish(ctx context.Context, client *http.Client, listen string, st Step) (int, error) {
	req, err := http.NewRequestWithContext(ctx, st.Method, "http://"+listen+st.Path, bytes.NewReader(st.Body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Host = st.Authority
	for _, h := range st.Headers {
		req.Header.Add(h[0], h[1])
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("publish: %w", err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return 0, fmt.Errorf("read reply: %w", err)
	}
	return resp.StatusCode, nil
}

// Write prints the report as a matrix: one row per request, one column per
// cluster; a cell shows how many requests the cluster received and, for
// recorder clusters, the delivery latency p50/p99 from publishing.
func (r *Report) Write(w io.Writer) {
	if r.Title != "" {
		fmt.Fprintf(w, "\n%s\n\n", r.Title)
	}
	header := append([]string{"request", "reply"}, r.Clusters...)
	table := [][]string{header}
	all := map[string][]time.Duration{}
	for _, row := range r.Rows {
		line := []string{row.Step.Name, statuses(row.Statuses)}
		for _, c := range r.Clusters {
			cell := row.Deliveries[c]
			if cell == nil {
				line = append(line, "·")
				continue
			}
			all[c] = append(all[c], cell.Latencies...)
			text := fmt.Sprintf("%d", cell.Count)
			if len(cell.Latencies) > 0 {
				text += "  " + percentiles(cell.Latencies)
			}
			line = append(line, text)
		}
		table = append(table, line)
	}
	footer := []string{"delivery p50/p99", ""}
	for _, c := range r.Clusters {
		if len(all[c]) == 0 {
			footer = append(footer, "")
			continue
		}
		footer = append(footer, percentiles(all[c]))
	}
	table = append(table, footer)
	widths := make([]int, len(header))
	for _, line := range table {
		for i, cell := range line {
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	for i, line := range table {
		var b strings.Builder
		for j, cell := range line {
			b.WriteString(cell)
			if j < len(line)-1 {
				b.WriteString(strings.Repeat(" ", widths[j]-displayWidth(cell)+3))
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		if i == 0 || i == len(table)-2 {
			total := 0
			for _, wd := range widths {
				total += wd + 3
			}
			fmt.Fprintln(w, strings.Repeat("─", total-3))
		}
	}
	fmt.Fprintln(w, "cells: requests received (latency p50/p99 from publish to a recorder's receipt); · nothing")
}

func statuses(m map[int]int) string {
	codes := make([]int, 0, len(m))
	for c := range m {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		if m[c] > 1 {
			parts = append(parts, fmt.Sprintf("%d×%d", c, m[c]))
		} else {
			parts = append(parts, fmt.Sprint(c))
		}
	}
	return strings.Join(parts, " ")
}

func percentiles(ds []time.Duration) string {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return ms(quantile(s, 0.5)) + "/" + ms(quantile(s, 0.99)) + " ms"
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)
}

// displayWidth counts terminal columns: East Asian wide characters take two.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF, r >= 0xAC00 && r <= 0xD7A3,
			r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60,
			r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1FAFF, r >= 0x20000 && r <= 0x3FFFD:
			n += 2
		default:
			n++
		}
	}
	return n
}

// CurlLines returns a copy-paste curl command per scenario step.
func CurlLines(listen string, sc *Scenario) []string {
	var out []string
	for _, st := range sc.Steps {
		var b strings.Builder
		fmt.Fprintf(&b, "curl -si http://%s%s", listen, shellQuote(st.Path))
		if st.Method != "GET" || len(st.Body) > 0 {
			b.WriteString(" -X " + st.Method)
		}
		b.WriteString(" -H " + shellQuote("Host: "+st.Authority))
		for _, h := range st.Headers {
			b.WriteString(" -H " + shellQuote(h[0]+": "+h[1]))
		}
		if len(st.Body) > 0 {
			b.WriteString(" --data-binary " + shellQuote(strings.TrimSpace(string(st.Body))))
		}
		out = append(out, "# "+st.Name+"\n"+b.String())
	}
	return out
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/-_.:=", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
