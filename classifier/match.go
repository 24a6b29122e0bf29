package classifier

import "strings"

// token is one word of folded text.
type token struct {
	start, end int32 // bytes in the folded text
	word       int32 // vocabulary id, -1 when unknown
	prefix     int32 // longest matching prefix id, -1 when none
	sent       int32 // sentence number
	roles      uint16
	sig        bool // from a signature: platform rules only
}

// hit is a slot found at tokens [start, end].
type hit struct {
	slot       int32
	start, end int32
}

// match is a rule that held, with the tokens it covers.
type match struct {
	rule       int32
	start, end int32 // tokens
	seg        int32
	weight     float64
}

// tokenize appends the tokens of the spans of text to toks.
func (m *matcher) tokenize(text []byte, spans []span, toks []token) []token {
	var sent int32
	for _, sp := range spans {
		sc := scanner{text: text[:sp.end], pos: int(sp.start), sent: sent + 1}
		for {
			start, end, s, ok := sc.next()
			if !ok {
				break
			}
			sent = s
			var ps [4]piece
			n := expandWord(text, start, end, &ps)
			for _, p := range ps[:n] {
				t := token{start: int32(p.start), end: int32(p.end), word: -1, prefix: -1, sent: s, sig: sp.sig}
				var w []byte
				if p.synth != "" {
					t.word = m.lookupString(p.synth)
				} else {
					w = text[p.start:p.end]
					if ids, ok := m.aliases[string(w)]; ok {
						for _, id := range ids {
							t.word = id
							t.roles = m.roles[id]
							toks = append(toks, t)
						}
						continue
					}
					t.word = m.lookup(w)
					t.prefix = m.lookupPrefix(w)
				}
				if t.word >= 0 {
					t.roles = m.roles[t.word]
				}
				toks = append(toks, t)
			}
		}
		sent++
	}
	return toks
}

func (m *matcher) lookupString(w string) int32 {
	if id, ok := m.vocab[w]; ok {
		return id
	}
	return -1
}

// maxTypoLen is the longest word the typo tolerance looks at.
const maxTypoLen = 40

// lookup finds a word in the vocabulary, exactly or within the typo
// tolerance.
func (m *matcher) lookup(w []byte) int32 {
	if id, ok := m.vocab[string(w)]; ok {
		return id
	}
	if len(w) < m.fuzzyMin-1 || len(w) > maxTypoLen {
		return -1
	}
	for _, b := range w {
		if !('a' <= b && b <= 'z') {
			return -1
		}
	}
	f := fuzzyBest{m: m, w: w, id: -1, dist: 3}
	// w is a word with one or two letters left out.
	var hs [maxTypoLen]uint64
	if m.keys.mayHold(deletionHashes(w, hs[:])) {
		f.considerAll(m.deletes[string(w)])
	}
	var buf [maxTypoLen]byte
	for i := range w {
		if !m.keys.mayHold(hs[i]) {
			continue // w without letter i is in neither map
		}
		n := copy(buf[:], w[:i])
		n += copy(buf[n:], w[i+1:])
		d := buf[:n]
		// w has one letter too many…
		if id, ok := m.vocab[string(d)]; ok && m.roles[id]&roleNoFuzzy == 0 && len(m.words[id]) >= m.fuzzyMin {
			f.consider(id)
		}
		// …or one letter wrong, or two swapped.
		f.considerAll(m.deletes[string(d)])
	}
	return f.id
}

// fuzzyBest keeps the closest vocabulary word seen so far.
type fuzzyBest struct {
	m    *matcher
	w    []byte
	id   int32
	dist int
}

func (f *fuzzyBest) consider(id int32) {
	if d := f.m.typoDistance(f.w, f.m.words[id]); d >= 0 && (d < f.dist || d == f.dist && id < f.id) {
		f.id, f.dist = id, d
	}
}

func (f *fuzzyBest) considerAll(ids []int32) {
	for _, id := range ids {
		f.consider(id)
	}
}

// typoDistance is the optimal string alignment distance between a typed
// word and a vocabulary word when it is within the tolerance, else -1.
// One edit is allowed; two for long words, or for a shorter word that only
// lost letters ("pasky" for "passkey"), with the first letter right.
func (m *matcher) typoDistance(typed []byte, word string) int {
	if inflected(typed, word) {
		return -1
	}
	d := osaDistance(typed, word)
	switch {
	case d <= 1:
		return d
	case d == 2 && typed[0] == word[0]:
		if len(word) >= m.twoEdits || len(word) >= 7 && len(typed) == len(word)-2 && isSubsequence(typed, word) {
			return d
		}
	}
	return -1
}

