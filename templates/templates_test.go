package templates

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/classifier"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var sentAt = time.Date(2024, 5, 14, 9, 31, 0, 0, time.UTC)

// fullData has every field set.
func fullData(platform string) Data {
	return Data{
		TicketKey:    "HD-1042",
		ReporterName: "Hannah",
		Platform:     platform,
		Reason:       triage.ReasonMFAReset,
		Evidence: []Evidence{
			{Label: PasskeyInvalid, Phrase: "passkey can no longer be used", Where: "description"},
			{Label: "escalate-mfa", Phrase: "did all that, still fails", Where: "comment 2"},
		},
		StepsSent: []Sent{
			{Category: PasskeyInvalid, At: sentAt},
			// A time in another zone is shown in UTC.
			{Category: PasskeySetup, At: time.Date(2024, 5, 15, 8, 0, 0, 0, time.FixedZone("CEST", 2*3600))},
		},
		ReporterReplies: []string{
			"I removed the passkey and set up a new one. Defender still says the passkey can no longer be used.",
			"Sent from my iPhone",
		},
		ReporterLanguage: "en",
		MentionsDefender: true,
	}
}

var platforms = []string{PlatformIOS, PlatformAndroid, PlatformUnknown}

type goldenCase struct {
	name  string // golden file base name, without the platform
	doc   string // document name for Render; "" means Reply
	data  Data   // rendered once per platform
	cover []string
	// out, for a suggestion note, is the text for the reporter it shows
	// (rendered with SuggestionNote).
	out *Outgoing
}

// goldenCases are the cases of one language. Each is rendered for every
// platform (see goldenFiles).
func goldenCases(lang string) []goldenCase {
	var cases []goldenCase
	add := func(name, doc string, d Data, cover ...string) {
		d.Language = lang
		cases = append(cases, goldenCase{name: name, doc: doc, data: d, cover: append(cover, doc)})
	}
	d := fullData("")
	add(PasskeySetup, PasskeySetup, d, partialReply, partialGreeting, partialFooter, partialPasskeyIOS, partialPasskeyAndroid)
	for _, doc := range []string{PasskeyInvalid, NewDevice, MFAResetDone, PasswordResetDone, AuthenticatorIncomplete, AuthenticatorSignIn, PasswordForgotten} {
		add(doc, doc, d)
	}
	noDefender := fullData("")
	noDefender.MentionsDefender = false
	add(AuthenticatorIncomplete+"-no-defender", AuthenticatorIncomplete, noDefender)
	add(AuthenticatorSignIn+"-no-defender", AuthenticatorSignIn, noDefender)

	all := fullData("")
	all.Categories = categoryIDs()
	add("reply-all-categories", "", all)
	rev := fullData("")
	rev.Categories = []string{NewDevice, AuthenticatorIncomplete, PasskeySetup, NewDevice}
	add("reply-new-device-first", "", rev)

	for _, r := range []string{triage.ReasonMFAReset, triage.ReasonFollowupTimeout, triage.ReasonRequested} {
		d := fullData("")
		d.Reason = r
		add(EscalationMFA+"-"+r, EscalationMFA, d)
	}
	pw := fullData("")
	pw.Reason = triage.ReasonPasswordReset
	pw.Categories = []string{PasswordForgotten}
	add(EscalationPassword, EscalationPassword, pw)

	note := fullData("")
	note.Categories = []string{PasskeyInvalid, PasskeySetup}
	note.ReporterLanguage = "de"
	add(EvidenceNote+"-mfa-reset", EvidenceNote, note)
	add(EvidenceNote+"-password-reset", EvidenceNote, pw)
	add(EvidenceNote+"-empty", EvidenceNote, Data{Reason: triage.ReasonFollowupTimeout})

	sec := fullData("")
	sec.Reason = triage.ReasonSecurity
	sec.ReporterLanguage = "pt"
	add(SecurityNote, SecurityNote, sec)
	add(SecurityAck, SecurityAck, sec)
	add(Resolved, Resolved, fullData(""))
	add(Resolved+"-no-name", Resolved, Data{TicketKey: "HD-9"})

	// Suggestion notes: in the agents' language (lang), showing the text
	// for a German reporter exactly as it would go out.
	suggest := func(name string, action string, out Outgoing) {
		d := fullData("")
		d.Action, d.Confidence, d.ReporterLanguage = action, 0.8449, "de"
		d.Categories = out.Data.Categories
		d.StepsSent, d.ReporterReplies = nil, nil
		add(name, SuggestionNote, d)
		cases[len(cases)-1].out = &out
	}
	reporter := Data{TicketKey: "HD-1042", ReporterName: "Hannah", Language: "de", ReporterLanguage: "de", Categories: []string{PasskeyInvalid, NewDevice}}
	suggest(SuggestionNote+"-reply", "reply", Outgoing{Data: reporter})
	esc := reporter
	esc.Reason, esc.Categories = triage.ReasonMFAReset, nil
	suggest(SuggestionNote+"-escalate-mfa", "escalate-mfa", Outgoing{Doc: EscalationMFA, Data: esc})
	// an agent's command that could not be read, shown as written (inert)
	unreadable := Data{TicketKey: "HD-1042", Language: lang, Command: "/triage wrong pasky-setup *now* [x|http://evil]"}
	add(CommandUnreadable, CommandUnreadable, unreadable)

	if lang != English {
		return cases
	}
	hostile := fullData("")
	hostile.ReporterName = `*{code}[x|http://evil]{code} {{.TicketKey}} <script>alert(1)</script>`
	hostile.Categories = []string{AuthenticatorSignIn}
	add("hostile-reply", "", hostile)
	hostile.Evidence = append(hostile.Evidence, Evidence{Label: "h1. label", Phrase: "{{template \"x\"}} [~admin] !img.png!", Where: "# where"})
	hostile.ReporterReplies = []string{"line one\nh1. line two\n* line three", `C:\Users\me \\ done`, "log in at https://evil.example/login or mailto:boss@evil.example, www.evil.example"}
	hostile.ReporterLanguage = "xx\n*bold*"
	add("hostile-evidence-note", EvidenceNote, hostile)
	return cases
}

