package filters

import (
	"math"
	"sort"
	"strings"
)

// topLevelKeys are the fields of pluginConfig (SPEC §3).
var topLevelKeys = []string{"subscribers", "routes", "mirrors", "recognize", "onInvalid", "holdHeaders",
	"routeHeader", "broker", "publishers", "limits"}

// maxInt bounds integer settings so they fit every platform's int.
const maxInt = math.MaxInt32

// Compile parses pluginConfig strictly (SPEC §3) and compiles it into an
// immutable Router. Any fault is a *ConfigError naming the JSON path of the
// fault; test its kind with errors.Is (ErrUnknownField, ErrMissing, ...).
// Zero bytes and {} are errors ("subscribers: missing").
func Compile(config []byte) (*Router, error) {
	root, err := parseTree(config)
	if err != nil {
		return nil, err
	}
	c := compiler{}
	if err := c.config(root); err != nil {
		return nil, err
	}
	return newRouter(c.cfg, c.routeMatch, c.mirrorMatch, c.publisherMatch), nil
}

// compiler accumulates the Config and the compiled matches.
type compiler struct {
	cfg            Config
	subscriberIDs  map[string]int
	routeMatch     []matcher
	mirrorMatch    []matcher
	publisherMatch []matcher
}

func (c *compiler) config(root *node) error {
	top, err := asObject(root, topLevelKeys...)
	if err != nil {
		return err
	}
	cfg := &c.cfg
	*cfg = Config{
		RouteHeader: DefaultRouteHeader,
		Recognize:   Recognize{Binary: true, Structured: true, Batch: true},
		Limits: Limits{MaxBodyBytes: DefaultMaxBodyBytes, MaxBatchEvents: DefaultMaxBatchEvents,
			MaxPendingDeliveries: DefaultMaxPendingDeliveries, MaxPendingBytes: DefaultMaxPendingBytes,
			MaxHops: DefaultMaxHops, HoldTimeout: DefaultHoldTimeout},
	}
	subs, err := top.require("subscribers")
	if err != nil {
		return err
	}
	if err := c.subscribers(subs); err != nil {
		return err
	}
	routes, mirrors := top.get("routes"), top.get("mirrors")
	if routes != nil {
		if err := c.routes(routes); err != nil {
			return err
		}
	}
	if mirrors != nil {
		if err := c.mirrors(mirrors); err != nil {
			return err
		}
	}
	if len(cfg.Routes) == 0 && len(cfg.Mirrors) == 0 {
		return &ConfigError{Path: "routes", Kind: ErrMissing, Detail: "missing: need at least one route or mirror"}
	}
	if n := top.get("recognize"); n != nil {
		if err := c.recognize(n); err != nil {
			return err
		}
	}
	if n := top.get("onInvalid"); n != nil {
		s, err := asString(n)
		if err != nil {
			return err
		}
		switch s {
		case "reject":
			cfg.OnInvalid = OnInvalidReject
		case "pass":
			cfg.OnInvalid = OnInvalidPass
		default:
			return errAt(n, ErrBadValue, "must be \"reject\" or \"pass\"")
		}
	}
	if n := top.get("holdHeaders"); n != nil {
		if cfg.HoldHeaders, err = asBool(n); err != nil {
			return err
		}
	}
	if n := top.get("routeHeader"); n != nil {
		if cfg.RouteHeader, err = routeHeader(n); err != nil {
			return err
		}
	}
	if n := top.get("broker"); n != nil {
		if err := c.broker(n); err != nil {
			return err
		}
	}
	if n := top.get("publishers"); n != nil {
		if err := c.publishers(n); err != nil {
			return err
		}
	}
	if n := top.get("limits"); n != nil {
		if err := c.limits(n); err != nil {
			return err
		}
	}
	return nil
}

// validName: subscriber, route, mirror and profile names appear in metric
// names and headers: ASCII letters, digits, '.', '_' and '-', at most 128.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

