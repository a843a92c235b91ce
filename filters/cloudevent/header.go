package cloudevent

import (
	"strings"
	"unicode/utf8"
)

// DecodeHeaderValue decodes a binary-mode ce- header value per the HTTP
// binding: an RFC 7230 quoted string is unquoted (backslash escapes undone),
// then one round of percent-decoding is applied, accepting lower-case hex.
// The result must be valid UTF-8 without control characters or Unicode
// noncharacters; overlong or otherwise invalid UTF-8 (%C0%A0) is rejected with
// ErrBadEncoding.
//
// The Go and Java SDKs do not encode: a value that is not valid
// percent-encoding as a whole ("100%") is taken as it is, and so is raw UTF-8
// ("转账"), when it is valid UTF-8 without control characters.
//
// A value that needs no decoding is returned without allocating.
func DecodeHeaderValue(raw string) (string, error) {
	value, problem := decodeHeaderValue(raw)
	if problem != "" {
		return "", invalid("", ErrBadEncoding, problem)
	}
	return value, nil
}

// Problems found while decoding, as shown in errors.
const (
	problemUTF8       = "invalid UTF-8"
	problemPercent    = "invalid UTF-8 after percent-decoding"
	problemControl    = "control character"
	problemNonchar    = "Unicode noncharacter"
	problemBase64     = "invalid base64"
	problemBodyUTF8   = "body is not valid UTF-8"
	problemNotObject  = "not a JSON object"
	problemNotArray   = "not a JSON array"
	problemDataString = "must be a JSON string for a non-JSON datacontenttype"
)

// decodeHeaderValue is DecodeHeaderValue returning the problem as a phrase
// ("" when the value is fine).
func decodeHeaderValue(raw string) (string, string) {
	if isPlainHeaderValue(raw) {
		return raw, "" // the common case, settled in one pass
	}
	s := raw
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if unquoted, ok := unquote(s[1 : len(s)-1]); ok {
			s = unquoted
		}
	}
	first := strings.IndexByte(s, '%')
	if first < 0 {
		return s, checkString(s)
	}
	decoded, ok := percentDecode(s, first)
	if !ok {
		// Not percent-encoded (an SDK that does not encode sent "100%").
		return s, checkString(s)
	}
	if problem := checkString(decoded); problem != "" {
		if problem == problemUTF8 {
			problem = problemPercent
		}
		return "", problem
	}
	return decoded, ""
}

// isPlainHeaderValue reports whether raw is a value that decodes to itself
// and is a valid String: printable ASCII without '%', not enclosed in double
// quotes.
func isPlainHeaderValue(raw string) bool {
	i := 0
	// Eight bytes at a time: the high bit of a byte of bad is set where the
	// byte is >= 0x80, < 0x20 (x-spaces), 0x7f (del) or '%' (pct); a borrow
	// only spreads above a byte that is itself caught.
	for ; i+8 <= len(raw); i += 8 {
		x := uint64(raw[i]) | uint64(raw[i+1])<<8 | uint64(raw[i+2])<<16 | uint64(raw[i+3])<<24 |
			uint64(raw[i+4])<<32 | uint64(raw[i+5])<<40 | uint64(raw[i+6])<<48 | uint64(raw[i+7])<<56
		del, pct := x^0x7f7f7f7f7f7f7f7f, x^0x2525252525252525
		bad := x | (x - 0x2020202020202020) | (del-0x0101010101010101)&^del | (pct-0x0101010101010101)&^pct
		if bad&0x8080808080808080 != 0 {
			return false
		}
	}
	for ; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c >= 0x7f || c == '%' {
			return false
		}
	}
	return len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"'
}

// unquote undoes the quoted-pairs of the inside of an RFC 7230 quoted-string.
// ok is false when inner has an unescaped double quote or ends in a lone
// backslash, so the value was not a quoted string.
func unquote(inner string) (string, bool) {
	backslash := strings.IndexByte(inner, '\\')
	if backslash < 0 {
		return inner, strings.IndexByte(inner, '"') < 0
	}
	if strings.IndexByte(inner[:backslash], '"') >= 0 {
		return "", false
	}
	b := make([]byte, 0, len(inner))
	b = append(b, inner[:backslash]...)
	for i := backslash; i < len(inner); i++ {
		switch c := inner[i]; c {
		case '\\':
			i++
			if i == len(inner) {
				return "", false
			}
			b = append(b, inner[i])
		case '"':
			return "", false
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

// percentDecode decodes every %XY of s, the first one at index first. ok is
// false, and nothing is allocated, when some '%' is not followed by two hex
// digits.
func percentDecode(s string, first int) (string, bool) {
	escapes := 0
	for i := first; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return "", false
		}
		escapes++
		i += 2
	}
	b := make([]byte, 0, len(s)-2*escapes)
	b = append(b, s[:first]...)
	for i := first; i < len(s); i++ {
		if s[i] != '%' {
			b = append(b, s[i])
			continue
		}
		b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
		i += 2
	}
	return string(b), true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// unhex returns the value of a hex digit (checked by isHex).
func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// checkString returns "" when s is a valid CloudEvents String value: valid
// UTF-8 without control characters (U+0000–U+001F, U+007F–U+009F) and without
// Unicode noncharacters. Otherwise it names the problem.
func checkString(s string) string {
	i := 0
	// Eight bytes at a time while all are printable ASCII.
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		del := x ^ 0x7f7f7f7f7f7f7f7f
		if (x|(x-0x2020202020202020)|(del-0x0101010101010101)&^del)&0x8080808080808080 != 0 {
			break
		}
	}
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return problemControl
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return problemUTF8
		case r <= 0x9f:
			return problemControl
		case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
			return problemNonchar
		}
		i += size
	}
	return ""
}

// appendHeaderValue appends v percent-encoded per the HTTP binding: space,
// double quote, percent and every byte outside U+0021–U+007E are written as
// %XY with upper-case hex.
func appendHeaderValue(dst []byte, v string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if needsPercent(c) {
			dst = append(dst, '%', hex[c>>4], hex[c&0xf])
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

// encodeHeaderValue returns v percent-encoded per the HTTP binding, v itself
// when nothing needs encoding.
func encodeHeaderValue(v string) string {
	for i := 0; i < len(v); i++ {
		if needsPercent(v[i]) {
			return string(appendHeaderValue(make([]byte, 0, len(v)+16), v))
		}
	}
	return v
}

func needsPercent(c byte) bool {
	return c <= 0x20 || c >= 0x7f || c == '"' || c == '%'
}