func (c goldenCase) render(s *Set, platform string) (Rendered, []block, error) {
	d := c.data
	d.Platform = platform
	if c.out != nil {
		out := *c.out
		out.Data.Platform = platform
		blocks, err := s.suggestionNote(d, out)
		if err != nil {
			return Rendered{}, nil, err
		}
		r, err := s.SuggestionNote(d, out)
		return r, blocks, err
	}
	blocks, err := blocksOf(s, c.doc, d)
	if err != nil {
		return Rendered{}, nil, err
	}
	if c.doc == "" {
		r, err := s.Reply(d)
		return r, blocks, err
	}
	r, err := s.Render(c.doc, d)
	return r, blocks, err
}

// goldenFiles renders every case of every language for every platform and
// returns the golden files they make (path under testdata/golden → text):
// "<lang>/<case>.wiki" when the three platforms give the same text, else
// "<lang>/<case>-<platform>.wiki" for each.
func goldenFiles(t *testing.T, s *Set) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, lang := range Languages() {
		for _, c := range goldenCases(lang) {
			texts := map[string]string{}
			for _, p := range platforms {
				r, blocks, err := c.render(s, p)
				if err != nil {
					t.Fatalf("%s/%s (%s): render: %v", lang, c.name, p, err)
				}
				checkBlocks(t, blocks)
				texts[p] = r.Wiki + "\n"
			}
			if texts[PlatformIOS] == texts[PlatformAndroid] && texts[PlatformIOS] == texts[PlatformUnknown] {
				files[lang+"/"+c.name+".wiki"] = texts[PlatformIOS]
				continue
			}
			for _, p := range platforms {
				files[lang+"/"+c.name+"-"+p+".wiki"] = texts[p]
			}
		}
	}
	return files
}