// inflected reports whether one word is the other with a tense ending
// ("enable"/"enabled", "set"/"setting"): not a typo, and the tense matters
// ("I enabled it" reports a step, "how do I enable it" asks for one).
func inflected(typed []byte, word string) bool {
	long, short := string(typed), word
	if len(long) < len(short) {
		long, short = short, long
	}
	rest, ok := strings.CutPrefix(long, short)
	if !ok {
		return false
	}
	switch rest {
	case "d", "ed", "ing", "n", "en":
		return true
	}
	return false
}

func isSubsequence(s []byte, of string) bool {
	j := 0
	for i := 0; i < len(of) && j < len(s); i++ {
		if of[i] == s[j] {
			j++
		}
	}
	return j == len(s)
}

// osaDistance is the Damerau–Levenshtein distance without repeated edits of
// a substring, for short ASCII words (stack buffers, no allocation).
func osaDistance(a []byte, b string) int {
	if len(a) > maxTypoLen || len(b) > maxTypoLen {
		return 99
	}
	var rows [3][maxTypoLen + 1]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := prev[j] + 1
			if x := cur[j-1] + 1; x < v {
				v = x
			}
			if x := prev[j-1] + cost; x < v {
				v = x
			}
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				if x := prev2[j-2] + 1; x < v {
					v = x
				}
			}
			cur[j] = v
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// lookupPrefix returns the longest prefix of the rules that w starts with.
func (m *matcher) lookupPrefix(w []byte) int32 {
	for i := len(m.prefixLens) - 1; i >= 0; i-- {
		l := m.prefixLens[i]
		if l > len(w) {
			continue
		}
		if id, ok := m.prefixes[string(w[:l])]; ok {
			return id
		}
	}
	return -1
}

// scan finds every slot in the tokens, in one pass: at each token the trie
// of all phrases is walked as far as the following tokens allow.
func (m *matcher) scan(toks []token, hits []hit) []hit {
	for i := range toks {
		hits = m.walk(toks, int32(i), 0, int32(i), 0, hits)
	}
	return hits
}

func (m *matcher) child(node int32, elem int32) int32 {
	if node == 0 {
		if int(elem) < len(m.rootChild) {
			return m.rootChild[elem]
		}
		return -1
	}
	if c, ok := m.trie[uint64(node)<<32|uint64(uint32(elem))]; ok {
		return c
	}
	return -1
}

func (m *matcher) walk(toks []token, start, node, j int32, skips int, hits []hit) []hit {
	if int(j) >= len(toks) || toks[j].sent != toks[start].sent {
		return hits
	}
	t := &toks[j]
	if t.word >= 0 {
		if c := m.child(node, wordElem(t.word)); c >= 0 {
			for _, s := range m.nodeSlots[c] {
				hits = append(hits, hit{slot: s, start: start, end: j})
			}
			hits = m.walk(toks, start, c, j+1, skips, hits)
		}
	}
	if t.prefix >= 0 {
		if c := m.child(node, prefixElem(t.prefix)); c >= 0 {
			for _, s := range m.nodeSlots[c] {
				hits = append(hits, hit{slot: s, start: start, end: j})
			}
			hits = m.walk(toks, start, c, j+1, skips, hits)
		}
	}
	if node != 0 && t.roles&roleFiller != 0 && skips < m.settings.MaxFillerSkips {
		hits = m.walk(toks, start, node, j+1, skips+1, hits)
	}
	return hits
}

// evaluate turns the hits of one segment into rule matches.
func (m *matcher) evaluate(toks []token, hits []hit, seg int32, sc *scratch, out []match) []match {
	sc.gen++
	if len(sc.stamp) < len(m.rules) {
		sc.stamp = make([]uint32, len(m.rules))
	}
	cand := sc.cand[:0]
	for _, h := range hits {
		for _, r := range m.slotRules[h.slot] {
			if sc.stamp[r] != sc.gen {
				sc.stamp[r] = sc.gen
				cand = append(cand, r)
			}
		}
	}
	sc.cand = cand
	for _, ri := range cand {
		r := &m.rules[ri]
		if cl := &m.classes[r.class]; (cl.kind == kindPlatform || cl.perMatch) && len(r.slots) == 1 {
			// every mention counts, at its own weight: "replaced my old
			// Galaxy S20 with a Galaxy S24"; a door, a keypad and a badge
			lastEnd := int32(-1)
			for _, h := range hits {
				if h.slot != r.slots[0] || h.start <= lastEnd {
					continue
				}
				w := r.weight
				if cl.kind == kindPlatform {
					w *= m.damping(toks, h.start, h.end)
				} else if toks[h.start].sig || r.negatable && m.negated(toks, h.start) {
					continue // signatures only tell the platform
				}
				lastEnd = h.end
				out = append(out, match{rule: ri, start: h.start, end: h.end, seg: seg, weight: w})
			}
			continue
		}
		start, end, ok := m.find(toks, hits, r)
		if !ok {
			continue
		}
		if toks[start].sig {
			continue // signatures only tell the platform
		}
		out = append(out, match{rule: ri, start: start, end: end, seg: seg, weight: r.weight})
	}
	return out
}

