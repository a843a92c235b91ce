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

	mu      sync.Mutex
	samples []uint64
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
		m.samples = append(m.samples, value)
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
			x.Histogram = append([]uint64(nil), m.samples...)
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
