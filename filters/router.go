package filters

import (
	"strings"
	"unicode/utf8"

	"github.com/eventroute/eventroute/filters/cloudevent"
	"github.com/eventroute/eventroute/filters/event"
	"github.com/tidwall/gjson"
)

// Router is a compiled configuration: it classifies requests, recognizes
// their events and matches them against routes, mirrors and publisher
// rules. It is immutable and safe for concurrent use.
type Router struct {
	cfg        Config
	routes     ruleSet
	mirrors    ruleSet
	publishers ruleSet

	// binaryNeedsBody: a binary-mode event's data must be read (data filters,
	// mirrors or broker mode need it); binaryRouteNeedsBody: a route reads data.
	binaryNeedsBody      bool
	binaryRouteNeedsBody bool
}

func newRouter(cfg Config, routes, mirrors, publishers []matcher) *Router {
	r := &Router{
		cfg:        cfg,
		routes:     newRuleSet(routes),
		mirrors:    newRuleSet(mirrors),
		publishers: newRuleSet(publishers),
	}
	r.binaryRouteNeedsBody = r.routes.usesData()
	r.binaryNeedsBody = r.binaryRouteNeedsBody || r.mirrors.usesData() || r.publishers.usesData() ||
		len(cfg.Mirrors) > 0 || cfg.Broker.Enabled
	return r
}

// Config returns the compiled configuration. It is shared: do not modify it.
func (r *Router) Config() *Config { return &r.cfg }

// Classification is what the request headers alone say about a request.
type Classification struct {
	// Mode is how the request carries its event; event.ModeNone: not an event.
	Mode event.Mode
	// Profile is the index of the JSON profile (Config.Recognize.JSON) when
	// Mode is event.ModeJSON, else -1.
	Profile int
	// NeedsBody: the body must be read to recognize or act on the event
	// (structured, batch, a JSON profile reading the body, or binary mode
	// when a data filter, a mirror or broker mode needs the data).
	NeedsBody bool
	// RouteNeedsBody: the route decision depends on the body. Always false
	// when the config has no routes.
	RouteNeedsBody bool
}

// Classify decides from the request headers whether the request may carry
// an event (SPEC §3.2): CloudEvents modes first, each only if enabled in
// recognize.cloudevents, then the first JSON profile whose content types
// (media type, case-insensitive) and path prefix (query excluded) fit.
// A CloudEvents mode that is disabled falls through to the JSON profiles.
func (r *Router) Classify(headers [][2]string) Classification {
	c := Classification{Profile: -1}
	mode := cloudevent.DetectMode(headers)
	enabled := mode == event.ModeBinary && r.cfg.Recognize.Binary ||
		mode == event.ModeStructured && r.cfg.Recognize.Structured ||
		mode == event.ModeBatch && r.cfg.Recognize.Batch
	hasRoutes := len(r.cfg.Routes) > 0
	if enabled {
		c.Mode = mode
		if mode == event.ModeBinary {
			c.NeedsBody, c.RouteNeedsBody = r.binaryNeedsBody, r.binaryRouteNeedsBody
		} else {
			c.NeedsBody, c.RouteNeedsBody = true, hasRoutes
		}
		return c
	}
	if len(r.cfg.Recognize.JSON) == 0 {
		return c
	}
	var contentType, path string
	for _, h := range headers {
		switch h[0] {
		case "content-type":
			contentType = h[1]
		case ":path":
			path = h[1]
		}
	}
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	media := cloudevent.MediaType(contentType)
	for i := range r.cfg.Recognize.JSON {
		p := &r.cfg.Recognize.JSON[i]
		if !strings.HasPrefix(path, p.PathPrefix) || !hasMediaType(p.ContentTypes, media) {
			continue
		}
		c.Mode, c.Profile = event.ModeJSON, i
		if p.ReadsBody {
			c.NeedsBody, c.RouteNeedsBody = true, hasRoutes
		} else {
			c.NeedsBody, c.RouteNeedsBody = r.binaryNeedsBody, r.binaryRouteNeedsBody
		}
		return c
	}
	return c
}

func hasMediaType(list []string, media string) bool {
	for _, ct := range list {
		if strings.EqualFold(ct, media) {
			return true
		}
	}
	return false
}

// Batch holds the events of one request. Reuse it across requests: its
// storage is kept, and Events is valid until the next Recognize.
type Batch struct {
	// Events read from the request, in request order.
	Events []event.Event
}