const nameRule = "names use ASCII letters, digits, '.', '_' and '-' (1 to 128)"

var subscriberKeys = []string{"cluster", "authority", "path", "timeout", "format", "retry", "deadLetter"}

func (c *compiler) subscribers(n *node) error {
	if n.kind != kindObject {
		return wrongType(n, "object")
	}
	if len(n.keys) == 0 {
		return errAt(n, ErrMissing, "missing: at least one subscriber")
	}
	order := make([]int, len(n.keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return n.keys[order[a]] < n.keys[order[b]] })
	c.subscriberIDs = make(map[string]int, len(n.keys))
	for id, i := range order {
		if !validName(n.keys[i]) {
			return errAt(n.vals[i], ErrBadValue, "bad subscriber name: "+nameRule)
		}
		c.subscriberIDs[n.keys[i]] = id
	}
	c.cfg.Subscribers = make([]Subscriber, len(order))
	deadLetters := make([]*node, len(order))
	for id, i := range order {
		sub, err := c.subscriber(n.keys[i], n.vals[i])
		if err != nil {
			return err
		}
		c.cfg.Subscribers[id] = sub
		deadLetters[id] = object{n: n.vals[i]}.get("deadLetter")
	}
	// A dead-letter chain must end: a loop would pass failed events around forever.
	for id := range c.cfg.Subscribers {
		seen := map[int]bool{id: true}
		for next := c.cfg.Subscribers[id].DeadLetter; next >= 0; next = c.cfg.Subscribers[next].DeadLetter {
			if seen[next] {
				return errAt(deadLetters[id], ErrBadValue, "dead-letter chain loops back to %s", shortQuote(c.cfg.Subscribers[next].Name))
			}
			seen[next] = true
		}
	}
	return nil
}

func (c *compiler) subscriber(name string, n *node) (Subscriber, error) {
	s := Subscriber{Name: name, Authority: name, Path: "/", Timeout: DefaultTimeout,
		Retry: Retry{Attempts: 1, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff}, DeadLetter: -1}
	o, err := asObject(n, subscriberKeys...)
	if err != nil {
		return s, err
	}
	cn, err := o.require("cluster")
	if err != nil {
		return s, err
	}
	if s.Cluster, err = asNonEmptyString(cn); err != nil {
		return s, err
	}
	if !printableASCII(s.Cluster) {
		return s, errAt(cn, ErrBadValue, "cluster must be printable ASCII without spaces")
	}
	if v := o.get("authority"); v != nil {
		if s.Authority, err = asNonEmptyString(v); err != nil {
			return s, err
		}
		if !printableASCII(s.Authority) {
			return s, errAt(v, ErrBadValue, "authority must be printable ASCII without spaces")
		}
	}
	if v := o.get("path"); v != nil {
		if s.Path, err = asString(v); err != nil {
			return s, err
		}
		if !strings.HasPrefix(s.Path, "/") || !printableASCII(s.Path) {
			return s, errAt(v, ErrBadValue, "path must start with / and be printable ASCII without spaces")
		}
		s.PathSet = true
	}
	if v := o.get("timeout"); v != nil {
		if s.Timeout, err = asDuration(v); err != nil {
			return s, err
		}
	}
	if v := o.get("format"); v != nil {
		f, err := asString(v)
		if err != nil {
			return s, err
		}
		switch f {
		case "original":
			s.Format = FormatOriginal
		case "binary":
			s.Format = FormatBinary
		case "structured":
			s.Format = FormatStructured
		default:
			return s, errAt(v, ErrBadValue, "must be \"original\", \"binary\" or \"structured\"")
		}
	}
	if v := o.get("retry"); v != nil {
		if s.Retry, err = retry(v); err != nil {
			return s, err
		}
	}
	if v := o.get("deadLetter"); v != nil {
		dl, err := asNonEmptyString(v)
		if err != nil {
			return s, err
		}
		id, ok := c.subscriberIDs[dl]
		if !ok {
			return s, errAt(v, ErrUnknownSubscriber, "unknown subscriber %s", shortQuote(dl))
		}
		if dl == name {
			return s, errAt(v, ErrBadValue, "a subscriber cannot be its own dead letter")
		}
		s.DeadLetter = id
	}
	return s, nil
}

