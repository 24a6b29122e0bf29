package classifier

import (
	"fmt"
	"maps"
	"strings"
)

// Word roles, a bit set per vocabulary word.
const (
	roleNegator uint16 = 1 << iota
	roleConnector
	roleFiller
	roleDamped
	roleNoFuzzy
	roleDampedAfter
	roleFrom
	roleChange
	roleUndamp
	rolePlatform
	roleTime
)

// Class kinds.
const (
	kindCategory uint8 = iota
	kindSignal
	kindPlatform
)

type class struct {
	kind      uint8
	id        string
	threshold float64
	requires  []string
	perMatch  bool
}

type compiledRule struct {
	class     int32
	negative  bool
	veto      bool
	slots     []int32
	window    int32
	ordered   bool
	textScope bool
	weight    float64
	negatable bool
	label     string
}

// element kinds inside a trie key: a word id or a prefix id.
func wordElem(id int32) int32   { return id << 1 }
func prefixElem(id int32) int32 { return id<<1 | 1 }

// matcher is the compiled form of a Rules document.
type matcher struct {
	settings Settings

	vocab      map[string]int32
	words      []string
	roles      []uint16
	prefixes   map[string]int32
	prefixLens []int
	aliases    map[string][]int32
	deletes    map[string][]int32
	keys       keyFilter // the keys of vocab and deletes, for the typo lookup
	fuzzyMin   int
	twoEdits   int

	rootChild []int32 // by element, for the root node; -1 = none
	trie      map[uint64]int32
	nodeSlots [][]int32
	nodes     int32

	slots     []string
	slotIndex map[string]int32
	slotRules [][]int32
	rules     []compiledRule
	classes   []class
	classIdx  map[string]int32

	markers textMarkers
	signals []string // signal ids, in order
}

const maxAtomsPerSlot = 20000