// TestGolden compares the wiki markup of every document, in every language
// and for every platform, with testdata/golden/<lang>/.
// Regenerate with: go test ./templates/ -run TestGolden -update
func TestGolden(t *testing.T) {
	t.Parallel()
	files := goldenFiles(t, mustLoad(t))
	for name, text := range files {
		compareGolden(t, name, text)
	}
	// No stale golden files are left behind.
	have, _ := filepath.Glob(filepath.Join("testdata", "golden", "*", "*"))
	flat, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.wiki"))
	for _, f := range append(have, flat...) {
		rel, _ := filepath.Rel(filepath.Join("testdata", "golden"), f)
		if _, ok := files[filepath.ToSlash(rel)]; !ok {
			if *update {
				_ = os.Remove(f)
				continue
			}
			t.Errorf("stale golden file %s", f)
		}
	}
}

func compareGolden(t *testing.T, file, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", filepath.FromSlash(file))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v (run go test ./templates/ -run TestGolden -update to create it)", err)
		return
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", file, diff)
	}
}

// TestGoldenCoverage makes sure every template of every language appears in
// some golden case.
func TestGoldenCoverage(t *testing.T) {
	t.Parallel()
	for _, lang := range Languages() {
		covered := map[string]bool{}
		for _, c := range goldenCases(lang) {
			for _, n := range c.cover {
				covered[n] = true
			}
			if c.doc == "" {
				covered[partialReply] = true
			}
		}
		for _, n := range allNames() {
			if !covered[n] {
				t.Errorf("%s: template %q has no golden case", lang, n)
			}
		}
	}
}

// TestEveryLanguageHasEveryTemplate checks the embedded texts: each language
// has a file for each template and no other file.
func TestEveryLanguageHasEveryTemplate(t *testing.T) {
	t.Parallel()
	if diff := cmp.Diff(classifier.Languages(), Languages()); diff != "" {
		t.Errorf("the templates' languages differ from the classifier's (-classifier +templates):\n%s", diff)
	}
	for _, lang := range Languages() {
		var want []string
		for _, n := range allNames() {
			want = append(want, n+ext)
		}
		entries, err := embedded.ReadDir("text/" + lang)
		if err != nil {
			t.Errorf("%s: %v", lang, err)
			continue
		}
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("text/%s/ (-want +got):\n%s", lang, diff)
		}
	}
	dirs, _ := embedded.ReadDir("text")
	for _, d := range dirs {
		if !slices.Contains(Languages(), d.Name()) {
			t.Errorf("text/%s is not a language of Languages()", d.Name())
		}
	}
}

// TestWords checks text/words.json: every language names every category and
// every language, and says "unknown time".
func TestWords(t *testing.T) {
	t.Parallel()
	if len(wordsByLanguage) != len(Languages()) {
		t.Errorf("text/words.json has %d languages, want %d", len(wordsByLanguage), len(Languages()))
	}
	for _, lang := range Languages() {
		w := wordsByLanguage[lang]
		for _, c := range categoryIDs() {
			if w.Titles[c] == "" {
				t.Errorf("%s: no title for %s", lang, c)
			}
		}
		for _, l := range Languages() {
			if w.Languages[l] == "" {
				t.Errorf("%s: no name for the language %s", lang, l)
			}
		}
		if w.UnknownTime == "" {
			t.Errorf("%s: no unknown_time", lang)
		}
		if len(w.Titles) != len(categoryIDs()) || len(w.Languages) != len(Languages()) {
			t.Errorf("%s: unknown entries in text/words.json", lang)
		}
	}
}

// TestRenderedLanguage renders every document for every category, platform,
// reason and Defender mention in every language, and runs the classifier's
// language detector on the text: a translation that left English sentences
// behind (or a template rendered in the wrong language) comes out wrong.
func TestRenderedLanguage(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	c, err := classifier.NewDefault()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Languages() {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			for _, d := range detectorData(lang) {
				for _, doc := range slices.Concat([]string{""}, categoryIDs(), documentNames()) {
					blocks, err := blocksOf(s, doc, d)
					if err != nil {
						t.Fatalf("%s: %v", doc, err)
					}
					text := plainText(blocks)
					if got := c.Language(classifier.Ticket{Description: text}); got != lang {
						t.Errorf("%s (platform %s, reason %s, Defender %t) reads as %q, want %q:\n%s",
							docName(doc), d.Platform, d.Reason, d.MentionsDefender, got, lang, text)
					}
					// Line by line too: one sentence left in another language
					// does not change the verdict on a whole reply. Short lines
					// (labels, headings) tell too little to judge.
					for _, ln := range strings.Split(text, "\n") {
						if len(strings.Fields(ln)) < minLineWords {
							continue
						}
						if got := c.Language(classifier.Ticket{Description: ln}); got != "" && got != lang {
							t.Errorf("%s (%s): a line reads as %q, want %q: %s", docName(doc), d.Platform, got, lang, ln)
						}
					}
				}
			}
		})
	}
}

