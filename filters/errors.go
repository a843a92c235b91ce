package filters

import (
	"errors"
	"strings"
)

// Error kinds of a rejected configuration. Every *ConfigError wraps exactly one
// of them; test with errors.Is(err, filters.ErrUnknownField).
var (
	// ErrBadJSON: the configuration is not one well-formed JSON document.
	ErrBadJSON = errors.New("invalid JSON")
	// ErrDuplicateKey: the same key appears twice in one JSON object.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrUnknownField: a key the configuration schema does not define.
	ErrUnknownField = errors.New("unknown field")
	// ErrWrongType: a value of the wrong JSON type (or a fraction where an integer is needed).
	ErrWrongType = errors.New("wrong type")
	// ErrMissing: a required field is absent.
	ErrMissing = errors.New("missing")
	// ErrUnknownSubscriber: a route, mirror or deadLetter names no configured subscriber.
	ErrUnknownSubscriber = errors.New("unknown subscriber")
	// ErrEmptyFilter: a filter, a filter dialect or a data condition with nothing in it.
	ErrEmptyFilter = errors.New("empty")
	// ErrBadGJSONPath: a gjson path that is empty or uses syntax this package refuses.
	ErrBadGJSONPath = errors.New("bad gjson path")
	// ErrBadDuration: a string that is not a Go duration.
	ErrBadDuration = errors.New("bad duration")
	// ErrDuplicateName: two routes, two mirrors or two JSON profiles share a name, or a list repeats an entry.
	ErrDuplicateName = errors.New("duplicate name")
	// ErrOutOfRange: a number or duration outside its allowed range.
	ErrOutOfRange = errors.New("out of range")
	// ErrBadValue: a value of the right type that is not allowed (enum, header name, empty string...).
	ErrBadValue = errors.New("bad value")
	// ErrBadAttributeName: a CloudEvents attribute name that is not lower-case [a-z0-9]+.
	ErrBadAttributeName = errors.New("bad attribute name")
)

// ConfigError is a configuration fault at one JSON path, e.g.
// "routes[2].match[0].exact: empty". It never carries the offending document;
// at most the offending key or a short value.
type ConfigError struct {
	// Path is the JSON path of the fault, "" for the document itself.
	Path string
	// Kind is one of the Err* kinds of this package.
	Kind error
	// Detail says what is wrong; empty means Kind's text.
	Detail string
}

// Error implements error: "<path>: <detail>".
func (e *ConfigError) Error() string {
	detail := e.Detail
	if detail == "" {
		detail = e.Kind.Error()
	}
	if e.Path == "" {
		return "config: " + detail
	}
	return e.Path + ": " + detail
}

// Unwrap returns the error kind, so errors.Is(err, ErrMissing) works.
func (e *ConfigError) Unwrap() error { return e.Kind }

// maxQuoted bounds how much of a key or value an error message may repeat.
const maxQuoted = 40

// shortQuote quotes s for an error message, cut to maxQuoted runes.
func shortQuote(s string) string {
	r := []rune(s)
	if len(r) > maxQuoted {
		return quote(string(r[:maxQuoted])) + "..."
	}
	return quote(s)
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteRune(c)
		case c < 0x20 || c == 0x7f:
			b.WriteString("\\x")
			const hex = "0123456789abcdef"
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		default:
			b.WriteRune(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