func newMatcher(rs *Rules) (*matcher, error) {
	s := rs.Settings
	if s.MinConfidence == 0 {
		s.MinConfidence = 0.5
	}
	if s.Window == 0 {
		s.Window = 8
	}
	if s.FuzzyMinLen == 0 {
		s.FuzzyMinLen = 6
	}
	if s.FuzzyTwoEditsLen == 0 {
		s.FuzzyTwoEditsLen = 8
	}
	if s.NegationReach == 0 {
		s.NegationReach = 4
	}
	if s.MaxFillerSkips == 0 {
		s.MaxFillerSkips = 2
	}
	m := &matcher{
		settings:  s,
		vocab:     map[string]int32{},
		prefixes:  map[string]int32{},
		aliases:   map[string][]int32{},
		deletes:   map[string][]int32{},
		fuzzyMin:  s.FuzzyMinLen,
		twoEdits:  s.FuzzyTwoEditsLen,
		trie:      map[uint64]int32{},
		nodeSlots: [][]int32{nil},
		nodes:     1,
		slotIndex: map[string]int32{},
		classIdx:  map[string]int32{},
	}
	for _, list := range []struct {
		words []string
		role  uint16
	}{
		{rs.Words.Negators, roleNegator | roleNoFuzzy},
		{rs.Words.Connectors, roleConnector | roleNoFuzzy},
		{rs.Words.Fillers, roleFiller | roleNoFuzzy},
		{rs.Words.Damped, roleDamped | roleNoFuzzy},
		{rs.Words.DampedAfter, roleDampedAfter | roleNoFuzzy},
		{rs.Words.From, roleFrom | roleNoFuzzy},
		{rs.Words.Change, roleChange},
		{rs.Words.Exact, roleNoFuzzy},
		{rs.Words.Undamp, roleUndamp | roleNoFuzzy},
		{rs.Words.Time, roleTime | roleNoFuzzy},
	} {
		for _, w := range list.words {
			for _, tok := range patternTokens(w) {
				id := m.word(tok)
				m.roles[id] |= list.role
			}
		}
	}
	for _, from := range sortedKeys(rs.Words.Aliases) {
		key := patternTokens(from)
		if len(key) != 1 {
			return nil, fmt.Errorf("alias %q must be a single word", from)
		}
		to := patternTokens(rs.Words.Aliases[from])
		if len(to) == 0 {
			return nil, fmt.Errorf("alias %q has an empty replacement", from)
		}
		ids := make([]int32, len(to))
		for i, t := range to {
			ids[i] = m.word(t)
		}
		m.aliases[key[0]] = ids
	}

	// Classes and rules.
	addClass := func(kind uint8, id string, c Class) error {
		ci := int32(len(m.classes))
		th := c.Threshold
		if th == 0 {
			th = 1
		}
		m.classes = append(m.classes, class{kind: kind, id: id, threshold: th, requires: c.Requires, perMatch: c.PerMatch})
		m.classIdx[id] = ci
		for _, list := range []struct {
			rules    []Rule
			negative bool
		}{{c.Rules, false}, {c.Negative, true}} {
			for _, r := range list.rules {
				if err := m.addRule(rs, ci, r, list.negative); err != nil {
					return fmt.Errorf("%s: rule %q: %w", id, r.label(), err)
				}
			}
		}
		return nil
	}
	for _, id := range Categories() {
		if err := addClass(kindCategory, id, rs.Categories[id]); err != nil {
			return nil, err
		}
	}
	m.signals = signalIDs()
	for _, id := range m.signals {
		if err := addClass(kindSignal, id, rs.Signals[id]); err != nil {
			return nil, err
		}
	}
	for _, id := range []string{PlatformIOS, PlatformAndroid} {
		if c, ok := rs.Platforms[id]; ok {
			if err := addClass(kindPlatform, id, c); err != nil {
				return nil, err
			}
		}
	}

	// Platform words stop a damping scan: "old Pixel 6 -> Pixel 8".
	for _, c := range rs.Platforms {
		for _, r := range c.Rules {
			for _, slot := range r.slots() {
				for _, alt := range strings.Split(slot, "|") {
					if toks := patternTokens(alt); len(toks) == 1 {
						if id, ok := m.vocab[toks[0]]; ok {
							m.roles[id] |= rolePlatform
						}
					}
				}
			}
		}
	}

	// Trap words are matched exactly: a typo tolerance on them would turn
	// ordinary words into off-topic evidence.
	ruleWords := func(rules []Rule, into map[string]bool) {
		for _, r := range rules {
			for _, slot := range r.slots() {
				for _, alt := range strings.Split(slot, "|") {
					for _, tok := range patternTokens(alt) {
						into[tok] = true
					}
				}
			}
		}
	}
	trap, other := map[string]bool{}, map[string]bool{}
	ruleWords(rs.Signals[SigOffTopic].Rules, trap)
	for _, sec := range rs.sections() {
		for id, c := range sec.classes {
			if sec.kind == "signal" && id == SigOffTopic {
				continue
			}
			ruleWords(c.Rules, other)
		}
	}
	for _, members := range rs.Groups {
		ruleWords([]Rule{{Near: members}}, other)
	}
	for tok := range trap {
		if id, ok := m.vocab[tok]; ok && !other[tok] {
			m.roles[id] |= roleNoFuzzy
		}
	}

	// Root index by element.
	m.rootChild = make([]int32, 2*(len(m.words)+len(m.prefixes))+2)
	for i := range m.rootChild {
		m.rootChild[i] = -1
	}
	for k, child := range m.trie {
		if k>>32 == 0 {
			m.rootChild[int32(k&0xffffffff)] = child
		}
	}

	// Typo index: every word of the vocabulary long enough, with one or
	// two letters deleted.
	for id, w := range m.words {
		if m.roles[id]&roleNoFuzzy != 0 || !isASCIIWord(w) || len(w) < m.fuzzyMin {
			continue
		}
		m.addDeletes(w, int32(id), 1)
		if len(w) >= 7 {
			m.addDeletes(w, int32(id), 2)
		}
	}
	m.keys = newKeyFilter(len(m.vocab)+len(m.deletes), maps.Keys(m.vocab), maps.Keys(m.deletes))
	for l := range m.prefixLenSet() {
		m.prefixLens = append(m.prefixLens, l)
	}
	sortInts(m.prefixLens)

	markers, err := compileMarkers(rs.Text)
	if err != nil {
		return nil, err
	}
	m.markers = markers
	return m, nil
}

func (m *matcher) prefixLenSet() map[int]bool {
	set := map[int]bool{}
	for p := range m.prefixes {
		set[len(p)] = true
	}
	return set
}

func (m *matcher) addDeletes(w string, id int32, depth int) {
	var rec func(s string, d int)
	rec = func(s string, d int) {
		for i := 0; i < len(s); i++ {
			del := s[:i] + s[i+1:]
			if d == 1 {
				list := m.deletes[del]
				if len(list) == 0 || list[len(list)-1] != id {
					m.deletes[del] = append(list, id)
				}
				continue
			}
			rec(del, d-1)
		}
	}
	rec(w, depth)
}

func isASCIIWord(w string) bool {
	for i := 0; i < len(w); i++ {
		if !('a' <= w[i] && w[i] <= 'z') {
			return false
		}
	}
	return true
}

func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

func (m *matcher) word(w string) int32 {
	if id, ok := m.vocab[w]; ok {
		return id
	}
	id := int32(len(m.words))
	m.vocab[w] = id
	m.words = append(m.words, w)
	m.roles = append(m.roles, 0)
	return id
}

func (m *matcher) prefix(p string) int32 {
	if id, ok := m.prefixes[p]; ok {
		return id
	}
	id := int32(len(m.prefixes))
	m.prefixes[p] = id
	return id
}

// patternTokens folds and splits pattern text the way ticket text is, and
// returns the token strings.
func patternTokens(text string) []string {
	folded, _ := fold(nil, nil, []byte(text))
	sc := scanner{text: folded}
	var out []string
	for {
		start, end, _, ok := sc.next()
		if !ok {
			return out
		}
		var ps [4]piece
		n := expandWord(folded, start, end, &ps)
		for _, p := range ps[:n] {
			if p.synth != "" {
				out = append(out, p.synth)
			} else {
				out = append(out, string(folded[p.start:p.end]))
			}
		}
	}
}

