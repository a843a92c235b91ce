package jsonstr

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

func TestAppendIsValidJSONThatDecodesToTheInput(t *testing.T) {
	for _, s := range []string{"", "plain", "转账 Euro € 😀", "quote \" backslash \\ slash /",
		"tab\tnewline\ncr\r", "\x00\x01\x1f\x7f", "bad \xff utf8 \xc0\xa0"} {
		out := Append([]byte("prefix:"), s)
		var got string
		if err := json.Unmarshal(out[len("prefix:"):], &got); err != nil {
			t.Fatalf("%q: %s is not a JSON string: %v", s, out, err)
		}
		want := s
		if !utf8.ValidString(s) {
			want = string([]rune(s)) // invalid bytes become U+FFFD, one per byte
		}
		if got != want {
			t.Errorf("%q: round trip gave %q, want %q", s, got, want)
		}
	}
}

func TestAppendEscapesExactly(t *testing.T) {
	got := string(Append(nil, "a\xffb\u2028\\\x01"))
	if want := `"a\ufffdb` + "\u2028" + `\\\u0001"`; got != want {
		t.Errorf("Append = %s, want %s", got, want)
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("转账")
	f.Add("\x00\"\\\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := Append(nil, s)
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%q: %s is not a JSON string: %v", s, out, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("round trip of %q gave %q", s, got)
		}
	})
}
