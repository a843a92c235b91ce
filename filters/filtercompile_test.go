package filters

import (
	"errors"
	"testing"

	"github.com/tidwall/gjson"
)

func TestCheckGJSONPath(t *testing.T) {
	doc := `{"a":{"b":[1,2,{"c":"x"}]},"a.b":7,"items":[{"id":1,"qty":5},{"id":2,"qty":1}],"k(1)":true}`
	for _, tc := range []struct {
		path string
		ok   bool
		want string // the value gjson reads, for accepted paths
	}{
		{"a.b.1", true, "2"},
		{"a.b.#", true, "3"},
		{`a\.b`, true, "7"},
		{"a.b.2.c", true, "x"},
		{"a.*.2.c", true, "x"},
		{"it?ms.0.id", true, "1"},
		{"items.#(qty>2).id", true, "1"},
		{"items.#(qty<2)#.id", true, "[2]"},
		{`items.#(id=="1)")`, true, ""},
		{"items.#(qty>2)|id", true, "1"},
		{`k\(1\)`, true, "true"},
		{"@this", true, doc},
		{"", false, ""},
		{".a", false, ""},
		{"a.", false, ""},
		{"a..b", false, ""},
		{"..a", false, ""},
		{"a|", false, ""},
		{"@reverse", false, ""},
		{"a.@pretty", false, ""},
		{"!true", false, ""},
		{"[a,b]", false, ""},
		{"{a,b}", false, ""},
		{"a[0]", false, ""},
		{"k(1)", false, ""},
		{"items.#(qty>2", false, ""},
		{"items.#(qty>2))", false, ""},
		{"items.#()", false, ""},
		{`items.#(id=="1)`, false, ""},
		{"items.#(id==1)x", false, ""},
		{"items#(id==1)", false, ""},
		{`a\`, false, ""},
		{"a\tb", false, ""},
		{"a\xffb", false, ""},
	} {
		err := checkGJSONPath(&node{index: -1}, tc.path)
		if tc.ok != (err == nil) {
			t.Errorf("checkGJSONPath(%q) = %v, want ok %v", tc.path, err, tc.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrBadGJSONPath) {
				t.Errorf("checkGJSONPath(%q) = %v, want ErrBadGJSONPath", tc.path, err)
			}
			continue
		}
		if got := gjson.Get(doc, tc.path); got.String() != tc.want {
			t.Errorf("gjson.Get(%q) = %q, want %q", tc.path, got.String(), tc.want)
		}
	}
}
