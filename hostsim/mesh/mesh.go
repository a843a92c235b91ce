// Package mesh reads hostsim mesh files: the YAML that describes one
// Envoy-like proxy (listener, admin endpoint, HTTP filter chain of proxy-wasm
// plugins, route table and clusters) for `hostsim serve`.
//
// Parsing is strict: an unknown key, a wrong type, a missing required field or
// a route naming an unknown cluster is an error that names the file, the line
// and the key path, e.g.
//
//	demo.yaml:12: clusters.audit: unknown key "recoder"
//
// Relative file names inside a mesh file (wasm modules, plugin
// configurations) are resolved against the working directory, as Envoy
// resolves its `filename` data sources.
package mesh

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultClusterTimeout is a cluster's timeout when the mesh file gives none
// (Envoy's default route timeout).
const DefaultClusterTimeout = 15 * time.Second

// Mesh is a parsed, validated mesh file.
type Mesh struct {
	// File is the path the mesh was read from (used in messages).
	File string
	// Listen is the proxy listener address (host:port).
	Listen Setting[string]
	// Admin is the admin endpoint address (host:port); empty disables it.
	Admin Setting[string]
	// Principal is the downstream peer identity (URI SAN) shown to plugins.
	Principal string
	// Plugins is the HTTP filter chain, in order.
	Plugins []Plugin
	// Routes is the route table, evaluated after the chain; first match wins.
	Routes []Route
	// Clusters are the upstreams by name, in file order.
	Clusters []Cluster
}

// Setting is a value read from the mesh file together with where it was read.
type Setting[T any] struct {
	Value T
	// Line is the 1-based line of the value in the mesh file (0 when absent).
	Line int
}

// Plugin is one proxy-wasm HTTP filter of the chain.
type Plugin struct {
	// Name is the plugin name (Envoy PluginConfig.name); also the default root id.
	Name string
	// RootID and VMID are Envoy's root_id and vm_config.vm_id.
	RootID, VMID string
	// Wasm is the module's path as written in the mesh file.
	Wasm Setting[string]
	// Configuration is the plugin configuration bytes (from `config` or `configInline`).
	Configuration []byte
	// VMConfiguration is the VM configuration bytes (`vmConfig`), usually empty.
	VMConfiguration []byte
	// AllowOnHeadersStopIteration is Envoy's PluginConfig field of that name.
	AllowOnHeadersStopIteration bool
	// FailOpen lets requests continue when the plugin's VM has failed.
	FailOpen bool
	// EnvoyVersion is the emulated host release ("1.33".."1.39"; empty = fixed host).
	EnvoyVersion string
	// Environment is vm_config.environment_variables.
	Environment map[string]string
	// Line is where the plugin is declared.
	Line int
}

// Route is one entry of the route table.
type Route struct {
	Match   RouteMatch
	Cluster string
	Line    int
}

// RouteMatch holds the conditions of a route; every condition given must hold.
// An empty match matches every request.
type RouteMatch struct {
	// Authority matches :authority exactly (case-insensitive, port optional).
	Authority string
	// Prefix matches the start of :path.
	Prefix string
	// Path matches :path exactly (query string excluded).
	Path string
	// Header matches a request header.
	Header *HeaderMatch
}

// HeaderMatch matches one request header by name: its value equals Exact, or,
// when Exact is empty, the header is present.
type HeaderMatch struct {
	Name  string
	Exact string
}

// Cluster is a named upstream: real endpoints or a built-in recorder.
type Cluster struct {
	Name string
	// Endpoints are host:port addresses balanced round-robin (from `address` or `endpoints`).
	Endpoints []string
	// Recorder makes the cluster a built-in subscriber that answers 202 and records requests.
	Recorder bool
	// Timeout bounds connect plus response for requests routed or dispatched to the cluster.
	Timeout time.Duration
	Line    int
}

// Error is a mesh-file fault at a position.
type Error struct {
	File string
	Line int
	// Path is the key path of the fault, e.g. "plugins[0].wasm".
	Path string
	Err  error
}

// Error implements error as "file:line: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// ErrUnknownKey, ErrMissing and ErrInvalid classify mesh-file errors.
var (
	ErrUnknownKey = errors.New("unknown key")
	ErrMissing    = errors.New("required")
	ErrInvalid    = errors.New("invalid value")
)

// Load reads and validates the mesh file at path.
func Load(path string) (*Mesh, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mesh file: %w", err)
	}
	return Parse(path, data)
}

