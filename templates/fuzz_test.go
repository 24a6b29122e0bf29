package templates

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/google/go-cmp/cmp"
)

// FuzzRender renders a document (picked by which) with arbitrary strings in the data. It must
// never panic, must give the same output for the same input, the blocks must
// be valid, and the data must never change the structure of the output: the
// same data with every string replaced by "x" (or left empty) has the same
// skeleton of blocks and marks. Seeds: testdata/fuzz/FuzzRender.
func FuzzRender(f *testing.F) {
	f.Add(uint8(0), "Hannah", "ios", PasskeySetup, triage.ReasonMFAReset, "passkey can no longer be used", "description", "did all that, still fails", "HD-1", int64(1715679060))
	f.Add(uint8(3), "", "unknown", NewDevice, triage.ReasonFollowupTimeout, "", "", "", "", int64(0))
	f.Add(uint8(6), "*{code}[x|http://evil]", "Android", PasswordForgotten, triage.ReasonPasswordReset, "{{.TicketKey}}", "# comment", "h1. x\n* y", "{{template \"x\"}}", int64(-62135596800))
	f.Add(uint8(9), "\uE000a\uE001", "\x00", "x", "requested", "<script>", "\\", "&amp; :) (y)", "\xff", int64(1<<62))
	s := mustLoad(f)
	docs := slices.Concat([]string{""}, categoryIDs(), documentNames()) // "": Reply
	f.Fuzz(func(t *testing.T, which uint8, name, platform, category, reason, phrase, where, reply, key string, at int64) {
		d := Data{
			TicketKey:       key,
			ReporterName:    name,
			Platform:        platform,
			Categories:      []string{category, PasskeySetup},
			Reason:          reason,
			Evidence:        []Evidence{{Label: category, Phrase: phrase, Where: where}, {Label: reason, Phrase: name, Where: key}},
			StepsSent:       []Sent{{Category: category, At: time.Unix(at, 0)}},
			ReporterReplies: []string{reply, phrase},
			// which picks the language too, so every language is fuzzed.
			Language:         Languages()[int(which)/len(docs)%len(Languages())],
			ReporterLanguage: reason,
			MentionsDefender: which%2 == 1,
		}
		neutral := d
		x := func(s string) string {
			if clean(s) == "" {
				return ""
			}
			return "x"
		}
		neutral.TicketKey, neutral.ReporterName, neutral.ReporterLanguage = x(key), x(name), x(reason)
		neutral.Evidence = []Evidence{{Label: x(category), Phrase: x(phrase), Where: x(where)}, {Label: x(reason), Phrase: x(name), Where: x(key)}}
		neutral.StepsSent = []Sent{{Category: x(category), At: time.Unix(at, 0)}}
		neutral.ReporterReplies = []string{x(reply), x(phrase)}

		doc := docs[int(which)%len(docs)]
		b1, err1 := blocksOf(s, doc, d)
		b2, err2 := blocksOf(s, doc, d)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%s: errors differ: %v / %v", doc, err1, err2)
		}
		if err1 != nil {
			if doc == "" && !isCategory(category) {
				return // an unknown category is an error, as it should be
			}
			t.Fatalf("%s: %v", doc, err1)
		}
		w1, w2 := toWiki(b1), toWiki(b2)
		if diff := cmp.Diff(w1, w2); diff != "" {
			t.Fatalf("%s: not deterministic (-first +second):\n%s", doc, diff)
		}
		checkBlocks(t, b1)
		if strings.ContainsAny(w1+plainText(b1), reserved) {
			t.Fatalf("%s: reserved character in the output", doc)
		}
		bn, err := blocksOf(s, doc, neutral)
		if err != nil {
			t.Fatalf("%s (neutral data): %v", doc, err)
		}
		if got, want := skeleton(b1), skeleton(bn); got != want {
			t.Fatalf("%s: the data changed the document structure\n got: %s\nwant: %s", doc, got, want)
		}
		if got, want := strings.Count(w1, "\n"), strings.Count(toWiki(bn), "\n"); got != want {
			t.Fatalf("%s: the data changed the number of wiki lines: %d, want %d\n%s", doc, got, want, w1)
		}
	})
}

// FuzzLoad loads an arbitrary override text as one of the templates. Load must
// never panic; when it accepts the override, every document must render to
// valid blocks. Seeds: testdata/fuzz/FuzzLoad.
func FuzzLoad(f *testing.F) {
	f.Add("footer", "_Thanks, {{.ReporterName}}._")
	f.Add("resolved", "{{template \"greeting\" .}}\n\n*Done* {{range .Categories}}{{title .}} {{end}}")
	f.Add("greeting", "{{if")
	f.Add("passkey-steps-ios", "# *a* _b_\n# {{.Platform}}\n* c\nh2. d")
	f.Add("evidence-note", "{{range $i, $e := .Evidence}}{{if $i}}, {{end}}{{$e.Phrase}}{{else}}none{{end}}")
	f.Add("reply", "{{range .Sections}}{{.Body}}{{break}}{{end}}")
	f.Add("footer", "{{template \"footer\" .}}")
	f.Add("nope", "x")
	f.Add("footer", "{{range 10}}{{end}}")
	f.Add("footer", "{{printf \"%s\" .}}")
	f.Add("footer", "a *b\n")
	f.Add("de/footer", "_Danke, {{.ReporterName}}._")
	f.Add("fr/reply", "{{range .Sections}}{{.Title}}{{end}}")
	f.Add("xx/footer", "x")
	f.Fuzz(func(t *testing.T, name, src string) {
		lang, tmpl, ok := strings.Cut(name, "/") // "de/footer": German; "footer": English
		if !ok {
			lang, tmpl = English, name
		}
		s, err := loadSources(overrides{lang: {tmpl: {file: name + ext, src: src}}}, "")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		for _, d := range sampleData()[:2] {
			d.Language = lang
			for _, doc := range slices.Concat(categoryIDs(), documentNames()) {
				blocks, err := blocksOf(s, doc, d)
				if err != nil {
					t.Fatalf("Load accepted the override but %s fails: %v", doc, err)
				}
				checkBlocks(t, blocks)
			}
		}
	})
}

// FuzzMarkup parses arbitrary intermediate markup (as an override can produce
// it): no panic, and what parses gives valid blocks and wiki text without
// reserved characters. Seeds: testdata/fuzz/FuzzMarkup.
func FuzzMarkup(f *testing.F) {
	f.Add("h3. T\n\npara *b* _e_\nline\n# a\n* b")
	f.Add("*_x_* \\* \\_ \\\\ a*b*c")
	f.Add(lit("# v") + " *" + lit("[x|y]") + "*")
	f.Add(string(litOpen) + "\n" + string(litClose))
	f.Add("h1.\n# \n*  *\n_ _")
	f.Fuzz(func(t *testing.T, src string) {
		blocks, err := parseMarkup(src)
		if err != nil {
			return
		}
		if len(blocks) == 0 {
			return
		}
		checkBlocks(t, blocks)
		if w := toWiki(blocks); strings.ContainsAny(w, reserved) {
			t.Fatalf("reserved character in wiki output %q", w)
		}
	})
}
