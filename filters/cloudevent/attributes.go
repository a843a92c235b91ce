package cloudevent

import "github.com/eventroute/eventroute/filters/event"

// attributeSet records which core attributes were given, and which of them
// were given as JSON null (unset).
type attributeSet struct{ given, null uint16 }

func (s *attributeSet) has(a event.Core) bool    { return s.given&(1<<a) != 0 }
func (s *attributeSet) isNull(a event.Core) bool { return s.null&(1<<a) != 0 }
func (s *attributeSet) add(a event.Core)         { s.given |= 1 << a }
func (s *attributeSet) addNull(a event.Core)     { s.given |= 1 << a; s.null |= 1 << a }

// checkRequired checks the required attributes (specversion, id, source and
// type, in this order) and that no optional one is present but empty. prefix
// is "ce-" for binary mode (errors then name the header), "" for the JSON
// format.
func checkRequired(ev *event.Event, seen *attributeSet, prefix string) error {
	for a := event.CoreSpecVersion; a <= event.CoreType; a++ {
		value := *ev.Field(a)
		switch {
		case value == "" && seen.has(a) && !seen.isNull(a):
			return invalid(prefix+a.Name(), ErrEmptyAttribute, "")
		case value == "":
			return invalid(prefix+a.Name(), ErrMissingAttribute, "")
		case a == event.CoreSpecVersion && value != "1.0":
			return invalid(prefix+a.Name(), ErrBadSpecVersion, "")
		}
	}
	for a := event.CoreSubject; a <= event.CoreDataSchema; a++ {
		if a == event.CoreDataContentType && prefix != "" {
			continue // Content-Type; an empty one means no datacontenttype
		}
		if seen.has(a) && !seen.isNull(a) && *ev.Field(a) == "" {
			return invalid(prefix+a.Name(), ErrEmptyAttribute, "")
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
