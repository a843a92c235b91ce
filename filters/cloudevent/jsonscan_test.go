package cloudevent

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestScanJSONAgreesWithEncodingJSON(t *testing.T) {
	inputs := []string{
		`{}`, `[]`, ` { } `, `[ ]`, `{"a":1}`, `{"a" : [1, 2 , {"b":null}] }`, `[[[]]]`, `[{}, {}]`,
		`0`, `-0`, `01`, `1.`, `.5`, `1e`, `1e+5`, `1E-5`, `-`, `-1.5e3`, `2.`, `1.0e`, `+1`,
		`"a"`, `"\u00e9"`, `"\u00g9"`, `"\x"`, "\"a\x01\"", `"a\/b\"c\\"`, `"unterminated`, `"\"`,
		`true`, `tru`, `false`, `fals`, `null`, `nul`, `nulls`, `[true,false,null]`,
		`{"a":1,}`, `[1,]`, `{,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`, `[1 2]`, `{"a":1}}`, `[1]]`,
		`{"a":[1}`, `{"a":{]}`, `{"a":1} x`, ``, ` `, "\t\n\r{}\t\n\r", "{\"a\":\v1}", `{"\u0069d":"x"}`,
		`[` + strings.Repeat(`"long string without specials "`, 8) + `]`,
		`{"k":"` + strings.Repeat("é", 40) + `"}`,
	}
	for _, in := range inputs {
		_, problem := scanJSON([]byte(in), 2, nil)
		if want := json.Valid([]byte(in)); want != (problem == "") {
			t.Errorf("scanJSON(%q) problem %q, encoding/json valid=%v", in, problem, want)
		}
	}
}

func TestScanJSONLocatesValues(t *testing.T) {
	body := `[ {"id" : "a\"b", "n":[1,{"x":2}]} , 7 ]`
	values, problem := scanJSON([]byte(body), 2, nil)
	if problem != "" {
		t.Fatal(problem)
	}
	type located struct {
		key, value string
		depth      uint8
		escaped    bool
	}
	want := []located{
		{"", `{"id" : "a\"b", "n":[1,{"x":2}]}`, 1, false},
		{`"id"`, `"a\"b"`, 2, true},
		{`"n"`, `[1,{"x":2}]`, 2, false},
		{"", `7`, 1, false},
	}
	if len(values) != len(want) {
		t.Fatalf("%d values, want %d: %+v", len(values), len(want), values)
	}
	for i, v := range values {
		got := located{body[v.keyStart:v.keyEnd], body[v.start:v.end], v.depth, v.escaped}
		if got != want[i] {
			t.Errorf("value %d = %+v, want %+v", i, got, want[i])
		}
	}
}

func TestScanJSONNestingLimit(t *testing.T) {
	ok := strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting)
	if _, problem := scanJSON([]byte(ok), 2, nil); problem != "" {
		t.Errorf("%d levels: %q", maxNesting, problem)
	}
	deep := "[" + ok + "]"
	if _, problem := scanJSON([]byte(deep), 2, nil); problem != problemNesting {
		t.Errorf("%d levels: %q, want %q", maxNesting+1, problem, problemNesting)
	}
}
