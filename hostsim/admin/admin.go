// Package admin serves hostsim's admin endpoint, shaped like Envoy's:
//
//	/ready               LIVE once the mesh serves, 503 before
//	/stats               Envoy text format ("name: value"), plugin metrics as wasmcustom.<name>
//	/stats/prometheus    Prometheus exposition format; the wasmcustom. prefix is dropped as Envoy does
//	/clusters            one line per cluster endpoint (name::address::stat::value)
//	/recorded/<cluster>  the requests a built-in recorder cluster received, as JSON
package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/eventroute/eventroute/hostsim/upstream"
)

// StatType is the kind of a stat.
type StatType int

// Stat kinds, as Envoy's admin shows them.
const (
	Counter StatType = iota
	Gauge
	Histogram
)

// CustomPrefix is the prefix Envoy puts before a plugin's metric names.
const CustomPrefix = "wasmcustom."

// Stat is one stat with its full Envoy name (e.g. "wasmcustom.eventroute.requests").
type Stat struct {
	Name  string
	Type  StatType
	Value int64
	// Samples are a histogram's recorded values (or the most recent of them): /stats computes its
	// percentiles from them.
	Samples []uint64
	// Count and Sum cover every value a histogram recorded, and Buckets[i] counts those ≤
	// PrometheusBuckets()[i] (cumulative). With Buckets nil, all three are computed from Samples.
	Count, Sum uint64
	Buckets    []uint64
}

// withTotals returns a histogram stat with Count, Sum and Buckets set (computed from Samples when Buckets is
// nil or does not match PrometheusBuckets).
func withTotals(s Stat) Stat {
	bounds := PrometheusBuckets()
	if s.Type != Histogram || len(s.Buckets) == len(bounds) {
		return s
	}
	s.Count, s.Sum, s.Buckets = uint64(len(s.Samples)), 0, make([]uint64, len(bounds))
	for _, v := range s.Samples {
		s.Sum += v
		for i, le := range bounds {
			if float64(v) <= le {
				s.Buckets[i]++
			}
		}
	}
	return s
}

// Sources are what the admin endpoint reports on.
type Sources struct {
	// Ready reports whether the mesh is serving.
	Ready func() bool
	// Stats returns the current stats.
	Stats func() []Stat
	// Clusters returns the mesh's clusters.
	Clusters func() []*upstream.Cluster
}

// Handler returns the admin endpoint's handler.
func Handler(s Sources) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ready", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		if s.Ready != nil && !s.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "PRE_INITIALIZING")
			return
		}
		fmt.Fprintln(w, "LIVE")
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		w.Write(EnvoyText(s.Stats()))
	})
	mux.HandleFunc("GET /stats/prometheus", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=UTF-8")
		w.Write(Prometheus(s.Stats()))
	})
	mux.HandleFunc("GET /clusters", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		for _, c := range s.Clusters() {
			if rec := c.Recorder(); rec != nil {
				fmt.Fprintf(w, "%s::recorder::rq_total::%d\n%s::recorder::health_flags::healthy\n", c.Name(), c.Requests(), c.Name())
				continue
			}
			for _, e := range c.Endpoints() {
				health := "healthy"
				if !e.Healthy {
					health = "/failed_outlier_check"
				}
				fmt.Fprintf(w, "%s::%s::rq_total::%d\n%s::%s::cx_connect_fail::%d\n%s::%s::health_flags::%s\n",
					c.Name(), e.Address, e.Requests, c.Name(), e.Address, e.ConnectFail, c.Name(), e.Address, health)
			}
		}
	})
	mux.HandleFunc("GET /recorded/{cluster}", func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("cluster")
		for _, c := range s.Clusters() {
			if c.Name() == name && c.Recorder() != nil {
				w.Header().Set("Content-Type", "application/json")
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				enc.Encode(Recordings(c.Recorder()))
				return
			}
		}
		http.Error(w, fmt.Sprintf("no recorder cluster named %q", name), http.StatusNotFound)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "hostsim admin: /ready /stats /stats/prometheus /clusters /recorded/<cluster>")
	})
	return mux
}

// Recording is the JSON shape of one recorded request.
type Recording struct {
	Seq       uint64      `json:"seq"`
	Time      string      `json:"time"`
	Method    string      `json:"method"`
	Authority string      `json:"authority"`
	Path      string      `json:"path"`
	Headers   [][2]string `json:"headers"`
	// Body is the body as text when it is valid UTF-8.
	Body string `json:"body,omitempty"`
	// BodyBase64 is the body when it is not valid UTF-8.
	BodyBase64 []byte `json:"bodyBase64,omitempty"`
}

// RecorderPage is the JSON document served at /recorded/<cluster>.
type RecorderPage struct {
	Cluster  string      `json:"cluster"`
	Total    uint64      `json:"total"`
	Requests []Recording `json:"requests"`
}

// Recordings renders what a recorder kept.
func Recordings(r *upstream.Recorder) RecorderPage {
	page := RecorderPage{Cluster: r.Name(), Total: r.Total(), Requests: []Recording{}}
	for _, rec := range r.Requests() {
		out := Recording{Seq: rec.Seq, Time: rec.Time.UTC().Format("2006-01-02T15:04:05.000000Z"), Method: rec.Method,
			Authority: rec.Authority, Path: rec.Path, Headers: rec.Headers}
		if utf8.Valid(rec.Body) {
			out.Body = string(rec.Body)
		} else {
			out.BodyBase64 = rec.Body
		}
		page.Requests = append(page.Requests, out)
	}
	return page
}

