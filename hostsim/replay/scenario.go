// Package replay plays a scenario, a list of HTTP requests kept as data, against
// a running hostsim mesh and reports where each request's effects arrived:
// which clusters received how many requests, how fast (from the moment the
// request was published to the moment a recorder cluster received the
// resulting call), and what the publisher got back. It knows nothing about
// the plugin under test, so any proxy-wasm plugin's demo can be written as a
// mesh file plus a scenario file.
package replay

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Scenario is an ordered list of requests to publish.
type Scenario struct {
	// Title is printed above the report.
	Title string
	Steps []Step
}

// Step is one request of a scenario.
type Step struct {
	// Name labels the request's row in the report.
	Name      string
	Method    string
	Authority string
	Path      string
	Headers   [][2]string
	Body      []byte
	// Repeat publishes the request this many times (default 1), so the
	// latency columns have a distribution.
	Repeat int
	// Line is where the step is declared in the scenario file.
	Line int
}

// LoadScenario reads a scenario file. Like mesh files it is strict: an
// unknown key is an error naming the file, line and key. bodyFile paths are
// resolved against the scenario file's directory.
//
//	title: demo
//	requests:
//	  - name: transfer (binary)
//	    method: POST                 # default POST when a body is given, else GET
//	    authority: bank.example      # default "localhost"
//	    path: /events                # default /
//	    headers: {ce-type: 转账}
//	    body: '{"amount": 10}'       # or bodyFile: transfer.json
//	    repeat: 10
func LoadScenario(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scenario file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty scenario", path)
	}
	fail := func(n *yaml.Node, key string, err error) error {
		var ke *keyError
		if errors.As(err, &ke) {
			n, err = ke.node, ke.err
		}
		return fmt.Errorf("%s:%d: %s: %w", path, n.Line, key, err)
	}
	root := doc.Content[0]
	top, err := mapping(root, "title", "requests")
	if err != nil {
		return nil, fail(root, "(top level)", err)
	}
	sc := &Scenario{}
	if t := top["title"]; t != nil {
		sc.Title = t.Value
	}
	reqs := top["requests"]
	if reqs == nil || reqs.Kind != yaml.SequenceNode || len(reqs.Content) == 0 {
		return nil, fail(root, "requests", errors.New("want a non-empty list of requests"))
	}
	for i, n := range reqs.Content {
		key := fmt.Sprintf("requests[%d]", i)
		f, err := mapping(n, "name", "method", "authority", "path", "headers", "body", "bodyFile", "repeat")
		if err != nil {
			return nil, fail(n, key, err)
		}
		st := Step{Name: scalar(f["name"]), Method: scalar(f["method"]), Authority: scalar(f["authority"]),
			Path: scalar(f["path"]), Body: []byte(scalar(f["body"])), Repeat: 1, Line: n.Line}
		if st.Name == "" {
			return nil, fail(n, key+".name", errors.New("required"))
		}
		if bf := f["bodyFile"]; bf != nil {
			if f["body"] != nil {
				return nil, fail(bf, key+".bodyFile", errors.New("give body or bodyFile, not both"))
			}
			b, err := os.ReadFile(filepath.Join(filepath.Dir(path), bf.Value))
			if err != nil {
				return nil, fail(bf, key+".bodyFile", err)
			}
			st.Body = b
		}
		if r := f["repeat"]; r != nil {
			st.Repeat, err = strconv.Atoi(r.Value)
			if err != nil || st.Repeat < 1 || st.Repeat > 10000 {
				return nil, fail(r, key+".repeat", fmt.Errorf("want 1..10000, got %q", r.Value))
			}
		}
		if h := f["headers"]; h != nil {
			if h.Kind != yaml.MappingNode {
				return nil, fail(h, key+".headers", errors.New("want a mapping of header names to values"))
			}
			for j := 0; j+1 < len(h.Content); j += 2 {
				v := h.Content[j+1]
				if v.Kind != yaml.ScalarNode {
					return nil, fail(v, key+".headers."+h.Content[j].Value, errors.New("want a string"))
				}
				st.Headers = append(st.Headers, [2]string{strings.ToLower(h.Content[j].Value), v.Value})
			}
		}
		if st.Method == "" {
			st.Method = "GET"
			if len(st.Body) > 0 {
				st.Method = "POST"
			}
		}
		if st.Authority == "" {
			st.Authority = "localhost"
		}
		if st.Path == "" {
			st.Path = "/"
		}
		if !strings.HasPrefix(st.Path, "/") {
			return nil, fail(f["path"], key+".path", fmt.Errorf("%q must start with /", st.Path))
		}
		sc.Steps = append(sc.Steps, st)
	}
	return sc, nil
}

// mapping returns the values of mapping n by key; an unknown key is a
// *keyError carrying its own position.
func mapping(n *yaml.Node, allowed ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, &keyError{node: n, err: errors.New("want a mapping")}
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			return nil, &keyError{node: n.Content[i], err: fmt.Errorf("unknown key %q (known: %s)", k, strings.Join(allowed, ", "))}
		}
		out[k] = n.Content[i+1]
	}
	return out, nil
}

func scalar(n *yaml.Node) string {
	if n == nil {
		return ""
	}
	return n.Value
}

type keyError struct {
	node *yaml.Node
	err  error
}

// Error implements error.
func (e *keyError) Error() string { return e.err.Error() }
