package cloudevent

import (
	"encoding/binary"
	"math/bits"
)

// This file is a one-pass JSON validator that also reports where the values
// of the first levels start and end, so that reading an event walks its body
// once, whatever the size of the data. It checks the JSON grammar (RFC 8259)
// without recursion, bounding nesting by maxNesting; UTF-8 is checked
// separately by utf8.Valid, which is much faster than any byte loop.

// maxNesting bounds how deeply arrays and objects may nest in a body.
const maxNesting = 1000

// jsonValue locates one value of the first levels of a JSON document.
type jsonValue struct {
	keyStart, keyEnd int32 // the member name with its quotes; both 0 for an array element
	start, end       int32 // the value's text
	depth            uint8 // 1 for a member or element of the top-level value, 2 below that
	escaped          bool  // the value is a string with escapes
	keyEscaped       bool  // the member name has escapes
}

// kind returns the first byte of the value: '{', '[', '"', 't', 'f', 'n', '-' or a digit.
func (v *jsonValue) kind(body []byte) byte { return body[v.start] }

// Problems the scanner reports.
const (
	problemJSON     = "invalid JSON"
	problemNesting  = "nested too deeply"
	problemTooLarge = "body too large"
)

// maxScanned is the largest body scanJSON accepts, as offsets are int32.
const maxScanned = 1<<31 - 1

