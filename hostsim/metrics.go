package hostsim

import (
	"sync"
	"sync/atomic"
)

// metric is one stat shared by all VMs of a Host (Envoy creates it once in the plugin's scope).
type metric struct {
	name  string
	typ   MetricType
	value atomic.Uint64

	mu   sync.Mutex
	hist *histogram // histograms only
}

// MaxHistogramSamples is how many of the most recent samples a histogram keeps for percentiles; counts, sum
// and buckets cover every recorded value, so a long-running Host stays bounded.
const MaxHistogramSamples = 1024

// histogramBuckets is the number of Envoy's default histogram buckets.
const histogramBuckets = 19

// histogramBounds returns Envoy's default histogram bucket upper bounds (what /stats/prometheus shows as
// le="...").
func histogramBounds() [histogramBuckets]float64 {
	return [histogramBuckets]float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000,
		300000, 600000, 1800000, 3600000}
}

// HistogramBounds returns Envoy's default histogram bucket upper bounds, the bounds of
// Metric.HistogramBuckets.
func HistogramBounds() []float64 {
	b := histogramBounds()
	return b[:]
}

// histogram is the bounded state of one histogram metric.
type histogram struct {
	count, sum uint64
	buckets    [histogramBuckets]uint64 // per bucket (not cumulative); values above the last bound only count
	recent     []uint64                 // ring of the last MaxHistogramSamples values
	next       int                      // ring position of the next write once recent is full
}

func (h *histogram) record(v uint64) {
	h.count++
	h.sum += v
	for i, le := range histogramBounds() {
		if float64(v) <= le {
			h.buckets[i]++
			break
		}
	}
	if len(h.recent) < MaxHistogramSamples {
		h.recent = append(h.recent, v)
		return
	}
	h.recent[h.next] = v
	h.next = (h.next + 1) % MaxHistogramSamples
}

// fill copies the histogram into x: recent samples oldest first, cumulative buckets.
func (h *histogram) fill(x *Metric) {
	x.HistogramCount, x.HistogramSum = h.count, h.sum
	x.Histogram = make([]uint64, 0, len(h.recent))
	x.Histogram = append(append(x.Histogram, h.recent[h.next:]...), h.recent[:h.next]...)
	x.HistogramBuckets = make([]uint64, len(h.buckets))
	var cum uint64
	for i, n := range h.buckets {
		cum += n
		x.HistogramBuckets[i] = cum
	}
}

// increment applies Envoy's incrementMetric rules.
func (m *metric) increment(delta int64) uint32 {
	switch m.typ {
	case MetricCounter:
		if delta <= 0 {
			return statusBadArgument
		}
		m.value.Add(uint64(delta))
	case MetricGauge:
		m.value.Add(uint64(delta))
	default:
		return statusBadArgument
	}
	return statusOK
}

// record applies Envoy's recordMetric rules: counters add, gauges set, histograms record.
func (m *metric) record(value uint64) uint32 {
	switch m.typ {
	case MetricCounter:
		m.value.Add(value)
	case MetricGauge:
		m.value.Store(value)
	default:
		m.mu.Lock()
		m.hist.record(value)
		m.mu.Unlock()
	}
	return statusOK
}

// get applies Envoy's getMetric rules: histograms cannot be read.
func (m *metric) get() (uint64, uint32) {
	if m.typ == MetricHistogram {
		return 0, statusBadArgument
	}
	return m.value.Load(), statusOK
}

type metricKey struct {
	typ  MetricType
	name string
}

// metricStore is the stats scope of one Host.
type metricStore struct {
	mu      sync.Mutex
	byKey   map[metricKey]*metric
	ordered []*metric
}

// define returns the stat for (typ, name), creating it once.
func (s *metricStore) define(typ MetricType, name string) *metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := metricKey{typ, name}
	if m, ok := s.byKey[k]; ok {
		return m
	}
	if s.byKey == nil {
		s.byKey = map[metricKey]*metric{}
	}
	m := &metric{name: name, typ: typ}
	if typ == MetricHistogram {
		m.hist = &histogram{}
	}
	s.byKey[k] = m
	s.ordered = append(s.ordered, m)
	return m
}

func (s *metricStore) snapshot() []Metric {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Metric, 0, len(s.ordered))
	for _, m := range s.ordered {
		x := Metric{Name: m.name, Type: m.typ}
		if m.typ == MetricHistogram {
			m.mu.Lock()
			m.hist.fill(&x)
			m.mu.Unlock()
		} else {
			x.Value = m.value.Load()
		}
		out = append(out, x)
	}
	return out
}

func (s *metricStore) value(name string) (uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range []MetricType{MetricCounter, MetricGauge} {
		if m, ok := s.byKey[metricKey{t, name}]; ok {
			return m.value.Load(), true
		}
	}
	return 0, false
}
