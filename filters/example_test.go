package filters_test

import (
	"errors"
	"fmt"

	"github.com/eventroute/eventroute/filters"
)

func ExampleCompile() {
	r, err := filters.Compile([]byte(`{
		"subscribers": {"accounts": {"cluster": "accounts"}, "audit": {"cluster": "audit"}},
		"routes": [{"name": "transfers", "match": [{"exact": {"type": "转账"}}], "to": "accounts"}],
		"mirrors": [{"name": "audit-bank", "match": [{"prefix": {"source": "/bank"}}], "to": ["audit"]}]
	}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	headers := [][2]string{
		{":method", "POST"}, {":path", "/"}, {"content-type", "application/json"},
		{"ce-specversion", "1.0"}, {"ce-id", "1"}, {"ce-source", "/bank/Bank"}, {"ce-type", "转账"},
	}
	c := r.Classify(headers)
	var batch filters.Batch
	if err := r.Recognize(c, headers, []byte(`{"amount":1200}`), &batch); err != nil {
		fmt.Println(err)
		return
	}
	ev := &batch.Events[0]
	cfg := r.Config()
	route := cfg.Routes[r.Route(ev)]
	fmt.Println(c.Mode, "event routed by", route.Name, "to", cfg.Subscribers[route.Subscriber].Name)
	for _, m := range r.Mirrors(ev, nil) {
		fmt.Println("mirrored by", cfg.Mirrors[m].Name)
	}
	// Output:
	// binary event routed by transfers to accounts
	// mirrored by audit-bank
}

func ExampleConfigError() {
	_, err := filters.Compile([]byte(`{
		"subscribers": {"accounts": {"cluster": "accounts"}},
		"routes": [{"name": "transfers", "match": [{"exact": {}}], "to": "accounts"}]
	}`))
	var ce *filters.ConfigError
	if errors.As(err, &ce) {
		fmt.Println(ce.Path, errors.Is(err, filters.ErrEmptyFilter))
	}
	fmt.Println(err)
	// Output:
	// routes[0].match[0].exact true
	// routes[0].match[0].exact: empty
}
