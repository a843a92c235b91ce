// Package problem writes RFC 9457 "application/problem+json" bodies with
// hand-written appends, so the plugin needs no encoding/json.
package problem

import (
	"strconv"

	"github.com/eventroute/eventroute/internal/jsonstr"
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
		dst = jsonstr.Append(dst, p.Type)
		dst = append(dst, ',')
	}
	if p.Title != "" {
		dst = append(dst, `"title":`...)
		dst = jsonstr.Append(dst, p.Title)
		dst = append(dst, ',')
	}
	dst = append(dst, `"status":`...)
	dst = strconv.AppendInt(dst, int64(p.Status), 10)
	if p.Detail != "" {
		dst = append(dst, `,"detail":`...)
		dst = jsonstr.Append(dst, p.Detail)
	}
	if len(p.Subscribers) > 0 {
		dst = append(dst, `,"subscribers":[`...)
		for i, s := range p.Subscribers {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = jsonstr.Append(dst, s)
		}
		dst = append(dst, ']')
	}
	return append(dst, '}')
}
