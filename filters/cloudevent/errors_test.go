package cloudevent

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventroute/eventroute/filters/event"
)

func TestReasonNames(t *testing.T) {
	for r := Reason(1); r <= lastReason; r++ {
		back, ok := ReasonByName(r.Name())
		if !ok || back != r {
			t.Errorf("ReasonByName(%q) = %v, %v", r.Name(), back, ok)
		}
		if r.Error() == "" || r.Error() == "invalid event" {
			t.Errorf("%s has no description", r.Name())
		}
	}
	if _, ok := ReasonByName("ErrNoSuchThing"); ok {
		t.Error("unknown name found")
	}
}

func TestErrorsNeverEchoPayloads(t *testing.T) {
	long := strings.Repeat("x", 500)
	var ev event.Event
	err := ReadStructured([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","`+long+`\u0001":1}`), &ev)
	if !errors.Is(err, ErrBadAttributeName) {
		t.Fatalf("error %v", err)
	}
	if msg := err.Error(); len(msg) > 100 || strings.ContainsRune(msg, 1) {
		t.Errorf("message repeats the name: %q", msg)
	}
	err = ReadBinary([][2]string{{"ce-specversion", "1.0"}, {"ce-" + long + "-y", "v"}}, nil, &ev)
	if !errors.Is(err, ErrBadAttributeName) {
		t.Fatalf("error %v", err)
	}
	if msg := err.Error(); !strings.HasSuffix(strings.SplitN(msg, ":", 2)[0], "...") || len(msg) > 100 {
		t.Errorf("message %q", msg)
	}
	err = ReadStructured([]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","subject":"secret\u0001"}`), &ev)
	if msg := err.Error(); strings.Contains(msg, "secret") {
		t.Errorf("message repeats the value: %q", msg)
	}
}
