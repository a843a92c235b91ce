package filters_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/filters"
)

// exactTypeRoutes is a config with n routes, route i matching type "com.bank.type<i>".
func exactTypeRoutes(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"subscribers":{"accounts":{"cluster":"accounts"}},"routes":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"r%d","match":[{"exact":{"type":"com.bank.type%d"}}],"to":"accounts"}`, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func binaryHeaders(eventType string) [][2]string {
	return [][2]string{
		{":method", "POST"}, {":path", "/events"}, {":authority", "bank.example"},
		{"content-type", "application/json"}, {"ce-specversion", "1.0"}, {"ce-id", "a1b2c3"},
		{"ce-source", "/bank/Bank"}, {"ce-type", eventType}, {"ce-handler", "Account"},
		{"user-agent", "bench"}, {"accept", "*/*"},
	}
}

// binaryRoute classifies, recognizes (headers only) and routes one request.
func binaryRoute(r *filters.Router, headers [][2]string, b *filters.Batch) int {
	c := r.Classify(headers)
	if err := r.Recognize(c, headers, nil, b); err != nil {
		return -2
	}
	return r.Route(&b.Events[0])
}

func mustCompile(tb testing.TB, cfg []byte) *filters.Router {
	tb.Helper()
	r, err := filters.Compile(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func BenchmarkBinaryRoute(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			r := mustCompile(b, exactTypeRoutes(n))
			headers := binaryHeaders(fmt.Sprintf("com.bank.type%d", n-1))
			var batch filters.Batch
			if got := binaryRoute(r, headers, &batch); got != n-1 {
				b.Fatalf("route = %d, want %d", got, n-1)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				binaryRoute(r, headers, &batch)
			}
		})
	}
}

// TestBinaryRouteAllocs keeps the binary-mode header path allocation-free.
func TestBinaryRouteAllocs(t *testing.T) {
	for _, n := range []int{10, 10000} {
		r := mustCompile(t, exactTypeRoutes(n))
		headers := binaryHeaders(fmt.Sprintf("com.bank.type%d", n-1))
		var batch filters.Batch
		if got := binaryRoute(r, headers, &batch); got != n-1 {
			t.Fatalf("routes=%d: route = %d, want %d", n, got, n-1)
		}
		if allocs := testing.AllocsPerRun(100, func() { binaryRoute(r, headers, &batch) }); allocs != 0 {
			t.Errorf("routes=%d: %v allocations per request, want 0", n, allocs)
		}
	}
}

// structuredEvent is a structured-mode body of about size bytes whose type
// selects route target.
func structuredEvent(target string, size int) []byte {
	head := `{"specversion":"1.0","id":"a1b2c3","source":"/bank/Bank","type":"` + target +
		`","handler":"Account","datacontenttype":"application/json","data":{"amount":1200,"currency":"CNY","memo":"`
	tail := `"}}`
	pad := size - len(head) - len(tail)
	if pad < 0 {
		pad = 0
	}
	return []byte(head + strings.Repeat("x", pad) + tail)
}

var structuredHeaders = [][2]string{
	{":method", "POST"}, {":path", "/events"}, {"content-type", "application/cloudevents+json; charset=utf-8"},
}

func structuredMatch(r *filters.Router, body []byte, b *filters.Batch) int {
	c := r.Classify(structuredHeaders)
	if err := r.Recognize(c, structuredHeaders, body, b); err != nil {
		return -2
	}
	return r.Route(&b.Events[0])
}

func BenchmarkStructuredMatch1KiB(b *testing.B) {
	r := mustCompile(b, exactTypeRoutes(1000))
	body := structuredEvent("com.bank.type999", 1024)
	var batch filters.Batch
	if got := structuredMatch(r, body, &batch); got != 999 {
		b.Fatalf("route = %d, want 999", got)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		structuredMatch(r, body, &batch)
	}
}

func BenchmarkStructured64KiB(b *testing.B) {
	r := mustCompile(b, exactTypeRoutes(1000))
	body := structuredEvent("com.bank.type999", 64<<10)
	var batch filters.Batch
	if got := structuredMatch(r, body, &batch); got != 999 {
		b.Fatalf("route = %d, want 999", got)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		structuredMatch(r, body, &batch)
	}
}

// TestDataMatchAllocs keeps data filters allocation-free for unescaped values.
func TestDataMatchAllocs(t *testing.T) {
	r := mustCompile(t, []byte(`{"subscribers":{"s":{"cluster":"s"}},"routes":[
		{"name":"small","match":[{"data":{"path":"amount","lt":100}}],"to":"s"},
		{"name":"big","match":[{"data":{"path":"amount","gt":1000,"in":[1200,5000]}},{"data":{"path":"currency","prefix":"CN"}}],"to":"s"}]}`))
	body := structuredEvent("t", 1024)
	var b filters.Batch
	sh := structuredHeaders
	if err := r.Recognize(r.Classify(sh), sh, body, &b); err != nil {
		t.Fatal(err)
	}
	if got := r.Route(&b.Events[0]); got != 1 {
		t.Fatalf("route = %d, want 1 (big)", got)
	}
	if allocs := testing.AllocsPerRun(100, func() { r.Route(&b.Events[0]) }); allocs != 0 {
		t.Errorf("%v allocations per data match, want 0", allocs)
	}
}

// BenchmarkCompile10000Routes measures plugin start with a large config.
func BenchmarkCompile10000Routes(b *testing.B) {
	cfg := exactTypeRoutes(10000)
	b.SetBytes(int64(len(cfg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filters.Compile(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRouteOnly isolates the route lookup from recognition.
func BenchmarkRouteOnly(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			r := mustCompile(b, exactTypeRoutes(n))
			headers := binaryHeaders(fmt.Sprintf("com.bank.type%d", n-1))
			var batch filters.Batch
			if got := binaryRoute(r, headers, &batch); got != n-1 {
				b.Fatalf("route = %d, want %d", got, n-1)
			}
			ev := &batch.Events[0]
			b.ReportAllocs()
			for b.Loop() {
				r.Route(ev)
			}
		})
	}
}
