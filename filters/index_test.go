package filters

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/filters/event"
)

// randomFilter writes a random filter over a small value domain so that
// rules collide often.
func randomFilter(rng *rand.Rand, depth int) string {
	attrs := []string{"type", "source", "subject", "region"}
	val := func() string { return fmt.Sprintf("v%d", rng.IntN(3)) }
	switch k := rng.IntN(10); {
	case k < 5:
		if rng.IntN(4) == 0 {
			return fmt.Sprintf(`{"exact":{"type":%q,%q:%q}}`, val(), attrs[1+rng.IntN(3)], val())
		}
		return fmt.Sprintf(`{"exact":{%q:%q}}`, attrs[rng.IntN(4)], val())
	case k == 5:
		return fmt.Sprintf(`{"prefix":{%q:"v"}}`, attrs[rng.IntN(4)])
	case k == 6:
		return fmt.Sprintf(`{"suffix":{%q:%q}}`, attrs[rng.IntN(4)], fmt.Sprint(rng.IntN(3)))
	case k == 7 && depth < 2:
		return fmt.Sprintf(`{"not":%s}`, randomFilter(rng, depth+1))
	case k == 8 && depth < 2:
		return fmt.Sprintf(`{"any":[%s,%s]}`, randomFilter(rng, depth+1), randomFilter(rng, depth+1))
	case depth < 2:
		return fmt.Sprintf(`{"all":[%s,%s]}`, randomFilter(rng, depth+1), randomFilter(rng, depth+1))
	}
	return `{"exact":{"type":"v0"}}`
}

// randomConfig builds n routes and n mirrors; most are exact-type routes so
// that long indexable runs form, broken up by other rules.
func randomConfig(rng *rand.Rand, n int) []byte {
	var routes, mirrors []string
	for i := range n {
		var match []string
		switch rng.IntN(6) {
		case 0, 1, 2:
			match = []string{fmt.Sprintf(`{"exact":{"type":"v%d"}}`, rng.IntN(4))}
			if rng.IntN(3) == 0 {
				match = append(match, randomFilter(rng, 1))
			}
		case 3:
			// empty match list: matches everything
		default:
			for range 1 + rng.IntN(2) {
				match = append(match, randomFilter(rng, 0))
			}
		}
		m := "[" + strings.Join(match, ",") + "]"
		routes = append(routes, fmt.Sprintf(`{"name":"r%d","match":%s,"to":"s"}`, i, m))
		mirrors = append(mirrors, fmt.Sprintf(`{"name":"m%d","match":%s,"to":["s"]}`, i, m))
	}
	return []byte(`{"subscribers":{"s":{"cluster":"s"}},"routes":[` + strings.Join(routes, ",") +
		`],"mirrors":[` + strings.Join(mirrors, ",") + `]}`)
}

func randomEvent(rng *rand.Rand) *event.Event {
	ev := &event.Event{SpecVersion: "1.0", ID: "1", Source: "v0", Type: fmt.Sprintf("v%d", rng.IntN(5))}
	if rng.IntN(2) == 0 {
		ev.Source = fmt.Sprintf("v%d", rng.IntN(3))
	}
	if rng.IntN(2) == 0 {
		ev.Subject = fmt.Sprintf("v%d", rng.IntN(3))
	}
	if rng.IntN(2) == 0 {
		ev.Extensions = append(ev.Extensions, event.Attr{Name: "region", Value: fmt.Sprintf("v%d", rng.IntN(3))})
	}
	return ev
}

// TestIndexAgreesWithScan checks that the indexed rule sets give exactly the
// answers of trying every rule in config order.
func TestIndexAgreesWithScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	indexed := 0
	for round := range 300 {
		r, err := Compile(randomConfig(rng, 1+rng.IntN(40)))
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for _, s := range r.routes.segs {
			if s.index != nil {
				indexed++
			}
		}
		for range 30 {
			ev := randomEvent(rng)
			want := -1
			var wantAll []int
			for i := range r.routes.rules {
				if r.routes.rules[i].match(ev) {
					if want < 0 {
						want = i
					}
				}
				if r.mirrors.rules[i].match(ev) {
					wantAll = append(wantAll, i)
				}
			}
			if got := r.Route(ev); got != want {
				t.Fatalf("round %d: Route = %d, scan says %d (event %+v)", round, got, want, ev)
			}
			if got := r.Mirrors(ev, nil); !reflect.DeepEqual(got, wantAll) {
				t.Fatalf("round %d: Mirrors = %v, scan says %v (event %+v)", round, got, wantAll, ev)
			}
		}
	}
	if indexed == 0 {
		t.Fatal("no indexed segment was built: the test does not exercise the index")
	}
}

// TestIndexSegments checks that runs of exact routes are indexed and that
// short runs are scanned.
func TestIndexSegments(t *testing.T) {
	cfg := `{"subscribers":{"s":{"cluster":"s"}},"routes":[
		{"name":"a","match":[{"exact":{"type":"1"}}],"to":"s"},
		{"name":"b","match":[{"exact":{"type":"2","source":"x"}}],"to":"s"},
		{"name":"c","match":[{"exact":{"type":"3"}},{"prefix":{"source":"/"}}],"to":"s"},
		{"name":"d","match":[{"all":[{"exact":{"type":"4"}}]}],"to":"s"},
		{"name":"e","match":[],"to":"s"},
		{"name":"f","match":[{"exact":{"source":"1"}}],"to":"s"},
		{"name":"g","match":[{"exact":{"source":"2"}}],"to":"s"}]}`
	r, err := Compile([]byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	segs := r.routes.segs
	if len(segs) != 2 {
		t.Fatalf("got %d segments, want 2 (an indexed run a-d, a scan e-g)", len(segs))
	}
	if segs[0].index == nil || segs[0].attr.name != "type" || segs[0].lo != 0 || segs[0].hi != 4 {
		t.Errorf("first segment = [%d,%d) attr %q indexed %v, want [0,4) on type", segs[0].lo, segs[0].hi, segs[0].attr.name, segs[0].index != nil)
	}
	if segs[1].index != nil || segs[1].lo != 4 || segs[1].hi != 7 {
		t.Errorf("second segment = [%d,%d) indexed %v, want a scan of [4,7)", segs[1].lo, segs[1].hi, segs[1].index != nil)
	}
}