func retry(n *node) (Retry, error) {
	r := Retry{Attempts: 1, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff}
	o, err := asObject(n, "attempts", "initialBackoff", "maxBackoff")
	if err != nil {
		return r, err
	}
	if v := o.get("attempts"); v != nil {
		a, err := asInt(v, 1, 100)
		if err != nil {
			return r, err
		}
		r.Attempts = int(a)
	}
	if v := o.get("initialBackoff"); v != nil {
		if r.InitialBackoff, err = asDuration(v); err != nil {
			return r, err
		}
	}
	if v := o.get("maxBackoff"); v != nil {
		if r.MaxBackoff, err = asDuration(v); err != nil {
			return r, err
		}
	}
	if r.InitialBackoff > r.MaxBackoff {
		at := o.get("initialBackoff")
		if at == nil {
			at = o.get("maxBackoff")
		}
		return r, errAt(at, ErrOutOfRange, "initialBackoff (%s) must be ≤ maxBackoff (%s)", r.InitialBackoff, r.MaxBackoff)
	}
	return r, nil
}

// printableASCII: non-empty visible ASCII, no spaces.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

func (c *compiler) subscriberRef(n *node) (int, error) {
	name, err := asNonEmptyString(n)
	if err != nil {
		return 0, err
	}
	id, ok := c.subscriberIDs[name]
	if !ok {
		return 0, errAt(n, ErrUnknownSubscriber, "unknown subscriber %s", shortQuote(name))
	}
	return id, nil
}

// ruleName reads a unique route/mirror/profile name.
func ruleName(o object, seen map[string]bool) (string, error) {
	nn, err := o.require("name")
	if err != nil {
		return "", err
	}
	name, err := asString(nn)
	if err != nil {
		return "", err
	}
	if !validName(name) {
		return "", errAt(nn, ErrBadValue, "bad name: "+nameRule)
	}
	if seen[name] {
		return "", errAt(nn, ErrDuplicateName, "duplicate name %s", shortQuote(name))
	}
	seen[name] = true
	return name, nil
}

func (c *compiler) routes(n *node) error {
	items, err := asArray(n)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, item := range items {
		o, err := asObject(item, "name", "match", "to")
		if err != nil {
			return err
		}
		var r Route
		if r.Name, err = ruleName(o, seen); err != nil {
			return err
		}
		m, err := requireMatch(o)
		if err != nil {
			return err
		}
		tn, err := o.require("to")
		if err != nil {
			return err
		}
		if r.Subscriber, err = c.subscriberRef(tn); err != nil {
			return err
		}
		r.NeedsData = m.usesData()
		c.cfg.Routes = append(c.cfg.Routes, r)
		c.routeMatch = append(c.routeMatch, m)
	}
	return nil
}

func (c *compiler) mirrors(n *node) error {
	items, err := asArray(n)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, item := range items {
		o, err := asObject(item, "name", "match", "to", "percent")
		if err != nil {
			return err
		}
		mi := Mirror{Percent: 100}
		if mi.Name, err = ruleName(o, seen); err != nil {
			return err
		}
		m, err := requireMatch(o)
		if err != nil {
			return err
		}
		to, err := o.requireList("to", "subscriber")
		if err != nil {
			return err
		}
		for _, t := range to {
			id, err := c.subscriberRef(t)
			if err != nil {
				return err
			}
			for _, prev := range mi.Subscribers {
				if prev == id {
					return errAt(t, ErrDuplicateName, "subscriber listed twice")
				}
			}
			mi.Subscribers = append(mi.Subscribers, id)
		}
		if v := o.get("percent"); v != nil {
			if mi.Percent, err = asNumber(v); err != nil {
				return err
			}
			if mi.Percent < 0 || mi.Percent > 100 {
				return errAt(v, ErrOutOfRange, "percent must be in [0, 100]")
			}
		}
		mi.NeedsData = m.usesData()
		c.cfg.Mirrors = append(c.cfg.Mirrors, mi)
		c.mirrorMatch = append(c.mirrorMatch, m)
	}
	return nil
}

