package proxy_test

import (
	"slices"
	"testing"

	"github.com/eventroute/eventroute/hostsim"
	"github.com/eventroute/eventroute/hostsim/admin"
)

// The proxy hands hostsim's histogram buckets to the admin endpoint as they are: both must use the same
// bounds.
func TestHistogramBucketsShareTheAdminBounds(t *testing.T) {
	prom := admin.PrometheusBuckets()
	if !slices.Equal(hostsim.HistogramBounds(), prom[:]) {
		t.Fatalf("hostsim bounds %v, admin bounds %v", hostsim.HistogramBounds(), prom)
	}
}
