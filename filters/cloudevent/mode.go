package cloudevent

import (
	"strings"

	"github.com/eventroute/eventroute/filters/event"
)

// Media types of the CloudEvents HTTP binding.
const (
	// MediaTypeStructured is the content type of a structured-mode JSON event.
	MediaTypeStructured = "application/cloudevents+json"
	// MediaTypeBatch is the content type of a batch of JSON events.
	MediaTypeBatch = "application/cloudevents-batch+json"
)

// DetectMode decides from the request headers alone whether the request may
// carry a CloudEvent, and in which mode (SPEC §3.2): a batch content type
// first, then the structured JSON content type; otherwise binary mode when a
// ce-specversion header is present (this includes the media types of other
// CloudEvents formats, which the binding allows to treat as binary), else
// event.ModeNone. Header names are matched case-insensitively.
func DetectMode(headers [][2]string) event.Mode {
	contentType, hasContentType := headerValue(headers, "content-type")
	if hasContentType {
		switch media := mediaTypeView(contentType); {
		case strings.EqualFold(media, MediaTypeBatch):
			return event.ModeBatch
		case strings.EqualFold(media, MediaTypeStructured):
			return event.ModeStructured
		}
	}
	if _, ok := headerValue(headers, "ce-specversion"); ok {
		return event.ModeBinary
	}
	return event.ModeNone
}

// MediaType returns the media type of a Content-Type value: parameters
// stripped, surrounding white space trimmed, lower-cased.
// "Application/CloudEvents+JSON; charset=UTF-8" gives "application/cloudevents+json".
func MediaType(contentType string) string {
	return strings.ToLower(mediaTypeView(contentType))
}

// mediaTypeView is MediaType without the lower-casing, so it never allocates.
func mediaTypeView(contentType string) string {
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	return strings.Trim(contentType, " \t")
}

// IsJSONMediaType reports whether a Content-Type value declares JSON data:
// application/json, any */json or */*+json, case-insensitive, parameters
// ignored. The JSON format reads data of such a type as a JSON value.
func IsJSONMediaType(contentType string) bool {
	media := mediaTypeView(contentType)
	slash := strings.IndexByte(media, '/')
	if slash <= 0 {
		return false
	}
	sub := media[slash+1:]
	return strings.EqualFold(sub, "json") || hasSuffixFold(sub, "+json")
}

// isTextMediaType reports whether data of this content type is text: text/*,
// application/xml and */*+xml.
func isTextMediaType(contentType string) bool {
	media := mediaTypeView(contentType)
	return hasPrefixFold(media, "text/") || strings.EqualFold(media, "application/xml") ||
		hasSuffixFold(media, "+xml")
}

// headerValue returns the value of the first header named name (given in
// lower case), comparing names case-insensitively.
func headerValue(headers [][2]string, name string) (string, bool) {
	for i := range headers {
		if len(headers[i][0]) == len(name) && strings.EqualFold(headers[i][0], name) {
			return headers[i][1], true
		}
	}
	return "", false
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}