// EnvoyText renders stats as Envoy's /stats does: counters and gauges as
// "name: value", histograms as quantile summaries, sorted by name.
func EnvoyText(stats []Stat) []byte {
	stats = merged(stats, func(s string) string { return s })
	var b strings.Builder
	for _, s := range stats {
		if s.Type == Histogram {
			continue
		}
		fmt.Fprintf(&b, "%s: %d\n", s.Name, s.Value)
	}
	for _, s := range stats {
		if s.Type != Histogram {
			continue
		}
		fmt.Fprintf(&b, "%s: ", s.Name)
		if len(s.Samples) == 0 {
			b.WriteString("No recorded values\n")
			continue
		}
		sorted := append([]uint64(nil), s.Samples...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
		for i, q := range []float64{0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100} {
			if i > 0 {
				b.WriteByte(' ')
			}
			v := Quantile(sorted, q/100)
			fmt.Fprintf(&b, "P%s(%d,%d)", trimFloat(q), v, v)
		}
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// PrometheusBuckets returns Envoy's default histogram bucket bounds.
func PrometheusBuckets() [19]float64 {
	return [...]float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
		300000, 600000, 1800000, 3600000}
}

// Prometheus renders stats in the Prometheus text exposition format as Envoy
// does: plugin metrics lose the wasmcustom. prefix, other stats get envoy_
// and Envoy's default tags (cluster.<name>.x becomes
// envoy_cluster_x{envoy_cluster_name="<name>"}, http.<prefix>.x becomes
// envoy_http_x{envoy_http_conn_manager_prefix="<prefix>"}), names are
// sanitized to [a-zA-Z0-9_:], each family has one # TYPE line, and stats that
// collide after sanitizing are merged (counters and gauges summed, histogram
// counts, sums and buckets summed, samples pooled).
func Prometheus(stats []Stat) []byte {
	stats = merged(stats, func(name string) string {
		family, labels := PrometheusSeries(name)
		return family + labels
	})
	// One block per family: order by family, then labels.
	sort.SliceStable(stats, func(i, j int) bool {
		fi, li, _ := strings.Cut(stats[i].Name, "{")
		fj, lj, _ := strings.Cut(stats[j].Name, "{")
		return fi < fj || fi == fj && li < lj
	})
	var b strings.Builder
	family, typ := "", StatType(-1)
	for _, s := range stats {
		name, labels, _ := strings.Cut(s.Name, "{")
		if labels != "" {
			labels = "{" + labels
		}
		if name != family {
			family, typ = name, s.Type
			fmt.Fprintf(&b, "# TYPE %s %s\n", name, [...]string{"counter", "gauge", "histogram"}[typ])
		}
		switch typ {
		case Counter, Gauge:
			fmt.Fprintf(&b, "%s%s %d\n", name, labels, s.Value)
		case Histogram:
			for i, le := range PrometheusBuckets() {
				fmt.Fprintf(&b, "%s_bucket%s %d\n", name, withLabel(labels, "le", trimFloat(le)), s.Buckets[i])
			}
			fmt.Fprintf(&b, "%s_bucket%s %d\n%s_sum%s %d\n%s_count%s %d\n", name, withLabel(labels, "le", "+Inf"),
				s.Count, name, labels, s.Sum, name, labels, s.Count)
		}
	}
	return []byte(b.String())
}

// withLabel adds k="v" to a label set ("" or "{...}").
func withLabel(labels, k, v string) string {
	if labels == "" {
		return "{" + k + "=\"" + v + "\"}"
	}
	return strings.TrimSuffix(labels, "}") + "," + k + "=\"" + v + "\"}"
}

// PrometheusSeries maps an Envoy stat name to its Prometheus family name and
// label set ("" or {k="v"}).
func PrometheusSeries(name string) (family, labels string) {
	if rest, ok := strings.CutPrefix(name, CustomPrefix); ok {
		return sanitize(rest), ""
	}
	for _, tag := range []struct{ prefix, label string }{
		{"cluster.", "envoy_cluster_name"},
		{"http.", "envoy_http_conn_manager_prefix"},
	} {
		if rest, ok := strings.CutPrefix(name, tag.prefix); ok {
			if value, stat, ok := strings.Cut(rest, "."); ok && value != "" && stat != "" {
				return sanitize("envoy_" + tag.prefix + stat), "{" + tag.label + "=\"" + escapeLabel(value) + "\"}"
			}
		}
	}
	return sanitize("envoy_" + name), ""
}

// PrometheusName maps an Envoy stat name to its Prometheus family name.
func PrometheusName(name string) string {
	family, _ := PrometheusSeries(name)
	return family
}

func sanitize(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

func escapeLabel(v string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(v)
}

// merged renames stats, merges those that now share a name (the first type
// wins) and sorts them by name.
func merged(stats []Stat, rename func(string) string) []Stat {
	byName := map[string]int{}
	var out []Stat
	for _, s := range stats {
		s.Name = rename(s.Name)
		s = withTotals(s)
		i, ok := byName[s.Name]
		if !ok {
			byName[s.Name] = len(out)
			s.Samples = append([]uint64(nil), s.Samples...)
			s.Buckets = append([]uint64(nil), s.Buckets...)
			out = append(out, s)
			continue
		}
		out[i].Value += s.Value
		out[i].Samples = append(out[i].Samples, s.Samples...)
		if out[i].Type == Histogram && s.Type == Histogram {
			out[i].Count += s.Count
			out[i].Sum += s.Sum
			for j := range out[i].Buckets {
				out[i].Buckets[j] += s.Buckets[j]
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Quantile returns the q-quantile (0..1) of ascending sorted values
// (nearest rank); 0 when empty.
func Quantile(sorted []uint64, q float64) uint64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted)) + 0.999999)
	if i < 1 {
		i = 1
	}
	if i > len(sorted) {
		i = len(sorted)
	}
	return sorted[i-1]
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", f), "0"), ".")
}
