package filters

import "github.com/eventroute/eventroute/filters/event"

// minIndexRun is the shortest run of consecutive rules sharing an exact
// attribute that gets a map index; shorter runs are scanned.
const minIndexRun = 4

// segment is a slice of consecutive rules, either scanned in order or
// indexed by the value of one attribute that every rule in it requires
// exactly.
type segment struct {
	lo, hi int // rules [lo, hi)
	index  map[string][]int
	attr   attribute
}

// ruleSet holds the compiled matches of routes, mirrors or publisher rules,
// in config order, split into segments. Within an indexed segment only the
// rules whose exact value equals the event's attribute can hold, and they
// are listed in config order, so first-match-wins and all-matches keep their
// meaning while the cost of a lookup does not grow with the number of rules.
type ruleSet struct {
	rules []matcher
	segs  []segment
}

// newRuleSet builds the segments: from each position it picks the exact
// attribute shared by the longest run of consecutive rules; runs of
// minIndexRun or more are indexed, everything else is scanned.
func newRuleSet(rules []matcher) ruleSet {
	s := ruleSet{rules: rules}
	keys := make([][]matcher, len(rules))
	for i := range rules {
		keys[i] = rules[i].exactKeys()
	}
	hasKey := func(i int, name string) (string, bool) {
		for _, k := range keys[i] {
			if k.attr.name == name {
				return k.value, true
			}
		}
		return "", false
	}
	for i := 0; i < len(rules); {
		bestRun, bestAttr := 0, attribute{}
		for _, k := range keys[i] {
			run := 1
			for i+run < len(rules) {
				if _, ok := hasKey(i+run, k.attr.name); !ok {
					break
				}
				run++
			}
			if run > bestRun {
				bestRun, bestAttr = run, k.attr
			}
		}
		if bestRun >= minIndexRun {
			seg := segment{lo: i, hi: i + bestRun, attr: bestAttr, index: make(map[string][]int)}
			for j := seg.lo; j < seg.hi; j++ {
				v, _ := hasKey(j, bestAttr.name)
				seg.index[v] = append(seg.index[v], j)
			}
			s.segs = append(s.segs, seg)
			i += bestRun
			continue
		}
		if n := len(s.segs); n > 0 && s.segs[n-1].index == nil && s.segs[n-1].hi == i {
			s.segs[n-1].hi++
		} else {
			s.segs = append(s.segs, segment{lo: i, hi: i + 1})
		}
		i++
	}
	return s
}

// first returns the index of the first rule that holds, or -1.
func (s *ruleSet) first(ev *event.Event) int {
	for si := range s.segs {
		seg := &s.segs[si]
		if seg.index == nil {
			for i := seg.lo; i < seg.hi; i++ {
				if s.rules[i].match(ev) {
					return i
				}
			}
			continue
		}
		v, ok := seg.attr.get(ev)
		if !ok {
			continue
		}
		for _, i := range seg.index[v] {
			if s.rules[i].match(ev) {
				return i
			}
		}
	}
	return -1
}

// all appends the indexes of every rule that holds, in config order.
func (s *ruleSet) all(ev *event.Event, dst []int) []int {
	for si := range s.segs {
		seg := &s.segs[si]
		if seg.index == nil {
			for i := seg.lo; i < seg.hi; i++ {
				if s.rules[i].match(ev) {
					dst = append(dst, i)
				}
			}
			continue
		}
		v, ok := seg.attr.get(ev)
		if !ok {
			continue
		}
		for _, i := range seg.index[v] {
			if s.rules[i].match(ev) {
				dst = append(dst, i)
			}
		}
	}
	return dst
}

// usesData reports whether any rule reads event data.
func (s *ruleSet) usesData() bool {
	for i := range s.rules {
		if s.rules[i].usesData() {
			return true
		}
	}
	return false
}
