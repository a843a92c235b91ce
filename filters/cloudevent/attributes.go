package cloudevent

import "github.com/eventroute/eventroute/filters/event"

// coreAttr identifies a context attribute defined by the CloudEvents spec.
type coreAttr uint8

// The core attributes; attrNone stands for an extension.
const (
	attrNone coreAttr = iota
	attrSpecVersion
	attrID
	attrSource
	attrType
	attrSubject
	attrTime
	attrDataContentType
	attrDataSchema
)

// coreAttribute returns the core attribute called name, attrNone for an
// extension.
func coreAttribute(name string) coreAttr {
	// Dispatch on the length first: one comparison at most per name.
	switch len(name) {
	case len("id"):
		if name == "id" {
			return attrID
		}
	case len("type"):
		switch name {
		case "type":
			return attrType
		case "time":
			return attrTime
		}
	case len("source"):
		if name == "source" {
			return attrSource
		}
	case len("subject"):
		if name == "subject" {
			return attrSubject
		}
	case len("dataschema"):
		if name == "dataschema" {
			return attrDataSchema
		}
	case len("specversion"):
		if name == "specversion" {
			return attrSpecVersion
		}
	case len("datacontenttype"):
		if name == "datacontenttype" {
			return attrDataContentType
		}
	}
	return attrNone
}

// name returns the attribute's name.
func (a coreAttr) name() string {
	switch a {
	case attrSpecVersion:
		return "specversion"
	case attrID:
		return "id"
	case attrSource:
		return "source"
	case attrType:
		return "type"
	case attrSubject:
		return "subject"
	case attrTime:
		return "time"
	case attrDataContentType:
		return "datacontenttype"
	case attrDataSchema:
		return "dataschema"
	}
	return ""
}

// coreField returns the event's field holding a core attribute.
func coreField(ev *event.Event, a coreAttr) *string {
	switch a {
	case attrSpecVersion:
		return &ev.SpecVersion
	case attrID:
		return &ev.ID
	case attrSource:
		return &ev.Source
	case attrType:
		return &ev.Type
	case attrSubject:
		return &ev.Subject
	case attrTime:
		return &ev.Time
	case attrDataContentType:
		return &ev.DataContentType
	default:
		return &ev.DataSchema
	}
}

// attributeSet records which core attributes were given, and which of them
// were given as JSON null (unset).
type attributeSet struct{ given, null uint16 }

func (s *attributeSet) has(a coreAttr) bool    { return s.given&(1<<a) != 0 }
func (s *attributeSet) isNull(a coreAttr) bool { return s.null&(1<<a) != 0 }
func (s *attributeSet) add(a coreAttr)         { s.given |= 1 << a }
func (s *attributeSet) addNull(a coreAttr)     { s.given |= 1 << a; s.null |= 1 << a }

// checkRequired checks the required attributes (specversion, id, source and
// type, in this order) and that no optional one is present but empty. prefix
// is "ce-" for binary mode (errors then name the header), "" for the JSON
// format.
func checkRequired(ev *event.Event, seen *attributeSet, prefix string) error {
	for a := attrSpecVersion; a <= attrType; a++ {
		value := *coreField(ev, a)
		switch {
		case value == "" && seen.has(a) && !seen.isNull(a):
			return invalid(prefix+a.name(), ErrEmptyAttribute, "")
		case value == "":
			return invalid(prefix+a.name(), ErrMissingAttribute, "")
		case a == attrSpecVersion && value != "1.0":
			return invalid(prefix+a.name(), ErrBadSpecVersion, "")
		}
	}
	for a := attrSubject; a <= attrDataSchema; a++ {
		if a == attrDataContentType && prefix != "" {
			continue // Content-Type; an empty one means no datacontenttype
		}
		if seen.has(a) && !seen.isNull(a) && *coreField(ev, a) == "" {
			return invalid(prefix+a.name(), ErrEmptyAttribute, "")
		}
	}
	if ev.Time != "" && !isTimestamp(ev.Time) {
		return invalid(prefix+"time", ErrBadAttributeValue, "not an RFC 3339 timestamp")
	}
	return nil
}

// isTimestamp reports whether s is an RFC 3339 date-time, the CloudEvents
// Timestamp type: 2018-04-05T17:31:00Z, optionally with a fraction of a
// second and a numeric offset; "T" and "Z" may be lower case.
func isTimestamp(s string) bool {
	// Fixed part: YYYY-MM-DDTHH:MM:SS
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
		(s[10] != 'T' && s[10] != 't') {
		return false
	}
	fields := [...]struct{ at, max int }{{0, 9999}, {5, 12}, {8, 31}, {11, 23}, {14, 59}, {17, 60}}
	for _, f := range fields {
		n, ok := digits(s[f.at:], 2)
		if f.at == 0 {
			n, ok = digits(s, 4)
		}
		if !ok || n > f.max || (n == 0 && (f.at == 5 || f.at == 8)) {
			return false
		}
	}
	rest := s[19:]
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 {
			return false
		}
		rest = rest[i:]
	}
	switch {
	case rest == "Z" || rest == "z":
		return true
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		h, ok1 := digits(rest[1:], 2)
		m, ok2 := digits(rest[4:], 2)
		return ok1 && ok2 && h <= 23 && m <= 59
	}
	return false
}

// digits returns the number written by the first n bytes of s, which must
// all be decimal digits.
func digits(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := range n {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
