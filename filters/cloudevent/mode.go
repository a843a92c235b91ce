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
	// One pass over the headers; the length test skips most names at once.
	var contentType string
	var hasContentType, hasSpecVersion bool
	for i := range headers {
		switch name := headers[i][0]; len(name) {
		case len("content-type"):
			if !hasContentType && equalLowerASCII(name, "content-type") {
				contentType, hasContentType = headers[i][1], true
			}
		case len("ce-specversion"):
			if !hasSpecVersion && equalLowerASCII(name, "ce-specversion") {
				hasSpecVersion = true
			}
		}
	}
	if hasContentType {
		switch media := mediaTypeView(contentType); {
		case equalLowerASCII(media, MediaTypeBatch):
			return event.ModeBatch
		case equalLowerASCII(media, MediaTypeStructured):
			return event.ModeStructured
		}
	}
	if hasSpecVersion {
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
	start, end := 0, len(contentType)
	for start < end && (contentType[start] == ' ' || contentType[start] == '\t') {
		start++
	}
	for end > start && (contentType[end-1] == ' ' || contentType[end-1] == '\t') {
		end--
	}
	return contentType[start:end]
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
	return equalLowerASCII(sub, "json") || hasSuffixFold(sub, "+json")
}

// isTextMediaType reports whether data of this content type is text: text/*,
// application/xml and */*+xml.
func isTextMediaType(contentType string) bool {
	media := mediaTypeView(contentType)
	return hasPrefixFold(media, "text/") || equalLowerASCII(media, "application/xml") ||
		hasSuffixFold(media, "+xml")
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalLowerASCII(s[:len(prefix)], prefix)
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && equalLowerASCII(s[len(s)-len(suffix):], suffix)
}

// equalLowerASCII reports whether s equals lower, which is lower-case ASCII,
// ignoring the case of ASCII letters. For such a lower this is
// strings.EqualFold: a non-ASCII rune takes more than one byte, so a string
// holding one is never as long as lower in bytes and in runes, while Envoy's
// lower-case names pass at the first comparison of each byte.
func equalLowerASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != lower[i] && (c < 'A' || c > 'Z' || c+('a'-'A') != lower[i]) {
			return false
		}
	}
	return true
}
