package cloudevent

import (
	"errors"
	"testing"
)

func TestDecodeHeaderValue(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"plain", "com.example.sampletype", "com.example.sampletype"},
		{"spec worked example", "Euro%20%E2%82%AC%20%F0%9F%98%80", "Euro € 😀"},
		{"lower-case hex", "Euro%20%e2%82%ac%20%f0%9f%98%80", "Euro € 😀"},
		{"unnecessarily encoded", "%41%42C", "ABC"},
		{"one round only", "%2541", "%41"},
		{"sdk raw percent", "100%", "100%"},
		{"sdk raw bad escape", "50%zz off", "50%zz off"},
		{"sdk raw utf-8", "转账", "转账"},
		{"sdk raw space", "hello world", "hello world"},
		{"quoted string", `"hello world"`, "hello world"},
		{"quoted string with escapes", `"say \"hi\" \\ bye"`, `say "hi" \ bye`},
		{"quoted then percent", `"a%20b"`, "a b"},
		{"not a quoted string", `"a"b"`, `"a"b"`},
		{"lone quote", `"`, `"`},
		{"empty", "", ""},
		{"empty quoted", `""`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeHeaderValue(tt.raw)
			if err != nil {
				t.Fatalf("DecodeHeaderValue(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("DecodeHeaderValue(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestDecodeHeaderValueRejects(t *testing.T) {
	tests := []struct{ name, raw string }{
		{"overlong space", "%C0%A0"},
		{"lone continuation byte", "a%80b"},
		{"truncated sequence", "%E2%82"},
		{"encoded surrogate", "%ED%A0%80"},
		{"raw invalid utf-8", "a\xffb"},
		{"encoded newline", "a%0Ab"},
		{"raw tab", "a\tb"},
		{"C1 control", "a%C2%85b"},
		{"noncharacter", "%EF%BF%BF"},
		{"raw invalid utf-8 with stray percent", "100%\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeHeaderValue(tt.raw)
			if !errors.Is(err, ErrBadEncoding) {
				t.Fatalf("DecodeHeaderValue(%q) = %q, %v; want ErrBadEncoding", tt.raw, got, err)
			}
		})
	}
}

func TestEncodeHeaderValue(t *testing.T) {
	tests := map[string]string{
		"Euro € 😀":          "Euro%20%E2%82%AC%20%F0%9F%98%80",
		"com.example.type":  "com.example.type",
		`100% "sure"`:       "100%25%20%22sure%22",
		"转账":                "%E8%BD%AC%E8%B4%A6",
		"~!#$&'()*+,/:;<=>": "~!#$&'()*+,/:;<=>",
	}
	for in, want := range tests {
		got := encodeHeaderValue(in)
		if got != want {
			t.Errorf("encodeHeaderValue(%q) = %q, want %q", in, got, want)
		}
		back, err := DecodeHeaderValue(got)
		if err != nil || back != in {
			t.Errorf("DecodeHeaderValue(%q) = %q, %v; want %q", got, back, err, in)
		}
	}
}

func TestDecodeHeaderValueNoAllocation(t *testing.T) {
	for _, raw := range []string{"com.example.type", "转账", "100%", "a long value that is not percent-encoded, 100% sure, taken as it is"} {
		allocs := testing.AllocsPerRun(100, func() {
			if _, err := DecodeHeaderValue(raw); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("DecodeHeaderValue(%q) allocates %v times", raw, allocs)
		}
	}
}
