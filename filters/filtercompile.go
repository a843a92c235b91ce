package filters

import (
	"strings"
	"unicode/utf8"

	"github.com/eventroute/eventroute/filters/event"
)

// Filter dialects of SPEC §3.1.
var dialects = []string{"exact", "prefix", "suffix", "all", "any", "not", "data"}

// compileMatch compiles a `match` list: every filter must hold; [] holds always.
// requireMatch compiles the match list a route, mirror or publisher rule must have.
func requireMatch(o object) (matcher, error) {
	n, err := o.require("match")
	if err != nil {
		return matcher{}, err
	}
	return compileMatch(n)
}

func compileMatch(n *node) (matcher, error) {
	items, err := asArray(n)
	if err != nil {
		return matcher{}, err
	}
	if len(items) == 0 {
		return matcher{op: opTrue}, nil
	}
	return compileConjunction(items)
}

func compileConjunction(items []*node) (matcher, error) {
	kids := make([]matcher, 0, len(items))
	for _, item := range items {
		m, err := compileFilter(item)
		if err != nil {
			return matcher{}, err
		}
		kids = append(kids, m)
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return matcher{op: opAll, kids: kids}, nil
}

// compileFilter compiles one filter object: exactly one dialect key.
func compileFilter(n *node) (matcher, error) {
	_, err := asObject(n, dialects...)
	if err != nil {
		return matcher{}, err
	}
	if len(n.keys) == 0 {
		return matcher{}, errAt(n, ErrEmptyFilter, "empty filter (want one of exact, prefix, suffix, all, any, not, data)")
	}
	if len(n.keys) > 1 {
		return matcher{}, &ConfigError{Path: n.vals[1].path(), Kind: ErrBadValue,
			Detail: "a filter holds exactly one dialect; put several in a list or in all"}
	}
	v := n.vals[0]
	switch n.keys[0] {
	case "exact":
		return compileAttributes(v, opExact)
	case "prefix":
		return compileAttributes(v, opPrefix)
	case "suffix":
		return compileAttributes(v, opSuffix)
	case "all", "any":
		items, err := asArray(v)
		if err != nil {
			return matcher{}, err
		}
		if len(items) == 0 {
			return matcher{}, errAt(v, ErrEmptyFilter, "empty")
		}
		kids := make([]matcher, 0, len(items))
		for _, item := range items {
			m, err := compileFilter(item)
			if err != nil {
				return matcher{}, err
			}
			kids = append(kids, m)
		}
		if n.keys[0] == "all" {
			return matcher{op: opAll, kids: kids}, nil
		}
		return matcher{op: opAny, kids: kids}, nil
	case "not":
		kid, err := compileFilter(v)
		if err != nil {
			return matcher{}, err
		}
		return matcher{op: opNot, kids: []matcher{kid}}, nil
	default: // "data"
		d, err := compileData(v)
		if err != nil {
			return matcher{}, err
		}
		return matcher{op: opData, data: d}, nil
	}
}

// compileAttributes compiles exact/prefix/suffix: {"attr": "value", ...}, all must hold.
func compileAttributes(n *node, kind op) (matcher, error) {
	if n.kind != kindObject {
		return matcher{}, wrongType(n, "object of attribute names to strings")
	}
	if len(n.keys) == 0 {
		return matcher{}, errAt(n, ErrEmptyFilter, "empty")
	}
	kids := make([]matcher, 0, len(n.keys))
	for i, name := range n.keys {
		v := n.vals[i]
		if !validAttributeName(name) {
			return matcher{}, errAt(v, ErrBadAttributeName, "attribute names are lower-case a-z0-9")
		}
		s, err := asNonEmptyString(v)
		if err != nil {
			return matcher{}, err
		}
		kids = append(kids, matcher{op: kind, attr: attribute{id: event.CoreAttribute(name), name: name}, value: s})
	}
	if len(kids) == 1 {
		return kids[0], nil
	}
	return matcher{op: opAll, kids: kids}, nil
}

// validAttributeName: CloudEvents attribute names are ASCII a-z and 0-9,
// at least one character (SPEC §3.1). Length is capped at 64 (the spec
// recommends ≤ 20).
func validAttributeName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

var dataKeys = []string{"path", "eq", "ne", "gt", "ge", "lt", "le", "in", "exists", "prefix", "suffix"}

// compileData compiles {"path": ..., operators...}.
func compileData(n *node) (*dataCond, error) {
	o, err := asObject(n, dataKeys...)
	if err != nil {
		return nil, err
	}
	pn, err := o.require("path")
	if err != nil {
		return nil, err
	}
	path, err := asString(pn)
	if err != nil {
		return nil, err
	}
	if err := checkGJSONPath(pn, path); err != nil {
		return nil, err
	}
	d := &dataCond{path: path}
	for _, c := range []struct {
		key string
		dst *scalar
		has *bool
	}{{"eq", &d.eq, &d.hasEq}, {"ne", &d.ne, &d.hasNe}} {
		if v := o.get(c.key); v != nil {
			if *c.dst, err = asScalar(v); err != nil {
				return nil, err
			}
			*c.has = true
		}
	}
	for _, c := range []struct {
		key string
		bit uint8
		dst *float64
	}{{"gt", cmpGT, &d.gt}, {"ge", cmpGE, &d.ge}, {"lt", cmpLT, &d.lt}, {"le", cmpLE, &d.le}} {
		if v := o.get(c.key); v != nil {
			if *c.dst, err = asNumber(v); err != nil {
				return nil, err
			}
			d.cmp |= c.bit
		}
	}
	if v := o.get("in"); v != nil {
		items, err := asArray(v)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			return nil, errAt(v, ErrEmptyFilter, "empty")
		}
		for _, item := range items {
			s, err := asScalar(item)
			if err != nil {
				return nil, err
			}
			d.in = append(d.in, s)
		}
		d.hasIn = true
	}
	if v := o.get("exists"); v != nil {
		if d.exists, err = asBool(v); err != nil {
			return nil, err
		}
		d.hasExists = true
	}
	for _, c := range []struct {
		key string
		dst *string
		has *bool
	}{{"prefix", &d.prefix, &d.hasPrefix}, {"suffix", &d.suffix, &d.hasSuffix}} {
		if v := o.get(c.key); v != nil {
			if *c.dst, err = asNonEmptyString(v); err != nil {
				return nil, err
			}
			*c.has = true
		}
	}
	if !d.hasOperator() {
		return nil, errAt(n, ErrEmptyFilter, "empty: no operator (want eq, ne, gt, ge, lt, le, in, exists, prefix or suffix)")
	}
	return d, nil
}