// scanJSON validates body as one JSON value and appends to values every value
// of depth 1 to maxDepth (at most 2), in document order. problem is "" for
// valid JSON.
func scanJSON(body []byte, maxDepth int, values []jsonValue) ([]jsonValue, string) {
	var (
		kinds    [maxNesting]byte // '{' or '[': the container at each depth
		open     [3]int           // index in values of the open container per depth
		depth    int              // depth of the next value
		keyStart int
		keyEnd   int
		keyEsc   bool // the member name has escapes
		start    int
		escaped  bool
		ok       bool
		n        = len(body)
		i        = skipSpace(body, 0)
	)
	if n > maxScanned {
		return values, problemTooLarge
	}
value: // a value starts at i, at depth depth
	if i >= n {
		return values, problemJSON
	}
	start, escaped = i, false
	switch c := body[i]; c {
	case '{', '[':
		if depth >= maxNesting {
			return values, problemNesting
		}
		if uint(depth-1) < uint(maxDepth) {
			open[depth] = len(values)
			values = append(values, jsonValue{keyStart: int32(keyStart), keyEnd: int32(keyEnd), start: int32(start),
				depth: uint8(depth), keyEscaped: keyEsc})
		}
		kinds[depth] = c
		depth++
		if i++; i < n && body[i] <= ' ' {
			i = skipSpace(body, i)
		}
		if i < n && body[i] == c+2 { // '}' is '{'+2, ']' is '['+2
			i++
			goto closed
		}
		if c == '{' {
			goto key
		}
		keyStart, keyEnd, keyEsc = 0, 0, false
		goto value
	case '"':
		if i, escaped, ok = scanString(body, i+1); !ok {
			return values, problemJSON
		}
	case 't':
		if !hasLiteral(body, i, "true") {
			return values, problemJSON
		}
		i += 4
	case 'f':
		if !hasLiteral(body, i, "false") {
			return values, problemJSON
		}
		i += 5
	case 'n':
		if !hasLiteral(body, i, "null") {
			return values, problemJSON
		}
		i += 4
	default:
		if i, ok = scanNumber(body, i); !ok {
			return values, problemJSON
		}
	}
	if uint(depth-1) < uint(maxDepth) {
		values = append(values, jsonValue{keyStart: int32(keyStart), keyEnd: int32(keyEnd), start: int32(start),
			end: int32(i), depth: uint8(depth), escaped: escaped, keyEscaped: keyEsc})
	}
next: // a value ended just before i
	if i < n && body[i] <= ' ' {
		i = skipSpace(body, i)
	}
	if depth == 0 {
		if i != n {
			return values, problemJSON
		}
		return values, ""
	}
	if i >= n {
		return values, problemJSON
	}
	switch body[i] {
	case ',':
		if i++; i < n && body[i] <= ' ' {
			i = skipSpace(body, i)
		}
		if kinds[depth-1] == '{' {
			goto key
		}
		keyStart, keyEnd, keyEsc = 0, 0, false
		goto value
	case '}':
		if kinds[depth-1] != '{' {
			return values, problemJSON
		}
	case ']':
		if kinds[depth-1] == '{' {
			return values, problemJSON
		}
	default:
		return values, problemJSON
	}
	i++
closed: // the container at depth-1 closed just before i
	depth--
	if uint(depth-1) < uint(maxDepth) {
		values[open[depth]].end = int32(i)
	}
	goto next
key: // a member name starts at i
	if i >= n || body[i] != '"' {
		return values, problemJSON
	}
	keyStart = i
	if i, keyEsc, ok = scanString(body, i+1); !ok {
		return values, problemJSON
	}
	keyEnd = i
	if i < n && body[i] <= ' ' {
		i = skipSpace(body, i)
	}
	if i >= n || body[i] != ':' {
		return values, problemJSON
	}
	if i++; i < n && body[i] <= ' ' {
		i = skipSpace(body, i)
	}
	goto value
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON white space. Callers test body[i] <= ' ' first: calls are dear in the
// wasm guest, and compact JSON has no white space.
func skipSpace(body []byte, i int) int {
	for i < len(body) {
		switch body[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

const (
	ones   = 0x0101010101010101
	highs  = 0x8080808080808080
	quotes = '"' * ones
	slashs = '\\' * ones
	spaces = ' ' * ones
)

// plainStringByte is '1' at the bytes a JSON string may hold unescaped:
// everything but control characters, the quote and the backslash.
const plainStringByte = "00000000000000000000000000000000110111111111111111111111111111111111111111111111111111111111011111111111111111111111111111111111" +
	"11111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"

// scanString checks the rest of a string whose opening quote is just before
// i, returning the index after the closing quote and whether it has escapes.
func scanString(body []byte, i int) (next int, escaped, ok bool) {
	n := len(body)
	for {
		// Eight bytes at a time while none is a quote, a backslash or a
		// control character, then byte by byte.
		for i+8 <= n {
			x := binary.LittleEndian.Uint64(body[i:])
			q, s := x^quotes, x^slashs
			special := (q-ones)&^q | (s-ones)&^s | (x-spaces)&^x
			if special &= highs; special != 0 {
				i += bits.TrailingZeros64(special) / 8
				goto found
			}
			i += 8
		}
		for i < n && plainStringByte[body[i]] == '1' {
			i++
		}
	found:
		if i >= n {
			return i, escaped, false
		}
		switch body[i] {
		case '"':
			return i + 1, escaped, true
		case '\\':
			escaped = true
			if i+1 >= n {
				return i, escaped, false
			}
			switch body[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > n || !isHex(body[i+2]) || !isHex(body[i+3]) || !isHex(body[i+4]) || !isHex(body[i+5]) {
					return i, escaped, false
				}
				i += 6
			default:
				return i, escaped, false
			}
		default: // a control character
			return i, escaped, false
		}
	}
}

// scanNumber checks a JSON number at i and returns the index after it.
func scanNumber(body []byte, i int) (int, bool) {
	n := len(body)
	if i < n && body[i] == '-' {
		i++
	}
	switch {
	case i < n && body[i] == '0':
		i++
	case i < n && body[i] >= '1' && body[i] <= '9':
		i = skipDigits(body, i+1)
	default:
		return i, false
	}
	if i < n && body[i] == '.' {
		j := skipDigits(body, i+1)
		if j == i+1 {
			return j, false
		}
		i = j
	}
	if i < n && (body[i] == 'e' || body[i] == 'E') {
		i++
		if i < n && (body[i] == '+' || body[i] == '-') {
			i++
		}
		j := skipDigits(body, i)
		if j == i {
			return j, false
		}
		i = j
	}
	return i, true
}

func skipDigits(body []byte, i int) int {
	for i < len(body) && body[i] >= '0' && body[i] <= '9' {
		i++
	}
	return i
}

func hasLiteral(body []byte, i int, literal string) bool {
	return len(body)-i >= len(literal) && string(body[i:i+len(literal)]) == literal
}
