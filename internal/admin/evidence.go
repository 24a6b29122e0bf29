package admin

import (
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/classifier"
)

// phrase is one matched phrase as the admin sees it: once, whatever how
// many rules and places matched it, with the reporter's own words when
// they can be found.
type phrase struct {
	Text     string   // the reporter's words, else the classifier's matching form
	Labels   []string // the categories and signals it matched
	Kind     string   // of the most telling match
	Where    []string // "summary", "description", "comment 2", …
	Deciding bool     // it matched a signal that decides the escalation's reason
	rank     int
}

// decidingSignals are, per reason, the labels that decide it, most telling
// first; reasons without an entry use the MFA reset's.
var decidingSignals = map[string][]string{
	triage.ReasonSecurity:      {classifier.SigSecurity},
	triage.ReasonPasswordReset: {classifier.CatPasswordForgotten},
	triage.ReasonMFAReset:      {classifier.SigStillFails, classifier.SigResetMFA, classifier.SigLostDevice, classifier.SigNoOtherMethod, classifier.SigStepsDone},
}

// kindRank orders what does not decide: other signals, then categories,
// then what speaks against, then the platform.
var kindRank = map[string]int{"signal": 100, "category": 200, "negative": 300, "platform": 400}

func evidenceRank(e classifier.Evidence, reason string) int {
	deciding, ok := decidingSignals[reason]
	if !ok {
		deciding = decidingSignals[triage.ReasonMFAReset]
	}
	if i := slices.Index(deciding, e.Label); i >= 0 {
		return i
	}
	if r, ok := kindRank[e.Kind]; ok {
		return r
	}
	return 500
}

// phrases lists a record's evidence once per phrase, the deciding signal
// first, each with the reporter's own words when one of sources holds
// them (sources: the ticket's texts where the classifier read them).
func phrases(evidence []classifier.Evidence, reason string, sources func(classifier.Evidence) []string) []phrase {
	var out []phrase
	index := map[string]int{}
	for _, e := range evidence {
		key := collapse(strings.ToLower(e.Text))
		r := evidenceRank(e, reason)
		i, seen := index[key]
		if !seen {
			text := e.Text
			if orig, ok := findOriginal(e.Text, sources(e)); ok {
				text = orig
			}
			index[key] = len(out)
			out = append(out, phrase{Text: text, Kind: e.Kind, rank: r})
			i = len(out) - 1
		}
		p := &out[i]
		if r < p.rank {
			p.rank, p.Kind = r, e.Kind
		}
		p.Deciding = p.Deciding || r < kindRank["signal"]
		if !slices.Contains(p.Labels, e.Label) {
			p.Labels = append(p.Labels, e.Label)
		}
		if w := where(e); !slices.Contains(p.Where, w) {
			p.Where = append(p.Where, w)
		}
	}
	slices.SortStableFunc(out, func(a, b phrase) int { return a.rank - b.rank })
	return out
}

func where(e classifier.Evidence) string {
	if e.Where == "comment" && e.Comment > 0 {
		return "comment " + strconv.Itoa(e.Comment)
	}
	return e.Where
}

// ticketSources returns, for a piece of evidence, the reporter's texts of
// the ticket to look for its words in: the place it names first, then the
// others, then the replies the record kept. Comments by anyone but the
// reporter are never read.
func ticketSources(is *triage.Issue, replies []string) func(classifier.Evidence) []string {
	return func(e classifier.Evidence) []string {
		var first, rest []string
		add := func(text string, here bool) {
			if text == "" {
				return
			}
			if here {
				first = append(first, text)
			} else {
				rest = append(rest, text)
			}
		}
		if is != nil {
			add(is.Summary, e.Where == "summary")
			add(is.Description, e.Where == "description" || e.Where == "signature")
			for i, c := range is.Comments {
				if triage.SameAccount(c.AuthorID, is.ReporterID) {
					add(c.Body, e.Where != "description" && e.Comment == i+1)
				}
			}
		}
		return append(append(first, rest...), replies...)
	}
}

// foldSpecial are the letters whose matching form is not their
// decomposition without marks.
var foldSpecial = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'æ': "ae", 'Æ': "ae", 'œ': "oe", 'Œ': "oe",
	'ø': "o", 'Ø': "o", 'ł': "l", 'Ł': "l", 'đ': "d", 'Đ': "d", 'ı': "i",
	'‘': "'", '’': "'", '`': "'", '´': "'", '“': `"`, '”': `"`, '„': `"`, '«': `"`, '»': `"`,
	'‐': "-", '‑': "-", '–': "-", '—': "-", '−': "-", '…': "...",
}

// foldRune is a rune's matching form, as the classifier folds text:
// compatibility decomposition, marks dropped, lower case.
func foldRune(r rune) string {
	if s, ok := foldSpecial[r]; ok {
		return s
	}
	if r < utf8.RuneSelf {
		return string(unicode.ToLower(r))
	}
	var b strings.Builder
	for _, d := range norm.NFKD.String(string(r)) {
		if !unicode.Is(unicode.Mn, d) {
			b.WriteRune(unicode.ToLower(d))
		}
	}
	return b.String()
}

// collapse makes every run of white space one space and trims the ends.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// findOriginal finds the folded phrase in the first source that holds it
// and returns that source's own words for it (accents, case and all).
// White space counts as one space.
func findOriginal(folded string, sources []string) (string, bool) {
	needle := collapse(folded)
	if needle == "" {
		return "", false
	}
	for _, src := range sources {
		// the folded source, with the byte span in src of each folded byte
		var b strings.Builder
		var from, to []int
		space := true
		for i, r := range src {
			_, size := utf8.DecodeRuneInString(src[i:])
			f := foldRune(r)
			if unicode.IsSpace(r) {
				if space {
					continue
				}
				f, space = " ", true
			} else {
				space = false
			}
			for range len(f) {
				from, to = append(from, i), append(to, i+size)
			}
			b.WriteString(f)
		}
		if at := strings.Index(b.String(), needle); at >= 0 {
			return src[from[at]:to[at+len(needle)-1]], true
		}
	}
	return "", false
}