// atom is one element of an expanded pattern sequence.
type atom = int32

// expandSlot turns slot text into every token sequence it stands for: the
// slot's alternatives ("|"), each a sequence of words, prefixes ("regist*")
// and groups ("@passkey"), groups expanded recursively.
func (m *matcher) expandSlot(rs *Rules, slot string, depth int) ([][]atom, error) {
	if depth > 16 {
		return nil, fmt.Errorf("groups nest too deep")
	}
	var out [][]atom
	for _, alt := range strings.Split(slot, "|") {
		seqs, err := m.expandSequence(rs, alt, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, seqs...)
		if len(out) > maxAtomsPerSlot {
			return nil, fmt.Errorf("slot %q expands to more than %d phrases", slot, maxAtomsPerSlot)
		}
	}
	return out, nil
}

func (m *matcher) expandSequence(rs *Rules, text string, depth int) ([][]atom, error) {
	seqs := [][]atom{{}}
	for _, el := range strings.Fields(text) {
		var alts [][]atom
		switch name, isGroup := strings.CutPrefix(el, "@"); {
		case isGroup:
			members, found := rs.Groups[name]
			if !found {
				return nil, fmt.Errorf("group @%s is not defined", name)
			}
			for _, mem := range members {
				sub, err := m.expandSlot(rs, mem, depth+1)
				if err != nil {
					return nil, err
				}
				alts = append(alts, sub...)
			}
		case strings.HasSuffix(el, "*"):
			toks := patternTokens(strings.TrimSuffix(el, "*"))
			if len(toks) == 0 {
				return nil, fmt.Errorf("prefix %q is empty once normalised", el)
			}
			seq := make([]atom, 0, len(toks))
			for _, t := range toks[:len(toks)-1] {
				seq = append(seq, wordElem(m.word(t)))
			}
			alts = append(alts, append(seq, prefixElem(m.prefix(toks[len(toks)-1]))))
		default:
			var seq []atom
			for _, t := range patternTokens(el) {
				if ids, ok := m.aliases[t]; ok {
					for _, id := range ids {
						seq = append(seq, wordElem(id))
					}
					continue
				}
				seq = append(seq, wordElem(m.word(t)))
			}
			if len(seq) == 0 {
				continue // punctuation only
			}
			alts = append(alts, seq)
		}
		next := make([][]atom, 0, len(seqs)*len(alts))
		for _, s := range seqs {
			for _, a := range alts {
				seq := make([]atom, 0, len(s)+len(a))
				next = append(next, append(append(seq, s...), a...))
			}
		}
		if len(next) > maxAtomsPerSlot {
			return nil, fmt.Errorf("%q expands to more than %d phrases", text, maxAtomsPerSlot)
		}
		seqs = next
	}
	return seqs, nil
}

func (m *matcher) slotID(rs *Rules, text string) (int32, error) {
	norm := strings.Join(strings.Fields(text), " ")
	if id, ok := m.slotIndex[norm]; ok {
		return id, nil
	}
	seqs, err := m.expandSlot(rs, norm, 0)
	if err != nil {
		return 0, err
	}
	id := int32(len(m.slots))
	m.slots = append(m.slots, norm)
	m.slotIndex[norm] = id
	m.slotRules = append(m.slotRules, nil)
	for _, seq := range seqs {
		if len(seq) == 0 {
			continue
		}
		node := int32(0)
		for _, el := range seq {
			k := uint64(node)<<32 | uint64(uint32(el))
			child, ok := m.trie[k]
			if !ok {
				child = m.nodes
				m.nodes++
				m.trie[k] = child
				m.nodeSlots = append(m.nodeSlots, nil)
			}
			node = child
		}
		if !containsID(m.nodeSlots[node], id) {
			m.nodeSlots[node] = append(m.nodeSlots[node], id)
		}
	}
	return id, nil
}

func containsID(list []int32, id int32) bool {
	for _, x := range list {
		if x == id {
			return true
		}
	}
	return false
}

func (m *matcher) addRule(rs *Rules, ci int32, r Rule, negative bool) error {
	cr := compiledRule{
		class:     ci,
		negative:  negative,
		veto:      r.Veto,
		window:    int32(r.Window),
		ordered:   r.Ordered,
		textScope: r.Scope == "text",
		weight:    r.Weight,
		negatable: !r.NoNegation && !negative,
		label:     r.label(),
	}
	if cr.weight == 0 {
		cr.weight = 1
	}
	if cr.window == 0 {
		cr.window = int32(m.settings.Window)
	}
	ri := int32(len(m.rules))
	for _, s := range r.slots() {
		id, err := m.slotID(rs, s)
		if err != nil {
			return err
		}
		cr.slots = append(cr.slots, id)
		if !containsID(m.slotRules[id], ri) {
			m.slotRules[id] = append(m.slotRules[id], ri)
		}
	}
	m.rules = append(m.rules, cr)
	return nil
}