// Parse validates mesh-file bytes; file names the source in errors.
func Parse(file string, data []byte) (*Mesh, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{File: file, Line: yamlErrorLine(err), Err: fmt.Errorf("%w: %s", ErrInvalid, yamlErrorText(err))}
	}
	p := parser{file: file}
	m := p.mesh(&doc)
	if p.err != nil {
		return nil, p.err
	}
	return m, nil
}

type parser struct {
	file string
	err  error
}

func (p *parser) fail(n *yaml.Node, path string, err error) {
	p.failLine(line(n), path, err)
}

// failLine records the first error only: later ones are usually consequences.
func (p *parser) failLine(line int, path string, err error) {
	if p.err == nil {
		p.err = &Error{File: p.file, Line: line, Path: path, Err: err}
	}
}

// fields checks that n is a mapping whose keys are all in allowed and returns
// the values by key.
func (p *parser) fields(n *yaml.Node, path string, allowed ...string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	if n == nil || p.err != nil {
		return out
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, path, fmt.Errorf("%w: want a mapping, got %s", ErrInvalid, kindName(n)))
		return out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !contains(allowed, k.Value) {
			p.fail(k, path, fmt.Errorf("%w %q (known: %s)", ErrUnknownKey, k.Value, strings.Join(allowed, ", ")))
			return out
		}
		if _, dup := out[k.Value]; dup {
			p.fail(k, path, fmt.Errorf("%w: duplicate key %q", ErrInvalid, k.Value))
			return out
		}
		out[k.Value] = v
	}
	return out
}

func (p *parser) str(n *yaml.Node, path string) string {
	if n == nil || p.err != nil {
		return ""
	}
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.fail(n, path, fmt.Errorf("%w: want a string, got %s", ErrInvalid, kindName(n)))
		return ""
	}
	return n.Value
}

func (p *parser) boolean(n *yaml.Node, path string) bool {
	if n == nil || p.err != nil {
		return false
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&b) != nil {
		p.fail(n, path, fmt.Errorf("%w: want true or false, got %q", ErrInvalid, n.Value))
	}
	return b
}

func (p *parser) seq(n *yaml.Node, path string) []*yaml.Node {
	if n == nil || p.err != nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.fail(n, path, fmt.Errorf("%w: want a list, got %s", ErrInvalid, kindName(n)))
		return nil
	}
	return n.Content
}

func (p *parser) address(n *yaml.Node, path string) string {
	s := p.str(n, path)
	if p.err != nil || n == nil {
		return s
	}
	host, port, err := net.SplitHostPort(s)
	if err == nil {
		var pn int
		pn, err = strconv.Atoi(port)
		if err == nil && (pn < 0 || pn > 65535) {
			err = errors.New("port out of range")
		}
	}
	if err == nil && host == "" {
		err = errors.New("missing host")
	}
	if err != nil {
		p.fail(n, path, fmt.Errorf("%w: address %q: want host:port (%v)", ErrInvalid, s, err))
	}
	return s
}

func (p *parser) mesh(doc *yaml.Node) *Mesh {
	m := &Mesh{File: p.file}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.fail(doc, "", fmt.Errorf("%w: empty mesh file", ErrMissing))
		return m
	}
	root := doc.Content[0]
	f := p.fields(root, "(top level)", "listen", "admin", "principal", "plugins", "routes", "clusters")
	if f["listen"] == nil {
		p.fail(root, "listen", ErrMissing)
	}
	m.Listen = Setting[string]{Value: p.address(f["listen"], "listen"), Line: line(f["listen"])}
	if f["admin"] != nil {
		m.Admin = Setting[string]{Value: p.address(f["admin"], "admin"), Line: line(f["admin"])}
	}
	m.Principal = p.str(f["principal"], "principal")
	m.Clusters = p.clusters(f["clusters"])
	for i, n := range p.seq(f["plugins"], "plugins") {
		m.Plugins = append(m.Plugins, p.plugin(n, fmt.Sprintf("plugins[%d]", i)))
	}
	if f["routes"] == nil {
		p.fail(root, "routes", ErrMissing)
	}
	known := map[string]bool{}
	for _, c := range m.Clusters {
		known[c.Name] = true
	}
	for i, n := range p.seq(f["routes"], "routes") {
		m.Routes = append(m.Routes, p.route(n, fmt.Sprintf("routes[%d]", i), known))
	}
	names := map[string]bool{}
	for i, pl := range m.Plugins {
		if p.err == nil && names[pl.Name] {
			p.failLine(pl.Line, fmt.Sprintf("plugins[%d].name", i), fmt.Errorf("%w: duplicate plugin name %q", ErrInvalid, pl.Name))
		}
		names[pl.Name] = true
	}
	return m
}

