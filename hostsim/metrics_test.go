package hostsim

import (
	"fmt"
	"testing"
)

func TestHistogramKeepsCountsSumAndBucketsButOnlyRecentSamples(t *testing.T) {
	t.Parallel()
	var s metricStore
	m := s.define(MetricHistogram, "latency_ms")
	const n = 3 * MaxHistogramSamples
	var sum uint64
	for i := uint64(0); i < n; i++ {
		m.record(i)
		sum += i
	}
	got := s.snapshot()[0]
	if got.HistogramCount != n || got.HistogramSum != sum {
		t.Fatalf("count %d sum %d, want %d and %d", got.HistogramCount, got.HistogramSum, n, sum)
	}
	if len(got.Histogram) != MaxHistogramSamples || got.Histogram[0] != n-MaxHistogramSamples || got.Histogram[len(got.Histogram)-1] != n-1 {
		t.Fatalf("kept %d samples from %d to %d, want the last %d in order", len(got.Histogram), got.Histogram[0],
			got.Histogram[len(got.Histogram)-1], MaxHistogramSamples)
	}
	bounds := HistogramBounds()
	if len(got.HistogramBuckets) != len(bounds) {
		t.Fatalf("%d buckets for %d bounds", len(got.HistogramBuckets), len(bounds))
	}
	for i, le := range bounds {
		want := uint64(min(float64(n), float64(uint64(le))+1)) // values 0..n-1 that are ≤ le
		if got.HistogramBuckets[i] != want {
			t.Errorf("bucket le=%v counts %d, want %d", le, got.HistogramBuckets[i], want)
		}
	}
}

func TestHistogramBoundsAreEnvoysDefaults(t *testing.T) {
	t.Parallel()
	want := "[0.5 1 5 10 25 50 100 250 500 1000 2500 5000 10000 30000 60000 300000 600000 1.8e+06 3.6e+06]"
	if got := fmt.Sprint(HistogramBounds()); got != want {
		t.Fatalf("HistogramBounds() = %s, want %s", got, want)
	}
}