// minLineWords is the least number of words of a line that
// TestRenderedLanguage judges on its own.
const minLineWords = 8

// detectorData is the data TestRenderedLanguage renders with: every
// platform, reason and Defender mention, all categories (a reply covers them
// all; Render takes one at a time). It quotes no reporter text, so what is
// read is the template's own.
func detectorData(lang string) []Data {
	var out []Data
	for _, p := range platforms {
		for _, r := range triage.Reasons {
			for _, m := range []bool{false, true} {
				out = append(out, Data{
					TicketKey: "HD-7", ReporterName: "Alex", Platform: p, Reason: r, MentionsDefender: m,
					Categories: categoryIDs(), Language: lang, ReporterLanguage: lang,
					StepsSent: []Sent{{Category: PasskeySetup, At: sentAt}},
				})
			}
		}
	}
	return out
}

func docName(doc string) string {
	if doc == "" {
		return "reply"
	}
	return doc
}

// TestLanguageSelection checks how Data.Language picks the language.
func TestLanguageSelection(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	tests := []struct{ in, want string }{
		{"", "Hi Ann,"}, {"en", "Hi Ann,"}, {"de", "Hallo Ann,"}, {"DE-ch", "Hallo Ann,"}, {"pt_BR", "Olá, Ann,"},
		{" fr ", "Bonjour Ann,"}, {"es", "Hola, Ann:"}, {"nl", "Hallo Ann,"}, {"it", "Buongiorno Ann,"},
		{"pl", "Hi Ann,"}, {"xx\n", "Hi Ann,"},
	}
	for _, tt := range tests {
		r, err := s.Render(Resolved, Data{ReporterName: "Ann", Language: tt.in})
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := strings.Cut(r.Wiki, "\n"); got != tt.want {
			t.Errorf("Language %q: greeting %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestDefenderOnlyWhenMentioned checks that no reporter-facing text names
// Defender unless the reporter did.
func TestDefenderOnlyWhenMentioned(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	for _, lang := range Languages() {
		for _, d := range detectorData(lang) {
			for _, doc := range slices.Concat([]string{""}, categoryIDs(), documentNames()) {
				if doc == EvidenceNote {
					continue
				}
				r, err := blocksOf(s, doc, d)
				if err != nil {
					t.Fatal(err)
				}
				if has := strings.Contains(plainText(r), "Defender"); has && !d.MentionsDefender {
					t.Errorf("%s/%s names Defender though the reporter did not", lang, docName(doc))
				}
			}
		}
	}
}

// TestEvidenceNoteNamesReporterLanguage checks the note in every language.
func TestEvidenceNoteNamesReporterLanguage(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	for _, lang := range Languages() {
		d := fullData(PlatformIOS)
		d.Language, d.ReporterLanguage = lang, "fr"
		d.ReporterReplies = []string{"Ça ne marche toujours pas, *vraiment*."}
		text := plainText(mustBlocks(t, s, EvidenceNote, d))
		if want := languageName(lang, "fr") + " (fr)"; !strings.Contains(text, want) {
			t.Errorf("%s: the note does not name the reporter's language as %q:\n%s", lang, want, text)
		}
		if !strings.Contains(text, d.ReporterReplies[0]) {
			t.Errorf("%s: the note does not quote the reporter as written:\n%s", lang, text)
		}
	}
}

func TestGreeting(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	tests := []struct {
		name     string
		reporter string
		wantWiki string
		wantText string
	}{
		{"named", "Hannah", "Hi Hannah,", "Hi Hannah,"},
		{"empty", "", "Hi,", "Hi,"},
		{"blank", " \t\n ", "Hi,", "Hi,"},
		{"trimmed and collapsed", "  Anne-Marie \n O'Neil ", "Hi Anne-Marie O'Neil,", "Hi Anne-Marie O'Neil,"},
		{"markup", "*Bob* _x_", `Hi \*Bob\* \_x\_,`, "Hi *Bob* _x_,"},
		{"list marker mid-line", "# 1", "Hi # 1,", "Hi # 1,"},
		{"template syntax", "{{.TicketKey}}", `Hi \{\{.TicketKey\}\},`, "Hi {{.TicketKey}},"},
		{"backslash", `a\b`, `Hi a&#92;b,`, `Hi a\b,`},
		{"reserved characters stripped", "A\uE000l\uE001i", "Hi Ali,", "Hi Ali,"},
		{"bidi override stripped", "Eve\u202Egnp.exe", "Hi Evegnp.exe,", "Hi Evegnp.exe,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := s.Render(Resolved, Data{ReporterName: tt.reporter})
			if err != nil {
				t.Fatal(err)
			}
			gotWiki, _, _ := strings.Cut(r.Wiki, "\n")
			if diff := cmp.Diff(tt.wantWiki, gotWiki); diff != "" {
				t.Errorf("wiki greeting (-want +got):\n%s", diff)
			}
			gotText, _, _ := strings.Cut(plainText(mustBlocks(t, s, Resolved, Data{ReporterName: tt.reporter})), "\n")
			if diff := cmp.Diff(tt.wantText, gotText); diff != "" {
				t.Errorf("greeting as text (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTicketTextIsNeverExecuted puts template syntax, wiki markup and HTML in
// every string of the data and checks that they come out as text.
func TestTicketTextIsNeverExecuted(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	hostile := []string{
		`{{.TicketKey}}`,
		`{{template "footer" .}}`,
		`{{define "x"}}boom{{end}}{{template "x"}}`,
		`*{code}[x|http://evil]{code}`,
		`h1. Big`,
		`[~admin] !http://evil/x.png! {color:red}red{color} {html}<b>x</b>{html}`,
		`<script>alert(1)</script><a href="http://evil">click</a>`,
		"two\nlines\r\n# and a list",
	}
	for _, h := range hostile {
		d := Data{
			TicketKey:       "SECRET-1",
			ReporterName:    h,
			Platform:        h,
			Categories:      []string{PasskeySetup},
			Reason:          h,
			Evidence:        []Evidence{{Label: h, Phrase: h, Where: h}},
			StepsSent:       []Sent{{Category: h, At: sentAt}},
			ReporterReplies: []string{h},
		}
		want := clean(h)
		for _, name := range slices.Concat(categoryIDs(), documentNames()) {
			r, err := s.Render(name, d)
			if err != nil {
				t.Fatalf("Render(%s) with %q: %v", name, h, err)
			}
			blocks := mustBlocks(t, s, name, d)
			checkBlocks(t, blocks)
			text := plainText(blocks)
			if strings.Contains(strings.ReplaceAll(text, want, ""), "boom") {
				t.Errorf("%s: ticket text was executed as a template:\n%s", name, text)
			}
			if name == Resolved || name == EvidenceNote {
				if !strings.Contains(text, want) {
					t.Errorf("%s: the text does not show %q literally:\n%s", name, want, text)
				}
			}
			for _, bad := range []string{"{code}", "[x|", "{html}", "{color", "[~admin]", "!http", "\nh1. Big", "{{"} {
				if containsUnescaped(r.Wiki, bad) {
					t.Errorf("%s: wiki holds unescaped %q:\n%s", name, bad, r.Wiki)
				}
			}
		}
	}
}

// containsUnescaped reports whether s holds sub not preceded by a backslash.
func containsUnescaped(s, sub string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], sub)
		if j < 0 {
			return false
		}
		if i+j == 0 || s[i+j-1] != '\\' {
			return true
		}
		i += j + 1
	}
}

// TestBlockShape checks the blocks of every document rendered with several
// data sets.
func TestBlockShape(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	for _, d := range sampleData() {
		for _, name := range slices.Concat(categoryIDs(), documentNames()) {
			checkBlocks(t, mustBlocks(t, s, name, d))
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	a, b := mustLoad(t), mustLoad(t)
	d := fullData(PlatformUnknown)
	d.Categories = categoryIDs()
	for range 3 {
		ra, err1 := a.Reply(d)
		rb, err2 := b.Reply(d)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if diff := cmp.Diff(ra.Wiki, rb.Wiki); diff != "" {
			t.Fatalf("two renders' wiki markup differs (-first +second):\n%s", diff)
		}
	}
	r, err := a.Render(EvidenceNote, d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Wiki, "2024-05-15 06:00 UTC") {
		t.Errorf("time not shown in UTC:\n%s", r.Wiki)
	}
}

func TestReplySections(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	tests := []struct {
		name       string
		categories []string
		platform   string
		want       []string // headings (h3 and h4) in order
	}{
		{"single: no section heading", []string{PasskeySetup}, PlatformIOS, []string{"h4. iPhone / iPad (iOS)"}},
		{"unknown platform: both", []string{PasskeySetup}, PlatformUnknown, []string{"h4. iPhone / iPad (iOS)", "h4. Android"}},
		{"android only", []string{PasskeyInvalid}, "Android", []string{"h4. Android"}},
		{"steps shown once", []string{PasskeyInvalid, NewDevice}, PlatformUnknown, []string{
			"h3. Passkey can no longer be used", "h4. iPhone / iPad (iOS)", "h4. Android", "h3. New phone",
		}},
		{"duplicates dropped, order kept", []string{AuthenticatorSignIn, AuthenticatorIncomplete, AuthenticatorSignIn}, PlatformIOS, []string{
			"h3. Sign in with Microsoft Authenticator", "h3. Finish the sign-in in Authenticator",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := s.Reply(Data{Categories: tt.categories, Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, l := range strings.Split(r.Wiki, "\n") {
				if strings.HasPrefix(l, "h3. ") || strings.HasPrefix(l, "h4. ") {
					got = append(got, l)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("headings (-want +got):\n%s", diff)
			}
			if !strings.HasSuffix(r.Wiki, "a colleague will take over._") {
				t.Errorf("reply does not end with the footer:\n%s", r.Wiki)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	s := mustLoad(t)
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"unknown document", func() error { _, err := s.Render("nope", Data{}); return err }, `no document named "nope"`},
		{"partial is not a document", func() error { _, err := s.Render(partialGreeting, Data{}); return err }, "no document named"},
		{"reply without categories", func() error { _, err := s.Reply(Data{}); return err }, "at least one category"},
		{"unknown category", func() error { _, err := s.Reply(Data{Categories: []string{"x\ny"}}); return err }, `unknown category "x y"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.run()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// writeOverrides creates a directory with the given files.
func writeOverrides(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadOverride(t *testing.T) {
	t.Parallel()
	dir := writeOverrides(t, map[string]string{
		"footer.tmpl":     "_Questions? Reply here, {{.ReporterName}}._\n",
		"resolved.tmpl":   "{{template \"greeting\" .}}\n\nGreat, *{{.TicketKey}}* is solved.\n\n{{template \"footer\" .}}\n",
		".gitkeep":        "",
		".hidden.tmpl~":   "ignored",
		"greeting.tmpl":   "Hello {{if .ReporterName}}{{.ReporterName}}{{else}}there{{end}},\n",
		"new-device.tmpl": "New phone? Set up the passkey there first.\n",
	})
	s, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	r, err := s.Render(Resolved, Data{TicketKey: "HD-1", ReporterName: "*Ann*"})
	if err != nil {
		t.Fatal(err)
	}
	want := "Hello \\*Ann\\*,\n\nGreat, *HD-1* is solved.\n\n_Questions? Reply here, \\*Ann\\*._"
	if diff := cmp.Diff(want, r.Wiki); diff != "" {
		t.Errorf("overridden wiki (-want +got):\n%s", diff)
	}
	// Templates that were not overridden still come from the embedded set.
	r, err = s.Render(AuthenticatorSignIn, Data{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Wiki, "*Send notification*") || !strings.HasPrefix(r.Wiki, "Hello there,") {
		t.Errorf("embedded template with overridden partials:\n%s", r.Wiki)
	}
}

// TestLoadLanguageOverrides checks the per-language override folders, the
// fallback order and Overridden.
func TestLoadLanguageOverrides(t *testing.T) {
	t.Parallel()
	dir := writeOverrides(t, map[string]string{
		"footer.tmpl":           "_Flat English footer._\n",
		"de/footer.tmpl":        "_Deutsche Fußzeile._\n",
		"fr/passkey-setup.tmpl": "Étapes maison pour {{.Platform}}.\n",
		"nl/.keep":              "",
	})
	s, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff([]string{"de/footer.tmpl", "en/footer.tmpl", "fr/passkey-setup.tmpl"}, s.Overridden()); diff != "" {
		t.Errorf("Overridden (-want +got):\n%s", diff)
	}
	tests := []struct {
		lang, doc, want string
	}{
		{"en", MFAResetDone, "_Flat English footer._"},              // flat file: English
		{"de", MFAResetDone, "_Deutsche Fußzeile._"},                // the language's own override
		{"fr", PasskeySetup, "Étapes maison pour ios."},             // the language's own override
		{"es", MFAResetDone, "asistente virtual del soporte de TI"}, // no override: the embedded Spanish text, not the English override
	}
	for _, tt := range tests {
		r, err := s.Render(tt.doc, Data{Language: tt.lang, Platform: PlatformIOS})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Wiki, tt.want) {
			t.Errorf("%s/%s does not contain %q:\n%s", tt.lang, tt.doc, tt.want, r.Wiki)
		}
	}
	if got := mustLoad(t).Overridden(); got != nil {
		t.Errorf("Overridden of the embedded set = %v, want nil", got)
	}
}

// TestResolveFallsBackToEnglish checks the last steps of the fallback: a
// template a language lacks comes from the English override, then from the
// embedded English text.
func TestResolveFallsBackToEnglish(t *testing.T) {
	t.Parallel()
	ov := overrides{English: {"footer": {file: "footer.tmpl", src: "english override"}}}
	src, err := resolve(ov, "xx", "footer", "DIR")
	if err != nil || src.text != "english override" || !strings.Contains(src.desc, `override file "footer.tmpl" in DIR`) {
		t.Errorf("resolve with an English override = %+v, %v", src, err)
	}
	src, err = resolve(overrides{}, "xx", "footer", "")
	if err != nil || !strings.Contains(src.desc, `embedded template "en/footer.tmpl"`) {
		t.Errorf("resolve without overrides = %+v, %v", src, err)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"unknown file", map[string]string{"passkey-setpu.tmpl": "x"},
			[]string{`"passkey-setpu.tmpl"`, "not a template this program knows", "passkey-setup.tmpl"}},
		{"wrong extension", map[string]string{"footer.txt": "x"}, []string{`"footer.txt"`, "not a template"}},
		{"syntax error", map[string]string{"footer.tmpl": "ok\n{{if .ReporterName}}unclosed\n"},
			[]string{`override file "footer.tmpl"`, "syntax error", "line"}},
		{"unknown function", map[string]string{"footer.tmpl": `{{printf "%099999999d" 1}}`},
			[]string{`"footer.tmpl"`, `function "printf" not defined`}},
		{"unknown field", map[string]string{"resolved.tmpl": "Hi {{.Password}}\n"},
			[]string{"resolved.tmpl", "test render", "can't evaluate field Password"}},
		{"define", map[string]string{"footer.tmpl": `{{define "greeting"}}x{{end}}footer`},
			[]string{`"footer.tmpl"`, "{{define}} and {{block}} are not allowed"}},
		{"unclosed bold", map[string]string{"resolved.tmpl": "Hi *there\n"},
			[]string{"resolved.tmpl", "bold text started with * is not closed"}},
		{"include loop", map[string]string{"greeting.tmpl": `{{template "footer" .}}`, "footer.tmpl": `{{template "greeting" .}}`},
			[]string{"include each other in a loop"}},
		{"include unknown", map[string]string{"footer.tmpl": `{{template "signature" .}}`},
			[]string{`"footer.tmpl"`, `{{template "signature"}}`, "no template of that name"}},
		{"reserved character", map[string]string{"footer.tmpl": "a\n\uE000b"},
			[]string{`"footer.tmpl"`, "line 2", "reserved character"}},
		{"range over a number", map[string]string{"resolved.tmpl": "{{range 100000000}}{{end}}x"},
			[]string{"resolved.tmpl", "only lists may be ranged over"}},
		{"ranges nested too deep", map[string]string{
			"greeting.tmpl": "Hi{{range .Categories}} {{.}}{{end}},",
			"resolved.tmpl": "{{range .Categories}}{{range $.Categories}}{{range $.Categories}}{{template \"greeting\" $}}{{end}}{{end}}{{end}}x",
		}, []string{`override file "resolved.tmpl"`, "{{range}} is nested 4 deep", "at most 3"}},
		{"too much work", map[string]string{
			"footer.tmpl": "{{range .Categories}}{{range $.Categories}}{{range $.Categories}}" + strings.Repeat("{{.}}", 200) + "{{end}}{{end}}{{end}}",
		}, []string{`override file "footer.tmpl"`, "could take too long to render"}},
		{"renders nothing", map[string]string{"resolved.tmpl": "{{/* nothing */}}\n\n"},
			[]string{"resolved", "produced no text"}},
		{"not UTF-8", map[string]string{"footer.tmpl": "\xff\xfe"}, []string{"not valid UTF-8"}},
		{"too large", map[string]string{"footer.tmpl": strings.Repeat("x", maxOverride+1)}, []string{"larger than 64 KiB"}},
		{"unknown file in a language folder", map[string]string{"de/passkey-setpu.tmpl": "x"},
			[]string{`"de/passkey-setpu.tmpl"`, "not a template this program knows", "de, fr"}},
		{"unknown language folder", map[string]string{"pl/footer.tmpl": "x"}, []string{`"pl"`, "not a template this program knows"}},
		{"flat and en both", map[string]string{"footer.tmpl": "a", "en/footer.tmpl": "b"}, []string{"both override the English", "keep one"}},
		{"broken language override", map[string]string{"it/footer.tmpl": "{{if .X}}"},
			[]string{`override file "it/footer.tmpl"`, "syntax error"}},
		{"language override fails the test render", map[string]string{"nl/resolved.tmpl": "Hoi {{.Password}}\n"},
			[]string{"nl/resolved.tmpl", "language nl", "can't evaluate field Password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := writeOverrides(t, tt.files)
			s, err := Load(dir)
			if err == nil {
				t.Fatalf("Load succeeded (%v), want an error", s)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\uE000") {
				t.Errorf("error shows a reserved character: %q", err)
			}
		})
	}
	t.Run("missing directory", func(t *testing.T) {
		t.Parallel()
		_, err := Load(filepath.Join(t.TempDir(), "nope"))
		if err == nil || !strings.Contains(err.Error(), "cannot read the override directory") {
			t.Errorf("error = %v", err)
		}
	})
	t.Run("subdirectory", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, "footer.tmpl"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := Load(dir)
		if err == nil || !strings.Contains(err.Error(), `"footer.tmpl"`) {
			t.Errorf("error = %v", err)
		}
	})
}

func TestClean(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"  a \t b\n\nc  ", "a b c"},
		{"\x00a\x1bb\x7f", "a b"},
		{"bad \xff utf8", "bad \uFFFD utf8"},
		{"zero\u200Bwidth\uFEFF", "zerowidth"},
		{"\u2028line\u2029sep", "line sep"},
		{strings.Repeat("é", maxFieldRunes), strings.Repeat("é", maxFieldRunes)},
		{strings.Repeat("é", maxFieldRunes+1), strings.Repeat("é", maxFieldRunes) + "…"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, clean(tt.in)); diff != "" {
			t.Errorf("clean(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	long := strings.Repeat("word ", 100)
	if got := []rune(excerpt(long)); len(got) > maxExcerpt+1 || got[len(got)-1] != '…' {
		t.Errorf("excerpt of a long reply = %q", string(got))
	}
}