// asScalar reads a string, number or boolean operand.
func asScalar(n *node) (scalar, error) {
	switch n.kind {
	case kindString:
		return scalar{kind: kindString, str: n.str}, nil
	case kindNumber:
		f, err := asNumber(n)
		return scalar{kind: kindNumber, num: f}, err
	case kindBool:
		return scalar{kind: kindBool, b: n.b}, nil
	}
	return scalar{}, wrongType(n, "string, number or boolean")
}

// maxGJSONPath bounds a gjson path's length.
const maxGJSONPath = 256

// checkGJSONPath accepts the part of the gjson path syntax whose meaning is
// unambiguous for reading one value:
//   - dot-separated keys, `\` escapes, `*` and `?` wildcards, `#` (array
//     length), array indexes, `|` as a separator;
//   - queries `#(...)` and `#(...)#` at the start of a component, with
//     balanced parentheses and closed string literals;
//   - the whole path "@this" (the data itself).
//
// It refuses: an empty path or component (`a..b`, leading or trailing `.`),
// a leading `..` (JSON Lines), modifiers (`@reverse`...), literals (`!true`),
// multipaths (`[a,b]`, `{a,b}`), unescaped brackets, braces or parentheses
// outside a query, a dangling `\`, control characters, invalid UTF-8 and
// paths longer than 256 bytes.
func checkGJSONPath(n *node, path string) error {
	bad := func(why string) error { return errAt(n, ErrBadGJSONPath, "bad gjson path: %s", why) }
	switch {
	case path == "":
		return bad("empty")
	case len(path) > maxGJSONPath:
		return bad("longer than 256 bytes")
	case !utf8.ValidString(path):
		return bad("invalid UTF-8")
	case path == "@this":
		return nil
	}
	for i := 0; i < len(path); i++ {
		if path[i] < 0x20 || path[i] == 0x7f {
			return bad("control character")
		}
	}
	atStart := true // at the start of a component
	for i := 0; i < len(path); i++ {
		c := path[i]
		first := atStart
		if atStart {
			switch c {
			case '.', '|':
				return bad("empty component")
			case '@':
				return bad("modifiers are not supported")
			case '!':
				return bad("literals are not supported")
			case '[', '{':
				return bad("multipaths are not supported")
			}
		}
		atStart = false
		switch c {
		case '\\':
			if i+1 >= len(path) {
				return bad("dangling escape")
			}
			i++
		case '.', '|':
			atStart = true
			if i+1 >= len(path) {
				return bad("empty component")
			}
		case '#':
			if first && i+1 < len(path) && path[i+1] == '(' {
				end, ok := queryEnd(path, i+2)
				if !ok {
					return bad("unbalanced query")
				}
				if end == i+2 {
					return bad("empty query")
				}
				i = end // at ')'
				if i+1 < len(path) && path[i+1] == '#' {
					i++
				}
				if i+1 < len(path) && path[i+1] != '.' && path[i+1] != '|' {
					return bad("text after a query")
				}
			}
		case '[', ']', '{', '}', '(', ')', '"':
			return bad("unescaped " + string(c) + " outside a query")
		}
	}
	return nil
}

// queryEnd finds the ')' closing a query whose body starts at i, skipping
// nested parentheses and string literals.
func queryEnd(path string, i int) (int, bool) {
	depth := 0
	for ; i < len(path); i++ {
		switch path[i] {
		case '\\':
			i++
		case '"':
			i++
			for i < len(path) && path[i] != '"' {
				if path[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(path) {
				return 0, false
			}
		case '(':
			depth++
		case ')':
			if depth == 0 {
				return i, true
			}
			depth--
		}
	}
	return 0, false
}

// validHeaderName: an HTTP/2 header name as Envoy hands it over: lower-case
// RFC 7230 token characters, no pseudo-header.
func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}