func (c *compiler) publishers(n *node) error {
	items, err := asArray(n)
	if err != nil {
		return err
	}
	for _, item := range items {
		o, err := asObject(item, "match", "principals")
		if err != nil {
			return err
		}
		m, err := requireMatch(o)
		if err != nil {
			return err
		}
		ps, err := o.requireList("principals", "principal")
		if err != nil {
			return err
		}
		var p Publisher
		for _, pi := range ps {
			s, err := asNonEmptyString(pi)
			if err != nil {
				return err
			}
			for _, prev := range p.Principals {
				if prev == s {
					return errAt(pi, ErrDuplicateName, "principal listed twice")
				}
			}
			p.Principals = append(p.Principals, s)
		}
		c.cfg.Publishers = append(c.cfg.Publishers, p)
		c.publisherMatch = append(c.publisherMatch, m)
	}
	return nil
}

func (c *compiler) recognize(n *node) error {
	o, err := asObject(n, "cloudevents", "json")
	if err != nil {
		return err
	}
	if v := o.get("cloudevents"); v != nil {
		ce, err := asObject(v, "binary", "structured", "batch")
		if err != nil {
			return err
		}
		for _, f := range []struct {
			key string
			dst *bool
		}{{"binary", &c.cfg.Recognize.Binary}, {"structured", &c.cfg.Recognize.Structured}, {"batch", &c.cfg.Recognize.Batch}} {
			if b := ce.get(f.key); b != nil {
				if *f.dst, err = asBool(b); err != nil {
					return err
				}
			}
		}
	}
	if v := o.get("json"); v != nil {
		items, err := asArray(v)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, item := range items {
			p, err := jsonProfile(item, seen)
			if err != nil {
				return err
			}
			c.cfg.Recognize.JSON = append(c.cfg.Recognize.JSON, p)
		}
	}
	return nil
}

func jsonProfile(n *node, seen map[string]bool) (JSONProfile, error) {
	var p JSONProfile
	o, err := asObject(n, "name", "contentTypes", "pathPrefix", "attributes")
	if err != nil {
		return p, err
	}
	if p.Name, err = ruleName(o, seen); err != nil {
		return p, err
	}
	cts, err := o.requireList("contentTypes", "content type")
	if err != nil {
		return p, err
	}
	for _, ctn := range cts {
		ct, err := asNonEmptyString(ctn)
		if err != nil {
			return p, err
		}
		ct = strings.ToLower(strings.TrimSpace(ct))
		slash := strings.IndexByte(ct, '/')
		if slash <= 0 || slash == len(ct)-1 || strings.ContainsAny(ct, "; \t") || !printableASCII(ct) {
			return p, errAt(ctn, ErrBadValue, "want a media type such as application/json, without parameters")
		}
		for _, prev := range p.ContentTypes {
			if prev == ct {
				return p, errAt(ctn, ErrDuplicateName, "content type listed twice")
			}
		}
		p.ContentTypes = append(p.ContentTypes, ct)
	}
	if v := o.get("pathPrefix"); v != nil {
		if p.PathPrefix, err = asString(v); err != nil {
			return p, err
		}
		if !strings.HasPrefix(p.PathPrefix, "/") || strings.ContainsAny(p.PathPrefix, "?#") || !printableASCII(p.PathPrefix) {
			return p, errAt(v, ErrBadValue, "pathPrefix must start with / and hold no query")
		}
	}
	an, err := o.require("attributes")
	if err != nil {
		return p, err
	}
	if an.kind != kindObject {
		return p, wrongType(an, "object")
	}
	for i, name := range an.keys {
		v := an.vals[i]
		if !validAttributeName(name) || name == "data" {
			return p, errAt(v, ErrBadAttributeName, "attribute names are lower-case a-z0-9 (not data)")
		}
		if name == "specversion" {
			return p, errAt(v, ErrBadValue, "specversion of a JSON profile event is always 1.0")
		}
		src := AttributeSource{Attribute: name}
		switch v.kind {
		case kindString:
			if err := checkGJSONPath(v, v.str); err != nil {
				return p, err
			}
			src.Path = v.str
			p.ReadsBody = true
		case kindObject:
			ho, err := asObject(v, "header")
			if err != nil {
				return p, err
			}
			hn, err := ho.require("header")
			if err != nil {
				return p, err
			}
			h, err := asString(hn)
			if err != nil {
				return p, err
			}
			if !validHeaderName(h) {
				return p, errAt(hn, ErrBadValue, "want a lower-case header name")
			}
			src.Header = h
		default:
			return p, wrongType(v, "gjson path string or {\"header\": name}")
		}
		p.Attributes = append(p.Attributes, src)
	}
	for _, required := range []string{"id", "type"} {
		if (object{n: an}).get(required) == nil {
			return p, (object{n: an}).missing(required)
		}
	}
	return p, nil
}

