package cloudevent

import (
	"testing"

	"github.com/eventroute/eventroute/filters/event"
)

func TestDetectMode(t *testing.T) {
	tests := []struct {
		name    string
		headers [][2]string
		want    event.Mode
	}{
		{"batch", [][2]string{{"content-type", "application/cloudevents-batch+json"}}, event.ModeBatch},
		{"batch with charset and case", [][2]string{{"content-type", "Application/CloudEvents-Batch+JSON; charset=UTF-8"}}, event.ModeBatch},
		{"structured", [][2]string{{"content-type", "application/cloudevents+json"}}, event.ModeStructured},
		{"structured with ce headers", [][2]string{{"content-type", "application/cloudevents+json ; charset=utf-8"}, {"ce-specversion", "1.0"}}, event.ModeStructured},
		{"binary", [][2]string{{":method", "POST"}, {"content-type", "application/json"}, {"ce-specversion", "1.0"}}, event.ModeBinary},
		{"binary without content type", [][2]string{{"ce-specversion", "1.0"}}, event.ModeBinary},
		{"binary header name case", [][2]string{{"Ce-SpecVersion", "1.0"}}, event.ModeBinary},
		{"other format with ce headers", [][2]string{{"content-type", "application/cloudevents+avro"}, {"ce-specversion", "1.0"}}, event.ModeBinary},
		{"other format without ce headers", [][2]string{{"content-type", "application/cloudevents+avro"}}, event.ModeNone},
		{"plain json", [][2]string{{"content-type", "application/json"}, {"ce-id", "1"}}, event.ModeNone},
		{"no headers", nil, event.ModeNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DetectMode(tt.headers); got != tt.want {
				t.Errorf("DetectMode = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMediaType(t *testing.T) {
	tests := map[string]string{
		"Application/CloudEvents+JSON; charset=UTF-8": "application/cloudevents+json",
		" text/plain ":     "text/plain",
		"application/json": "application/json",
		"":                 "",
	}
	for in, want := range tests {
		if got := MediaType(in); got != want {
			t.Errorf("MediaType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsJSONMediaType(t *testing.T) {
	tests := map[string]bool{
		"application/json":                true,
		"Application/JSON; charset=utf-8": true,
		"text/json":                       true,
		"application/vnd.api+json":        true,
		"application/cloudevents+json":    true,
		"text/plain":                      false,
		"application/jsonx":               false,
		"json":                            false,
		"":                                false,
	}
	for in, want := range tests {
		if got := IsJSONMediaType(in); got != want {
			t.Errorf("IsJSONMediaType(%q) = %v, want %v", in, got, want)
		}
	}
}
