package filters_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/filters"
	"github.com/eventroute/eventroute/filters/event"
)

// fuzzEvents are probes that compare the behaviour of two compiled configs.
var fuzzEvents = []event.Event{
	{SpecVersion: "1.0", ID: "1", Source: "/bank", Type: "t"},
	{SpecVersion: "1.0", ID: "2", Source: "/bank/Bank", Type: "转账", Subject: "a",
		Extensions: []event.Attr{{Name: "handler", Value: "Account"}}, DataKind: event.DataJSON,
		Data: []byte(`{"amount":1200,"currency":"CNY","tags":["a"],"ok":true}`)},
	{SpecVersion: "1.0", ID: "3", Source: "s", Type: "com.bank.transfer", DataKind: event.DataText, Data: []byte("x")},
}

// FuzzCompile: Compile never panics; every error is a *ConfigError of a known
// kind with a short message; an accepted config compiles to the same Router
// again, and re-encoding it (keys reordered, whitespace and escapes changed)
// compiles to the same configuration with the same matching behaviour.
func FuzzCompile(f *testing.F) {
	f.Add([]byte(`{"subscribers":{"a":{"cluster":"a"}},"routes":[{"name":"r","match":[],"to":"a"}]}`))
	f.Add([]byte(`{"subscribers":{"a":{"cluster":"a","deadLetter":"b"},"b":{"cluster":"b"}},"mirrors":[{"name":"m","match":[{"data":{"path":"x.#(y>1)","gt":1}}],"to":["a","b"]}]}`))
	f.Fuzz(func(t *testing.T, config []byte) {
		r, err := filters.Compile(config)
		if err != nil {
			var ce *filters.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %q is not a *ConfigError", err)
			}
			known := false
			for _, k := range configErrorKinds {
				known = known || errors.Is(err, k)
			}
			if !known {
				t.Fatalf("error %q has an unknown kind", err)
			}
			if len(ce.Detail) > 200 {
				t.Fatalf("error detail is %d bytes long", len(ce.Detail))
			}
			return
		}
		again, err := filters.Compile(config)
		if err != nil || !reflect.DeepEqual(r, again) {
			t.Fatalf("second compile differs (err %v)", err)
		}
		var generic any
		if err := json.Unmarshal(config, &generic); err != nil {
			t.Fatalf("accepted config is not JSON for encoding/json: %v", err)
		}
		reencoded, err := json.Marshal(generic)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := filters.Compile(reencoded)
		if err != nil {
			t.Fatalf("re-encoded config rejected: %v\n%s", err, reencoded)
		}
		if a, b := comparable(r.Config()), comparable(r2.Config()); !reflect.DeepEqual(a, b) {
			t.Fatalf("re-encoded config differs:\n%+v\n%+v", a, b)
		}
		for i := range fuzzEvents {
			ev := &fuzzEvents[i]
			if r.Route(ev) != r2.Route(ev) || !slices.Equal(r.Mirrors(ev, nil), r2.Mirrors(ev, nil)) ||
				r.PublisherAllowed(ev, "p") != r2.PublisherAllowed(ev, "p") {
				t.Fatalf("re-encoded config matches event %d differently", i)
			}
		}
	})
}

// comparable copies cfg with JSON profile attributes sorted: their order
// follows the object's key order, which re-encoding changes.
func comparable(cfg *filters.Config) filters.Config {
	c := *cfg
	c.Recognize.JSON = slices.Clone(c.Recognize.JSON)
	for i := range c.Recognize.JSON {
		attrs := slices.Clone(c.Recognize.JSON[i].Attributes)
		slices.SortFunc(attrs, func(a, b filters.AttributeSource) int { return strings.Compare(a.Attribute, b.Attribute) })
		c.Recognize.JSON[i].Attributes = attrs
	}
	return c
}
