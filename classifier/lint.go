package classifier

import (
	"sort"
	"strings"
)

// PhraseUse is how many labeled tickets one phrase of the rules matched:
// a phrase is one alternative of a phrase rule, or a whole near rule.
type PhraseUse struct {
	Class   string `json:"class"` // the category, signal or platform
	Rule    string `json:"rule"`  // the rule's label
	Phrase  string `json:"phrase"`
	Tickets int    `json:"tickets"`
}

// RuleUse counts, for every phrase of rs, the tickets whose trace shows it
// matched. c must be compiled from rs. A phrase that matches no labeled
// ticket, or only one, is vocabulary nobody has shown to be general: a
// candidate for removal (`triage rules lint`).
func (c *Classifier) RuleUse(rs *Rules, tickets []Ticket) []PhraseUse {
	type key struct{ class, rule string }
	phrases := map[key][]string{}
	var order []key
	for _, sec := range rs.sections() {
		for _, class := range sortedKeys(sec.classes) {
			cl := sec.classes[class]
			for _, r := range append(append([]Rule(nil), cl.Rules...), cl.Negative...) {
				k := key{class, r.label()}
				if _, seen := phrases[k]; seen {
					continue
				}
				order = append(order, k)
				if r.Phrase != "" {
					phrases[k] = strings.Split(r.Phrase, "|")
				} else {
					phrases[k] = []string{r.label()}
				}
			}
		}
	}
	counts := map[[3]string]int{}
	for _, t := range tickets {
		seen := map[[3]string]bool{}
		for _, e := range c.Trace(t).Evidence {
			alts, ok := phrases[key{e.Label, e.Rule}]
			if !ok {
				continue
			}
			p := alts[0]
			if len(alts) > 1 {
				p = bestAlternative(alts, e.Text)
			}
			id := [3]string{e.Label, e.Rule, p}
			if !seen[id] {
				seen[id] = true
				counts[id]++
			}
		}
	}
	var out []PhraseUse
	for _, k := range order {
		for _, p := range phrases[k] {
			out = append(out, PhraseUse{Class: k.class, Rule: k.rule, Phrase: strings.TrimSpace(p), Tickets: counts[[3]string{k.class, k.rule, p}]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Tickets < out[j].Tickets })
	return out
}

// bestAlternative names the alternative of a phrase rule that a matched
// text came from: the one with most of its words in the text (a group
// reference or a prefix stands for any word it could be), the longer on a
// tie.
func bestAlternative(alts []string, text string) string {
	words := strings.Fields(text)
	best, bestScore := alts[0], -1.0
	for _, a := range alts {
		aw := strings.Fields(a)
		if len(aw) == 0 {
			continue
		}
		hit := 0
		for _, w := range aw {
			for _, t := range words {
				if w == t || strings.HasPrefix(w, "@") || strings.HasSuffix(w, "*") && strings.HasPrefix(t, strings.TrimSuffix(w, "*")) {
					hit++
					break
				}
			}
		}
		score := float64(hit) / float64(len(aw))
		if hit == len(aw) && len(aw) == len(words) {
			score += 1 // exactly the text
		}
		if score > bestScore || score == bestScore && len(a) > len(best) {
			best, bestScore = a, score
		}
	}
	return best
}
