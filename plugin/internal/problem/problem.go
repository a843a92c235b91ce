// Package problem writes RFC 9457 "application/problem+json" bodies with
// hand-written appends, so the plugin needs no encoding/json.
package problem

import (
	"strconv"
	"unicode/utf8"
)

// ContentType is the media type of a problem body.
const ContentType = "application/problem+json"

// Problem is one problem report. Zero-value fields other than Status are left out.
type Problem struct {
	// Type is a URI reference naming the kind of problem.
	Type string
	// Title is a short human-readable summary of the kind.
	Title string
	// Status is the HTTP status code of the reply.
	Status int
	// Detail explains this occurrence; it must never carry a whole payload.
	Detail string
	// Subscribers names subscribers involved (extension member "subscribers").
	Subscribers []string
}

// Append appends p as one JSON object to dst and returns the extended slice.
func (p *Problem) Append(dst []byte) []byte {
	dst = append(dst, '{')
	if p.Type != "" {
		dst = append(dst, `"type":`...)
		dst = AppendString(dst, p.Type)
		dst = append(dst, ',')
	}
	if p.Title != "" {
		dst = append(dst, `"title":`...)
		dst = AppendString(dst, p.Title)
		dst = append(dst, ',')
	}
	dst = append(dst, `"status":`...)
	dst = strconv.AppendInt(dst, int64(p.Status), 10)
	if p.Detail != "" {
		dst = append(dst, `,"detail":`...)
		dst = AppendString(dst, p.Detail)
	}
	if len(p.Subscribers) > 0 {
		dst = append(dst, `,"subscribers":[`...)
		for i, s := range p.Subscribers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string literal (quotes included). Control
// characters, quotes and backslashes are escaped; invalid UTF-8 bytes become
// U+FFFD so the result is always valid JSON.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