// Recognize reads the events of a classified request into b. In binary mode
// body may be nil when the classification does not need it. Invalid events
// return the cloudevent package's *cloudevent.InvalidError. A JSON profile
// request whose body is not JSON or lacks id or type leaves b.Events empty
// and returns nil: it is not an event.
func (r *Router) Recognize(c Classification, headers [][2]string, body []byte, b *Batch) error {
	switch c.Mode {
	case event.ModeBinary:
		ev := b.one()
		return cloudevent.ReadBinary(headers, body, ev)
	case event.ModeStructured:
		ev := b.one()
		return cloudevent.ReadStructured(body, ev)
	case event.ModeBatch:
		evs, err := cloudevent.ReadBatch(body, r.cfg.Limits.MaxBatchEvents, b.Events[:0])
		b.Events = evs
		return err
	case event.ModeJSON:
		b.Events = b.Events[:0]
		if c.Profile < 0 || c.Profile >= len(r.cfg.Recognize.JSON) {
			return nil
		}
		ev := b.one()
		if !readProfile(&r.cfg.Recognize.JSON[c.Profile], headers, body, ev) {
			b.Events = b.Events[:0]
		}
		return nil
	}
	b.Events = b.Events[:0]
	return nil
}

// one makes b hold exactly one reset event and returns it.
func (b *Batch) one() *event.Event {
	if cap(b.Events) == 0 {
		b.Events = make([]event.Event, 1)
	}
	b.Events = b.Events[:1]
	b.Events[0].Reset()
	return &b.Events[0]
}

// readProfile reads a plain JSON event. It reports false when the event has
// no usable id or type (or, when it reads the body, the body is not JSON).
func readProfile(p *JSONProfile, headers [][2]string, body []byte, ev *event.Event) bool {
	if p.ReadsBody && !gjson.ValidBytes(body) {
		return false
	}
	ev.SpecVersion = "1.0"
	for _, a := range p.Attributes {
		var v string
		var ok bool
		if a.Header != "" {
			v, ok = headerValue(headers, a.Header)
		} else {
			v, ok = attributeFromJSON(gjson.GetBytes(body, a.Path))
		}
		if !ok || !validAttributeValue(v) {
			continue
		}
		ev.SetAttribute(a.Attribute, v)
	}
	if ev.ID == "" || ev.Type == "" {
		return false
	}
	if len(body) > 0 && gjson.ValidBytes(body) {
		ev.Data, ev.DataKind = body, event.DataJSON
	}
	return true
}

func headerValue(headers [][2]string, name string) (string, bool) {
	for _, h := range headers {
		if h[0] == name {
			return h[1], true
		}
	}
	return "", false
}

// attributeFromJSON turns a JSON scalar into an attribute value: strings as
// their content, numbers and booleans as written. Objects, arrays and null
// are not attribute values.
func attributeFromJSON(res gjson.Result) (string, bool) {
	switch res.Type {
	case gjson.String:
		return res.Str, true
	case gjson.Number, gjson.True, gjson.False:
		return res.Raw, true
	}
	return "", false
}

// validAttributeValue: non-empty valid UTF-8 without control characters
// (CloudEvents String values).
func validAttributeValue(v string) bool {
	if v == "" || !utf8.ValidString(v) {
		return false
	}
	for _, c := range v {
		if c < 0x20 || c >= 0x7f && c <= 0x9f {
			return false
		}
	}
	return true
}

// Route returns the index of the first route whose match holds, or -1.
// Runs of routes that share an exact attribute are looked up in a map, so
// the cost does not grow with the number of such routes.
func (r *Router) Route(ev *event.Event) int { return r.routes.first(ev) }

// Mirrors appends the indexes of every mirror whose match holds (config
// order) to dst and returns it. Sampling by percent is the caller's.
func (r *Router) Mirrors(ev *event.Event, dst []int) []int { return r.mirrors.all(ev, dst) }

// PublisherAllowed reports whether principal may publish ev: false iff some
// publisher rule matches the event and does not list the principal. When
// several rules match, the principal must be listed in every one of them.
// An event that matches no rule is allowed.
func (r *Router) PublisherAllowed(ev *event.Event, principal string) bool {
	for si := range r.publishers.segs {
		seg := &r.publishers.segs[si]
		lo, hi := seg.lo, seg.hi
		if seg.index != nil {
			v, ok := seg.attr.get(ev)
			if !ok {
				continue
			}
			for _, i := range seg.index[v] {
				if r.publishers.rules[i].match(ev) && !listed(r.cfg.Publishers[i].Principals, principal) {
					return false
				}
			}
			continue
		}
		for i := lo; i < hi; i++ {
			if r.publishers.rules[i].match(ev) && !listed(r.cfg.Publishers[i].Principals, principal) {
				return false
			}
		}
	}
	return true
}

func listed(principals []string, p string) bool {
	for _, q := range principals {
		if q == p {
			return true
		}
	}
	return false
}
