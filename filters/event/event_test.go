package event

import "testing"

func TestSetAttributeThenAttributeReadsItBack(t *testing.T) {
	var ev Event
	names := []string{"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "traceparent"}
	for _, n := range names {
		ev.SetAttribute(n, "v-"+n)
	}
	for _, n := range names {
		if v, ok := ev.Attribute(n); !ok || v != "v-"+n {
			t.Errorf("Attribute(%q) = %q, %v", n, v, ok)
		}
	}
	if len(ev.Extensions) != 1 || ev.Extensions[0].Name != "traceparent" {
		t.Errorf("extensions %v", ev.Extensions)
	}
	if _, ok := ev.Attribute("absent"); ok {
		t.Error("absent attribute reported present")
	}
	ev.Reset()
	if ev.ID != "" || len(ev.Extensions) != 0 || cap(ev.Extensions) == 0 {
		t.Errorf("Reset left %+v", ev)
	}
}
