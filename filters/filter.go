package filters

import (
	"strings"
	"unsafe"

	"github.com/eventroute/eventroute/filters/event"
	"github.com/tidwall/gjson"
)

// op is the kind of a matcher node.
type op uint8

const (
	opTrue   op = iota // holds for every event (an empty match list)
	opAll              // every kid holds
	opAny              // some kid holds
	opNot              // the single kid does not hold
	opExact            // attribute == value
	opPrefix           // attribute starts with value
	opSuffix           // attribute ends with value
	opData             // the data condition holds
)

// attribute is a context attribute reference resolved at compile time.
type attribute struct {
	id   event.Core // CoreNone for an extension: no string compares at match time for a core attribute
	name string     // the attribute name (used for extensions)
}

// get returns the attribute's value; ok is false when the event lacks it.
func (a attribute) get(ev *event.Event) (string, bool) {
	if f := ev.Field(a.id); f != nil {
		return *f, *f != ""
	}
	return ev.Extension(a.name)
}

// matcher is one node of a compiled filter tree. Matching walks the tree with
// a type switch on op: no interfaces, no reflection, no allocation.
type matcher struct {
	op    op
	attr  attribute
	value string
	kids  []matcher
	data  *dataCond
}

// match reports whether the event satisfies the filter.
func (m *matcher) match(ev *event.Event) bool {
	switch m.op {
	case opTrue:
		return true
	case opAll:
		for i := range m.kids {
			if !m.kids[i].match(ev) {
				return false
			}
		}
		return true
	case opAny:
		for i := range m.kids {
			if m.kids[i].match(ev) {
				return true
			}
		}
		return false
	case opNot:
		return !m.kids[0].match(ev)
	case opExact:
		v, ok := m.attr.get(ev)
		return ok && v == m.value
	case opPrefix:
		v, ok := m.attr.get(ev)
		return ok && strings.HasPrefix(v, m.value)
	case opSuffix:
		v, ok := m.attr.get(ev)
		return ok && strings.HasSuffix(v, m.value)
	case opData:
		return m.data.match(ev)
	}
	return false
}

// usesData reports whether any node reads the event's data.
func (m *matcher) usesData() bool {
	if m.op == opData {
		return true
	}
	for i := range m.kids {
		if m.kids[i].usesData() {
			return true
		}
	}
	return false
}

// exactKeys returns the top-level exact conditions of a compiled match list:
// attributes that must equal a value for the match to hold.
func (m *matcher) exactKeys() []matcher {
	switch m.op {
	case opExact:
		return []matcher{*m}
	case opAll:
		var keys []matcher
		for i := range m.kids {
			if m.kids[i].op == opExact {
				keys = append(keys, m.kids[i])
			} else if m.kids[i].op == opAll {
				keys = append(keys, m.kids[i].exactKeys()...)
			}
		}
		return keys
	}
	return nil
}

// scalar is a JSON scalar from a data condition.
type scalar struct {
	kind kind // kindString, kindNumber or kindBool
	str  string
	num  float64
	b    bool
}

// equal compares a gjson result with the scalar by JSON type and value.
func (s *scalar) equal(r *gjson.Result) bool {
	switch s.kind {
	case kindString:
		return r.Type == gjson.String && r.Str == s.str
	case kindNumber:
		return r.Type == gjson.Number && r.Num == s.num
	case kindBool:
		return (r.Type == gjson.True && s.b) || (r.Type == gjson.False && !s.b)
	}
	return false
}

// compare operators of a data condition, as bits.
const (
	cmpGT uint8 = 1 << iota
	cmpGE
	cmpLT
	cmpLE
)

// dataCond is a compiled `data` filter: every given operator must hold.
type dataCond struct {
	path string

	eq, ne       scalar
	hasEq, hasNe bool

	cmp            uint8 // cmpGT|cmpGE|... present
	gt, ge, lt, le float64

	in    []scalar
	hasIn bool

	exists, hasExists bool

	prefix, suffix       string
	hasPrefix, hasSuffix bool
}

// hasOperator reports whether the condition tests anything at all.
func (d *dataCond) hasOperator() bool {
	return d.hasEq || d.hasNe || d.cmp != 0 || d.hasIn || d.hasExists || d.hasPrefix || d.hasSuffix
}

// match evaluates the condition on the event's JSON data. Events whose data
// is not JSON have no values: only `exists: false` can hold for them.
func (d *dataCond) match(ev *event.Event) bool {
	var r gjson.Result
	if ev.DataKind == event.DataJSON && len(ev.Data) > 0 {
		// The result aliases ev.Data and does not outlive this call.
		r = gjson.Get(unsafe.String(unsafe.SliceData(ev.Data), len(ev.Data)), d.path)
	}
	found := r.Exists()
	if d.hasExists && d.exists != found {
		return false
	}
	if !found {
		// Every operator other than exists needs a value.
		return !(d.hasEq || d.hasNe || d.cmp != 0 || d.hasIn || d.hasPrefix || d.hasSuffix)
	}
	if d.hasEq && !d.eq.equal(&r) {
		return false
	}
	if d.hasNe && d.ne.equal(&r) {
		return false
	}
	if d.cmp != 0 {
		if r.Type != gjson.Number {
			return false
		}
		if d.cmp&cmpGT != 0 && !(r.Num > d.gt) ||
			d.cmp&cmpGE != 0 && !(r.Num >= d.ge) ||
			d.cmp&cmpLT != 0 && !(r.Num < d.lt) ||
			d.cmp&cmpLE != 0 && !(r.Num <= d.le) {
			return false
		}
	}
	if d.hasIn {
		in := false
		for i := range d.in {
			if d.in[i].equal(&r) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if d.hasPrefix && !(r.Type == gjson.String && strings.HasPrefix(r.Str, d.prefix)) {
		return false
	}
	if d.hasSuffix && !(r.Type == gjson.String && strings.HasSuffix(r.Str, d.suffix)) {
		return false
	}
	return true
}