// find looks for the slots of a rule among the hits, not negated, and
// returns the tokens the match covers.
func (m *matcher) find(toks []token, hits []hit, r *compiledRule) (int32, int32, bool) {
	first := r.slots[0]
	for _, h := range hits {
		if h.slot != first {
			continue
		}
		if len(r.slots) == 1 {
			if r.negatable && m.negated(toks, h.start) {
				continue
			}
			return h.start, h.end, true
		}
		start, end := h.start, h.end
		var chosen [8][2]int32 // spans taken by the slots so far
		chosen[0] = [2]int32{h.start, h.end}
		nChosen := 1
		okAll := true
		for _, s := range r.slots[1:] {
			best := int32(-1)
			bestStart, bestEnd := int32(0), int32(0)
		hits:
			for _, o := range hits {
				if o.slot != s {
					continue
				}
				for _, c := range chosen[:nChosen] {
					if o.start <= c[1] && o.end >= c[0] {
						continue hits // the same words cannot fill two slots
					}
				}
				if r.ordered && o.start <= end {
					continue
				}
				if !r.textScope {
					if toks[o.start].sent != toks[h.start].sent {
						continue
					}
					lo, hi := min(start, o.start), max(end, o.end)
					if hi-lo > r.window {
						continue
					}
				}
				dist := o.start - h.start
				if dist < 0 {
					dist = -dist
				}
				if best < 0 || dist < best {
					best, bestStart, bestEnd = dist, o.start, o.end
				}
			}
			if best < 0 {
				okAll = false
				break
			}
			if nChosen < len(chosen) {
				chosen[nChosen] = [2]int32{bestStart, bestEnd}
				nChosen++
			}
			if !r.textScope {
				start, end = min(start, bestStart), max(end, bestEnd)
			}
		}
		if !okAll {
			continue
		}
		if r.negatable && m.negated(toks, start) {
			continue
		}
		return start, end, true
	}
	return 0, 0, false
}

// negated reports whether a negator stands shortly before token i, with
// only connector words between ("not about my passkey").
func (m *matcher) negated(toks []token, i int32) bool {
	sent := toks[i].sent
	for k, n := i-1, 0; k >= 0 && n < m.settings.NegationReach; k, n = k-1, n+1 {
		t := &toks[k]
		if t.sent != sent {
			return false
		}
		if t.roles&roleNegator != 0 {
			return true
		}
		if t.roles&roleConnector == 0 {
			return false
		}
	}
	return false
}

// damping weakens a platform word that names a device the reporter no
// longer uses: "old iPhone", "before an iPhone", "switched from an iPhone",
// "the iPhone died".
func (m *matcher) damping(toks []token, i, end int32) float64 {
	if end > i {
		return 1 // a phrase ("sent from my iPhone") stands on its own
	}
	const weak = 0.25
	sent := toks[i].sent
	for k, n := i-1, 0; k >= 0 && n < 4; k, n = k-1, n+1 {
		t := &toks[k]
		if t.sent == sent && t.roles&rolePlatform != 0 && k == i-1 {
			// a model after its brand ("Galaxy S23"): the brand's fate
			return m.damping(toks, k, k)
		}
		if t.sent != sent || t.roles&rolePlatform != 0 {
			break // another device's name: the damping word was its
		}
		if t.roles&roleDamped != 0 {
			if k > 0 && toks[k-1].roles&roleUndamp != 0 {
				break // "the same old Galaxy"
			}
			if toks[k+1].roles&roleTime != 0 {
				continue // "vorige week": a time, not a device
			}
			return weak
		}
		if t.roles&roleFrom != 0 {
			for j, n2 := k-1, 0; j >= 0 && n2 < 3 && toks[j].sent == sent; j, n2 = j-1, n2+1 {
				if toks[j].roles&roleChange != 0 {
					return weak
				}
			}
		}
	}
	for k := i + 1; int(k) < len(toks) && k <= i+3; k++ {
		t := &toks[k]
		if t.sent != sent {
			break
		}
		if t.roles&roleDamped != 0 {
			break // "New Samsung, old phone lost": the other device's fate
		}
		if t.roles&roleDampedAfter != 0 {
			return weak
		}
	}
	return 1
}
