package filters

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"
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

// node is one value of the configuration document. It knows its place
// (parent and key or index), so its JSON path is built only for an error.
// Objects keep their keys in document order; duplicate keys are rejected
// while parsing.
type node struct {
	parent *node
	key    string // member name in the parent object
	index  int    // element index in the parent array, -1 for object members
	kind   kind
	str    string // string value, or the number's literal text
	b      bool
	items  []*node // array elements
	keys   []string
	vals   []*node // object members, parallel to keys
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
	if !json.Valid(doc) {
		return nil, locateSyntaxError(doc)
	}
	return build(nil, "", -1, gjson.ParseBytes(doc), 0)
}

// build turns a gjson value of a valid document into a node; index < 0
// means the value is parent's member key.
func build(parent *node, key string, index int, r gjson.Result, depth int) (*node, error) {
	n := &node{parent: parent, key: key, index: index}
	if depth > maxDepth {
		return nil, &ConfigError{Path: n.path(), Kind: ErrOutOfRange, Detail: fmt.Sprintf("nested deeper than %d", maxDepth)}
	}
	var err error
	switch {
	case r.Type == gjson.Null:
		n.kind = kindNull
	case r.Type == gjson.True || r.Type == gjson.False:
		n.kind, n.b = kindBool, r.Type == gjson.True
	case r.Type == gjson.Number:
		n.kind, n.str = kindNumber, r.Raw
	case r.Type == gjson.String:
		n.kind, n.str = kindString, r.Str
	case r.IsArray():
		n.kind = kindArray
		r.ForEach(func(_, v gjson.Result) bool {
			var item *node
			item, err = build(n, "", len(n.items), v, depth+1)
			n.items = append(n.items, item)
			return err == nil
		})
	default:
		n.kind = kindObject
		var seen map[string]bool // for large objects
		r.ForEach(func(k, v gjson.Result) bool {
			if n.has(k.Str, &seen) {
				err = &ConfigError{Path: keyPath(n.path(), k.Str), Kind: ErrDuplicateKey}
				return false
			}
			var val *node
			val, err = build(n, k.Str, -1, v, depth+1)
			n.keys = append(n.keys, k.Str)
			n.vals = append(n.vals, val)
			return err == nil
		})
	}
	if err != nil {
		return nil, err
	}
	return n, nil
}

// locateSyntaxError re-reads an invalid document token by token to report
// the path and byte offset where it stops being JSON.
func locateSyntaxError(doc []byte) error {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := skipValue(dec, &node{index: -1}); err != nil {
		return err
	}
	return &ConfigError{Kind: ErrBadJSON, Detail: fmt.Sprintf("invalid JSON: data after the document at byte %d", dec.InputOffset())}
}

// skipValue reads one value; at is where it sits in the document.
func skipValue(dec *json.Decoder, at *node) error {
	syntaxError := func() error {
		return &ConfigError{Path: at.path(), Kind: ErrBadJSON, Detail: fmt.Sprintf("invalid JSON near byte %d", dec.InputOffset())}
	}
	tok, err := dec.Token()
	if err != nil {
		return syntaxError()
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	for i := 0; dec.More(); i++ {
		child := &node{parent: at, index: i}
		if delim == '{' {
			kt, err := dec.Token()
			key, isKey := kt.(string)
			if err != nil || !isKey {
				return syntaxError()
			}
			child.key, child.index = key, -1
		}
		if err := skipValue(dec, child); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return syntaxError()
	}
	return nil
}

// has reports whether the object already has key; past a few keys it keeps
// a set so that huge objects are not quadratic.
func (n *node) has(key string, seen *map[string]bool) bool {
	const scanLimit = 16
	if len(n.keys) < scanLimit {
		for _, k := range n.keys {
			if k == key {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]bool, 2*len(n.keys))
		for _, k := range n.keys {
			(*seen)[k] = true
		}
	}
	if (*seen)[key] {
		return true
	}
	(*seen)[key] = true
	return false
}

// path returns the JSON path of the node, "" for the document.
func (n *node) path() string {
	if n.parent == nil {
		return ""
	}
	if n.index >= 0 {
		return indexPath(n.parent.path(), n.index)
	}
	return keyPath(n.parent.path(), n.key)
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
	return &ConfigError{Path: n.path(), Kind: kind, Detail: fmt.Sprintf(format, args...)}
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
			return object{}, &ConfigError{Path: n.vals[i].path(), Kind: ErrUnknownField}
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
	return &ConfigError{Path: keyPath(o.n.path(), key), Kind: ErrMissing}
}

func (o object) require(key string) (*node, error) {
	v := o.get(key)
	if v == nil {
		return nil, o.missing(key)
	}
	return v, nil
}

// requireList returns the elements of the array at key, which must be present
// and hold at least one element (what names them in the error).
func (o object) requireList(key, what string) ([]*node, error) {
	v, err := o.require(key)
	if err != nil {
		return nil, err
	}
	items, err := asArray(v)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errAt(v, ErrMissing, "missing: at least one %s", what)
	}
	return items, nil
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