func (p *parser) plugin(n *yaml.Node, path string) Plugin {
	f := p.fields(n, path, "name", "rootId", "vmId", "wasm", "config", "configInline", "vmConfig",
		"allowOnHeadersStopIteration", "failOpen", "envoyVersion", "environment")
	pl := Plugin{Line: line(n)}
	pl.Name = p.str(f["name"], path+".name")
	if p.err == nil && pl.Name == "" {
		p.fail(n, path+".name", ErrMissing)
	}
	pl.RootID = p.str(f["rootId"], path+".rootId")
	pl.VMID = p.str(f["vmId"], path+".vmId")
	pl.Wasm = Setting[string]{Value: p.str(f["wasm"], path+".wasm"), Line: line(f["wasm"])}
	if p.err == nil && pl.Wasm.Value == "" {
		p.fail(n, path+".wasm", ErrMissing)
	}
	if f["config"] != nil && f["configInline"] != nil {
		p.fail(f["configInline"], path+".configInline", fmt.Errorf("%w: give either config or configInline, not both", ErrInvalid))
	}
	if cfg := p.str(f["config"], path+".config"); cfg != "" && p.err == nil {
		data, err := os.ReadFile(cfg)
		if err != nil {
			p.fail(f["config"], path+".config", err)
		}
		pl.Configuration = data
	}
	if f["configInline"] != nil && p.err == nil {
		pl.Configuration = p.inlineJSON(f["configInline"], path+".configInline")
	}
	if f["vmConfig"] != nil && p.err == nil {
		pl.VMConfiguration = p.inlineJSON(f["vmConfig"], path+".vmConfig")
	}
	pl.AllowOnHeadersStopIteration = p.boolean(f["allowOnHeadersStopIteration"], path+".allowOnHeadersStopIteration")
	pl.FailOpen = p.boolean(f["failOpen"], path+".failOpen")
	pl.EnvoyVersion = p.str(f["envoyVersion"], path+".envoyVersion")
	if v := pl.EnvoyVersion; v != "" && p.err == nil && !validVersion(v) {
		p.fail(f["envoyVersion"], path+".envoyVersion", fmt.Errorf("%w: %q: want a release like \"1.33\" or \"1.39\"", ErrInvalid, v))
	}
	if env := f["environment"]; env != nil {
		pl.Environment = map[string]string{}
		if env.Kind != yaml.MappingNode {
			p.fail(env, path+".environment", fmt.Errorf("%w: want a mapping of strings", ErrInvalid))
		}
		for i := 0; p.err == nil && i+1 < len(env.Content); i += 2 {
			k := env.Content[i].Value
			pl.Environment[k] = p.str(env.Content[i+1], path+".environment."+k)
		}
	}
	return pl
}

// inlineJSON turns a YAML value into JSON bytes; a string is taken verbatim.
func (p *parser) inlineJSON(n *yaml.Node, path string) []byte {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		return []byte(n.Value)
	}
	var v any
	if err := n.Decode(&v); err != nil {
		p.fail(n, path, fmt.Errorf("%w: %v", ErrInvalid, err))
		return nil
	}
	data, err := json.Marshal(jsonable(v))
	if err != nil {
		p.fail(n, path, fmt.Errorf("%w: not representable as JSON: %v", ErrInvalid, err))
		return nil
	}
	return data
}

// jsonable converts YAML-decoded maps with non-string keys into JSON objects.
func jsonable(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = jsonable(e)
		}
		return t
	case map[any]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case []any:
		for i, e := range t {
			t[i] = jsonable(e)
		}
		return t
	default:
		return v
	}
}

func (p *parser) route(n *yaml.Node, path string, clusters map[string]bool) Route {
	f := p.fields(n, path, "match", "cluster")
	r := Route{Line: line(n)}
	r.Cluster = p.str(f["cluster"], path+".cluster")
	if p.err == nil && r.Cluster == "" {
		p.fail(n, path+".cluster", ErrMissing)
	}
	if p.err == nil && !clusters[r.Cluster] {
		p.fail(f["cluster"], path+".cluster", fmt.Errorf("%w: no cluster named %q", ErrInvalid, r.Cluster))
	}
	if f["match"] == nil {
		p.fail(n, path+".match", ErrMissing)
	}
	mf := p.fields(f["match"], path+".match", "authority", "prefix", "path", "header")
	r.Match.Authority = p.str(mf["authority"], path+".match.authority")
	r.Match.Prefix = p.str(mf["prefix"], path+".match.prefix")
	r.Match.Path = p.str(mf["path"], path+".match.path")
	if h := mf["header"]; h != nil {
		hf := p.fields(h, path+".match.header", "name", "exact", "present")
		hm := &HeaderMatch{Name: strings.ToLower(p.str(hf["name"], path+".match.header.name"))}
		if p.err == nil && hm.Name == "" {
			p.fail(h, path+".match.header.name", ErrMissing)
		}
		hm.Exact = p.str(hf["exact"], path+".match.header.exact")
		if hf["present"] != nil && !p.boolean(hf["present"], path+".match.header.present") && p.err == nil {
			p.fail(hf["present"], path+".match.header.present", fmt.Errorf("%w: only present: true is supported", ErrInvalid))
		}
		r.Match.Header = hm
	}
	for _, k := range []string{"prefix", "path"} {
		if v := mf[k]; v != nil && p.err == nil && !strings.HasPrefix(v.Value, "/") {
			p.fail(v, path+".match."+k, fmt.Errorf("%w: %q must start with /", ErrInvalid, v.Value))
		}
	}
	return r
}

