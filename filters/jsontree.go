package filters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// kind is the JSON type of a node.
type kind uint8

const (
	kindNull kind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// node is one value of the configuration document, with its JSON path.
// Objects keep their keys in document order; duplicate keys are rejected
// while parsing.
type node struct {
	path  string
	kind  kind
	str   string // string value, or the number's literal text
	b     bool
	items []*node // array elements
	keys  []string
	vals  []*node // object members, parallel to keys
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 64

// parseTree reads exactly one JSON document into a node tree.
func parseTree(doc []byte) (*node, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, &ConfigError{Path: "subscribers", Kind: ErrMissing, Detail: "missing (the configuration is empty)"}
	}
	if !utf8.Valid(doc) {
		return nil, &ConfigError{Kind: ErrBadJSON, Detail: "invalid JSON: not UTF-8"}
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	p := treeParser{dec: dec}
	root, err := p.value("", 0)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &ConfigError{Kind: ErrBadJSON, Detail: fmt.Sprintf("invalid JSON: data after the document at byte %d", dec.InputOffset())}
	}
	return root, nil
}

type treeParser struct{ dec *json.Decoder }

func (p *treeParser) syntaxError(path string) error {
	return &ConfigError{Path: path, Kind: ErrBadJSON, Detail: fmt.Sprintf("invalid JSON near byte %d", p.dec.InputOffset())}
}

func (p *treeParser) value(path string, depth int) (*node, error) {
	if depth > maxDepth {
		return nil, &ConfigError{Path: path, Kind: ErrOutOfRange, Detail: fmt.Sprintf("nested deeper than %d", maxDepth)}
	}
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.syntaxError(path)
	}
	n := &node{path: path}
	switch t := tok.(type) {
	case nil:
		n.kind = kindNull
	case bool:
		n.kind, n.b = kindBool, t
	case json.Number:
		n.kind, n.str = kindNumber, string(t)
	case string:
		n.kind, n.str = kindString, t
	case json.Delim:
		switch t {
		case '[':
			n.kind = kindArray
			for p.dec.More() {
				item, err := p.value(indexPath(path, len(n.items)), depth+1)
				if err != nil {
					return nil, err
				}
				n.items = append(n.items, item)
			}
		case '{':
			n.kind = kindObject
			for p.dec.More() {
				kt, err := p.dec.Token()
				if err != nil {
					return nil, p.syntaxError(path)
				}
				key, ok := kt.(string)
				if !ok {
					return nil, p.syntaxError(path)
				}
				childPath := keyPath(path, key)
				for _, k := range n.keys {
					if k == key {
						return nil, &ConfigError{Path: childPath, Kind: ErrDuplicateKey}
					}
				}
				val, err := p.value(childPath, depth+1)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, val)
			}
		default:
			return nil, p.syntaxError(path)
		}
		if _, err := p.dec.Token(); err != nil { // the closing delimiter
			return nil, p.syntaxError(path)
		}
	default:
		return nil, p.syntaxError(path)
	}
	return n, nil
}

// keyPath appends an object key to a path: "a.b", or a["odd key"] for keys
// that are not plain identifiers.
func keyPath(parent, key string) string {
	plain := key != ""
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			plain = false
			break
		}
	}
	if !plain || len(key) > maxQuoted {
		return parent + "[" + shortQuote(key) + "]"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func indexPath(parent string, i int) string {
	return parent + "[" + strconv.Itoa(i) + "]"
}

// errAt builds a ConfigError for node n.
func errAt(n *node, kind error, format string, args ...any) error {
	return &ConfigError{Path: n.path, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}

// object is a view of an object node that tracks which keys were used, so
// that unknown keys can be reported.
type object struct {
	n *node
}

// asObject checks that n is an object and that every key is in allowed.
func asObject(n *node, allowed ...string) (object, error) {
	if n.kind != kindObject {
		return object{}, wrongType(n, "object")
	}
	for i, k := range n.keys {
		known := false
		for _, a := range allowed {
			if k == a {
				known = true
				break
			}
		}
		if !known {
			return object{}, &ConfigError{Path: n.vals[i].path, Kind: ErrUnknownField}
		}
	}
	return object{n: n}, nil
}

func wrongType(n *node, want string) error {
	return errAt(n, ErrWrongType, "wrong type: want %s, got %s", want, n.kind)
}

// get returns the member named key, or nil. A JSON null counts as absent.
func (o object) get(key string) *node {
	for i, k := range o.n.keys {
		if k == key {
			if o.n.vals[i].kind == kindNull {
				return nil
			}
			return o.n.vals[i]
		}
	}
	return nil
}

// missing reports the absent member key.
func (o object) missing(key string) error {
	return &ConfigError{Path: keyPath(o.n.path, key), Kind: ErrMissing}
}

func (o object) require(key string) (*node, error) {
	v := o.get(key)
	if v == nil {
		return nil, o.missing(key)
	}
	return v, nil
}

func asString(n *node) (string, error) {
	if n.kind != kindString {
		return "", wrongType(n, "string")
	}
	return n.str, nil
}

func asNonEmptyString(n *node) (string, error) {
	s, err := asString(n)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", errAt(n, ErrBadValue, "must not be empty")
	}
	return s, nil
}

func asBool(n *node) (bool, error) {
	if n.kind != kindBool {
		return false, wrongType(n, "boolean")
	}
	return n.b, nil
}

func asArray(n *node) ([]*node, error) {
	if n.kind != kindArray {
		return nil, wrongType(n, "array")
	}
	return n.items, nil
}

func asNumber(n *node) (float64, error) {
	if n.kind != kindNumber {
		return 0, wrongType(n, "number")
	}
	f, err := strconv.ParseFloat(n.str, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, errAt(n, ErrOutOfRange, "number out of range")
	}
	return f, nil
}

// asInt reads an integer in [lo, hi].
func asInt(n *node, lo, hi int64) (int64, error) {
	if n.kind != kindNumber {
		return 0, wrongType(n, "integer")
	}
	i, err := strconv.ParseInt(n.str, 10, 64)
	if err != nil {
		if f, ferr := strconv.ParseFloat(n.str, 64); ferr == nil && f == math.Trunc(f) && math.Abs(f) < 1e18 {
			i = int64(f) // 1e3 or 2.0 are integers written another way
		} else if ferr == nil && f != math.Trunc(f) {
			return 0, wrongType(n, "integer")
		} else {
			return 0, errAt(n, ErrOutOfRange, "out of range [%d, %d]", lo, hi)
		}
	}
	if i < lo || i > hi {
		return 0, errAt(n, ErrOutOfRange, "out of range [%d, %d]", lo, hi)
	}
	return i, nil
}

// asDuration reads a Go duration string that must be > 0.
func asDuration(n *node) (time.Duration, error) {
	s, err := asString(n)
	if err != nil {
		return 0, err
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errAt(n, ErrBadDuration, "bad duration %s (want a Go duration such as \"1.5s\")", shortQuote(s))
	}
	if d <= 0 {
		return 0, errAt(n, ErrOutOfRange, "duration must be > 0")
	}
	return d, nil
}