func routeHeader(n *node) (string, error) {
	h, err := asString(n)
	if err != nil {
		return "", err
	}
	if !validHeaderName(h) {
		return "", errAt(n, ErrBadValue, "want a lower-case HTTP header name")
	}
	switch {
	case strings.HasPrefix(h, "ce-"), h == "content-type", h == "content-length", h == "host",
		h == "x-eventroute-hop", h == "transfer-encoding":
		// The header is removed from every request, so it cannot be one the request needs.
		return "", errAt(n, ErrBadValue, "%s is a header requests need", shortQuote(h))
	}
	return h, nil
}

func (c *compiler) broker(n *node) error {
	o, err := asObject(n, "enabled", "ack")
	if err != nil {
		return err
	}
	if v := o.get("enabled"); v != nil {
		if c.cfg.Broker.Enabled, err = asBool(v); err != nil {
			return err
		}
	}
	if v := o.get("ack"); v != nil {
		s, err := asString(v)
		if err != nil {
			return err
		}
		switch s {
		case "accepted":
			c.cfg.Broker.Ack = AckAccepted
		case "delivered":
			c.cfg.Broker.Ack = AckDelivered
		default:
			return errAt(v, ErrBadValue, "must be \"accepted\" or \"delivered\"")
		}
	}
	return nil
}

func (c *compiler) limits(n *node) error {
	o, err := asObject(n, "maxBodyBytes", "maxBatchEvents", "maxPendingDeliveries", "maxPendingBytes", "maxHops", "holdTimeout")
	if err != nil {
		return err
	}
	l := &c.cfg.Limits
	for _, f := range []struct {
		key string
		dst *int
		max int64
	}{
		{"maxBodyBytes", &l.MaxBodyBytes, maxInt},
		{"maxBatchEvents", &l.MaxBatchEvents, maxInt},
		{"maxPendingDeliveries", &l.MaxPendingDeliveries, maxInt},
		{"maxPendingBytes", &l.MaxPendingBytes, maxInt},
		{"maxHops", &l.MaxHops, 255},
	} {
		if v := o.get(f.key); v != nil {
			i, err := asInt(v, 1, f.max)
			if err != nil {
				return err
			}
			*f.dst = int(i)
		}
	}
	if v := o.get("holdTimeout"); v != nil {
		if l.HoldTimeout, err = asDuration(v); err != nil {
			return err
		}
	}
	return nil
}