func (p *parser) clusters(n *yaml.Node) []Cluster {
	if n == nil {
		p.fail(nil, "clusters", ErrMissing)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.fail(n, "clusters", fmt.Errorf("%w: want a mapping of cluster names", ErrInvalid))
		return nil
	}
	var out []Cluster
	for i := 0; p.err == nil && i+1 < len(n.Content); i += 2 {
		name, v := n.Content[i].Value, n.Content[i+1]
		path := "clusters." + name
		for _, c := range out {
			if c.Name == name {
				p.fail(n.Content[i], path, fmt.Errorf("%w: duplicate cluster", ErrInvalid))
			}
		}
		f := p.fields(v, path, "address", "endpoints", "recorder", "timeout")
		c := Cluster{Name: name, Line: line(n.Content[i]), Timeout: DefaultClusterTimeout}
		if a := f["address"]; a != nil {
			c.Endpoints = append(c.Endpoints, p.address(a, path+".address"))
		}
		for j, e := range p.seq(f["endpoints"], path+".endpoints") {
			c.Endpoints = append(c.Endpoints, p.address(e, fmt.Sprintf("%s.endpoints[%d]", path, j)))
		}
		c.Recorder = p.boolean(f["recorder"], path+".recorder")
		if t := f["timeout"]; t != nil && p.err == nil {
			d, err := time.ParseDuration(p.str(t, path+".timeout"))
			if err == nil && d <= 0 {
				err = errors.New("must be positive")
			}
			if err != nil && p.err == nil {
				p.fail(t, path+".timeout", fmt.Errorf("%w: %v", ErrInvalid, err))
			}
			c.Timeout = d
		}
		switch {
		case p.err != nil:
		case f["address"] != nil && f["endpoints"] != nil:
			p.fail(v, path, fmt.Errorf("%w: give address or endpoints, not both", ErrInvalid))
		case c.Recorder && len(c.Endpoints) > 0:
			p.fail(v, path, fmt.Errorf("%w: a recorder cluster has no address", ErrInvalid))
		case !c.Recorder && len(c.Endpoints) == 0:
			p.fail(v, path, fmt.Errorf("%w: want address, endpoints or recorder: true", ErrMissing))
		}
		out = append(out, c)
	}
	return out
}

// Cluster returns the cluster with the given name.
func (m *Mesh) Cluster(name string) (Cluster, bool) {
	for _, c := range m.Clusters {
		if c.Name == name {
			return c, true
		}
	}
	return Cluster{}, false
}

// Recorders returns the names of the recorder clusters, sorted.
func (m *Mesh) Recorders() []string {
	var out []string
	for _, c := range m.Clusters {
		if c.Recorder {
			out = append(out, c.Name)
		}
	}
	sort.Strings(out)
	return out
}

// At builds an Error for a setting of this mesh file.
func (m *Mesh) At(line int, path string, err error) error {
	return &Error{File: m.File, Line: line, Path: path, Err: err}
}

func validVersion(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	if _, err := strconv.Atoi(major); err != nil {
		return false
	}
	minor, _, _ = strings.Cut(minor, ".")
	_, err := strconv.Atoi(minor)
	return err == nil
}

func line(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	return n.Line
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	default:
		return "an alias"
	}
}

// yamlErrorLine extracts the line from a yaml.v3 syntax error ("yaml: line 3: ...").
func yamlErrorLine(err error) int {
	s := err.Error()
	_, rest, ok := strings.Cut(s, "line ")
	if !ok {
		return 0
	}
	num, _, _ := strings.Cut(rest, ":")
	n, _ := strconv.Atoi(num)
	return n
}

func yamlErrorText(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(s, ": "); strings.HasPrefix(s, "line ") && i > 0 {
		s = s[i+2:]
	}
	return s
}
