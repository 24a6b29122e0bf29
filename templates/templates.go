package templates

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// Category ids: one reply template each. They are the classifier's category ids.
const (
	AuthenticatorIncomplete = "authenticator-incomplete"
	PasskeySetup            = "passkey-setup"
	PasskeyInvalid          = "passkey-invalid"
	NewDevice               = "new-device"
	AuthenticatorSignIn     = "authenticator-sign-in"
	PasswordForgotten       = "password-forgotten"
)

// Names of the other documents [Set.Render] accepts.
const (
	EscalationMFA      = "escalation-mfa"      // reporter notice: escalated for an MFA reset
	EscalationPassword = "escalation-password" // reporter notice: escalated for a password reset
	EvidenceNote       = "evidence-note"       // internal note for admins, never for the reporter
	Resolved           = "resolved"            // "glad it worked" acknowledgement
	MFAResetDone       = "mfa-reset-done"      // methods were reset: set up Authenticator and a passkey again
	PasswordResetDone  = "password-reset-done" // the password was reset: sign in with the temporary one
	SecurityNote       = "security-note"       // internal note for agents: a possible attack, why, and the runbook's first steps
	SecurityAck        = "security-ack"        // optional reporter notice: we are on it; approve nothing you did not start
	SuggestionNote     = "suggestion-note"     // internal note for agents: the suggested action, the text that would go out, how to act
	CommandUnreadable  = "command-unreadable"  // internal note for an agent whose /triage command could not be read: the commands
)

// Platforms accepted in [Data.Platform]. Anything else counts as unknown.
const (
	PlatformIOS     = "ios"
	PlatformAndroid = "android"
	PlatformUnknown = "unknown"
)

// Names of the partial templates: not rendered on their own, but included by the
// documents and overridable like them.
const (
	partialReply          = "reply" // layout of a (combined) category reply
	partialGreeting       = "greeting"
	partialFooter         = "footer"
	partialPasskeyIOS     = "passkey-steps-ios"
	partialPasskeyAndroid = "passkey-steps-android"
)

// categoryIDs returns the categories in the spec's order.
func categoryIDs() []string {
	return []string{
		AuthenticatorIncomplete, PasskeySetup, PasskeyInvalid,
		NewDevice, AuthenticatorSignIn, PasswordForgotten,
	}
}

// documentNames returns the documents that are not categories.
func documentNames() []string {
	return []string{EscalationMFA, EscalationPassword, EvidenceNote, Resolved, MFAResetDone, PasswordResetDone, SecurityNote, SecurityAck, SuggestionNote, CommandUnreadable}
}

// partialNames returns the partials.
func partialNames() []string {
	return []string{partialReply, partialGreeting, partialFooter, partialPasskeyIOS, partialPasskeyAndroid}
}

// allNames returns every template name, sorted: the files a Set is made of.
func allNames() []string {
	n := slices.Concat(categoryIDs(), documentNames(), partialNames())
	slices.Sort(n)
	return n
}

// showsPasskeySteps reports whether a category's reply carries the passkey setup steps.
func showsPasskeySteps(c string) bool {
	return c == PasskeySetup || c == PasskeyInvalid || c == NewDevice
}

// Limits that keep rendering cheap whatever the data or an override holds.
const (
	maxItems      = 50        // items kept of each list in Data; the longest list a template may range over
	maxRangeDepth = 3         // how deeply ranges may nest
	maxWork       = 1_000_000 // template nodes one execution may visit, at worst
	maxOutput     = 256 << 10 // bytes one template execution may write
	maxOverride   = 64 << 10  // bytes of one override file
	maxFieldRunes = 500       // runes kept of one data string
	maxExcerpt    = 200       // runes kept of one reporter reply excerpt
)

// Data is everything a template may show. It holds only values: nothing in it is
// ever parsed as a template, and every string is escaped when it is inserted.
type Data struct {
	TicketKey       string
	ReporterName    string     // may be empty: then the greeting is a neutral "Hi,"
	Platform        string     // "ios", "android" or "unknown" (anything else: unknown)
	Categories      []string   // categories a reply covers, in order
	Reason          string     // escalation reason: "mfa-reset", "password-reset", "followup-timeout", "requested"
	Evidence        []Evidence // phrases that made the classifier decide
	StepsSent       []Sent     // replies already posted on the ticket
	ReporterReplies []string   // the reporter's replies, as short excerpts

	// Language is the language to render in (ISO 639-1, see [Languages]);
	// empty or unsupported means English. Replies and notices take the
	// reporter's language, internal notes the agents' language.
	Language string
	// ReporterLanguage is the language detected in the reporter's text
	// (ISO 639-1, "" when none was told); the evidence note names it.
	ReporterLanguage string
	// MentionsDefender is set when the reporter named Microsoft Defender:
	// only then does a reply name it; otherwise it speaks of "the app you
	// were signing in to".
	MentionsDefender bool

	// Action is the suggested action of a suggestion note ("reply",
	// "escalate-mfa", "escalate-password", "resolve"), Confidence the
	// verdict's confidence in [0, 1].
	Action     string
	Confidence float64

	// Command is an agent's /triage command line as written, for the
	// note that says it could not be read.
	Command string
}

// Outgoing is the text for the reporter that a suggestion note shows: the
// reply for Data.Categories when Doc is empty, else the document Doc, both
// rendered with Data (in the reporter's language).
type Outgoing struct {
	Doc  string
	Data Data
}

// Evidence is one matched phrase, e.g. {"passkey-invalid", "passkey can no longer
// be used", "description"}.
type Evidence struct {
	Label  string // category or decision the phrase counts for
	Phrase string // the phrase as matched
	Where  string // where it was found: "summary", "description", "comment 2", ...
}

// Sent is a reply the worker already posted: which category's steps, and when.
type Sent struct {
	Category string
	At       time.Time
}

// Rendered is one comment, in Jira wiki markup: the comment body of REST
// API v2, the only format the worker writes.
type Rendered struct {
	Wiki string // Jira wiki markup
}

// Set is a loaded, validated set of templates: every template in every
// language of [Languages]. It is immutable and safe for concurrent use.
type Set struct {
	tmpl       map[string]*template.Template // by language
	overridden []string                      // "de/footer.tmpl", sorted
}

// Overridden lists the templates an override file replaced, as
// "<lang>/<name>.tmpl" ("en/footer.tmpl" also for a flat "footer.tmpl"),
// sorted; nil when none was.
func (s *Set) Overridden() []string { return slices.Clone(s.overridden) }

// Reply renders the reply to the reporter for d.Categories, in the order given:
// the greeting, one section per category, the footer: one comment. Unknown
// categories are an error; duplicates are dropped.
func (s *Set) Reply(d Data) (Rendered, error) {
	blocks, err := s.reply(d)
	if err != nil {
		return Rendered{}, fmt.Errorf("templates: %w", err)
	}
	return Rendered{Wiki: toWiki(blocks)}, nil
}

// Render renders one document by name: a category id (the same as [Set.Reply]
// with just that category; d.Categories is ignored) or one of [EscalationMFA],
// [EscalationPassword], [EvidenceNote], [Resolved], [MFAResetDone],
// [PasswordResetDone]. d.Language chooses the language.
func (s *Set) Render(name string, d Data) (Rendered, error) {
	blocks, err := s.render(name, d)
	if err != nil {
		return Rendered{}, fmt.Errorf("templates: %w", err)
	}
	return Rendered{Wiki: toWiki(blocks)}, nil
}

// SuggestionNote renders the internal note of a suggestion, in
// d.Language (the agents'): the suggested action and the confidence from d,
// the evidence, and out, the exact text the reporter would get, as it would
// go out (in its own language).
func (s *Set) SuggestionNote(d Data, out Outgoing) (Rendered, error) {
	blocks, err := s.suggestionNote(d, out)
	if err != nil {
		return Rendered{}, fmt.Errorf("templates: %w", err)
	}
	return Rendered{Wiki: toWiki(blocks)}, nil
}

func (s *Set) suggestionNote(d Data, out Outgoing) ([]block, error) {
	var text string
	var err error
	switch {
	case out.Doc == "" && len(out.Data.Categories) == 0:
	case out.Doc == "" || isCategory(out.Doc):
		if out.Doc != "" {
			out.Data.Categories = []string{out.Doc}
		}
		text, err = s.replyMarkup(out.Data)
	case out.Doc == SuggestionNote || !slices.Contains(documentNames(), out.Doc):
		err = fmt.Errorf("%q is not a text for the reporter", clean(out.Doc))
	default:
		text, err = s.execute(out.Doc, newView(out.Data))
	}
	if err != nil {
		return nil, err
	}
	v := newView(d)
	v.Suggested = markup(text)
	res, err := s.execute(SuggestionNote, v)
	if err != nil {
		return nil, err
	}
	return parseOutput(SuggestionNote, res)
}

// reply executes and parses a reply: the blocks [Set.Reply] prints.
func (s *Set) reply(d Data) ([]block, error) {
	out, err := s.replyMarkup(d)
	if err != nil {
		return nil, err
	}
	return parseOutput(partialReply, out)
}

// replyMarkup executes a reply into the intermediate markup.
func (s *Set) replyMarkup(d Data) (string, error) {
	cats, err := replyCategories(d.Categories)
	if err != nil {
		return "", err
	}
	v := newView(d)
	v.Categories = cats
	v.Multi = len(cats) > 1
	stepsIn := "" // title of the section that already shows the passkey setup steps
	for _, c := range cats {
		sv := v
		sv.Category = c
		sv.StepsSection = stepsIn
		sv.StepsAbove = stepsIn != ""
		body, err := s.execute(c, sv)
		if err != nil {
			return "", err
		}
		v.Sections = append(v.Sections, section{Category: c, Title: title(v.Language, c), Body: markup(body)})
		if stepsIn == "" && showsPasskeySteps(c) {
			stepsIn = title(v.Language, c)
		}
	}
	return s.execute(partialReply, v)
}

// render executes and parses one document: the blocks [Set.Render] prints.
func (s *Set) render(name string, d Data) ([]block, error) {
	if isCategory(name) {
		d.Categories = []string{name}
		return s.reply(d)
	}
	if !slices.Contains(documentNames(), name) {
		return nil, fmt.Errorf("there is no document named %q", clean(name))
	}
	out, err := s.execute(name, newView(d))
	if err != nil {
		return nil, err
	}
	return parseOutput(name, out)
}

// execute runs one template in the language of v and returns its
// intermediate markup.
func (s *Set) execute(name string, v view) (string, error) {
	t := s.tmpl[v.Language].Lookup(name)
	if t == nil {
		return "", fmt.Errorf("there is no template named %q in language %q", name, v.Language)
	}
	var buf bytes.Buffer
	if err := t.Execute(&limitWriter{w: &buf, n: maxOutput}, v); err != nil {
		return "", fmt.Errorf("rendering %q: %w", name, err)
	}
	return buf.String(), nil
}

// parseOutput turns the intermediate markup a template produced into blocks; a
// document without any is an error.
func parseOutput(name, out string) ([]block, error) {
	blocks, err := parseMarkup(out)
	if err != nil {
		return nil, fmt.Errorf("rendering %q: %w", name, err)
	}
	if len(blocks) == 0 {
		return nil, fmt.Errorf("rendering %q: the template produced no text", name)
	}
	return blocks, nil
}

func replyCategories(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, errors.New("a reply needs at least one category")
	}
	var out []string
	for _, c := range in {
		if !isCategory(c) {
			return nil, fmt.Errorf("unknown category %q (known: %s)", clean(c), strings.Join(categoryIDs(), ", "))
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

func isCategory(name string) bool { return slices.Contains(categoryIDs(), name) }

// view is what the templates see as "." (documented in doc.go). Every string in
// it is cleaned (see clean); it has no methods, so templates reach only values.
type view struct {
	TicketKey       string
	ReporterName    string
	Platform        string // "ios", "android" or "unknown"
	Categories      []string
	Reason          string
	Evidence        []Evidence
	StepsSent       []sentView
	ReporterReplies []string

	Language             string // the language rendered in: one of Languages()
	ReporterLanguage     string // ISO 639-1 code of the reporter's language, "" when unknown
	ReporterLanguageName string // its name in Language ("" when unknown or unsupported)
	MentionsDefender     bool   // the reporter named Defender
	Action               string // the suggested action of a suggestion note
	Command              string // an agent's command line that could not be read
	Confidence           string // its confidence, "0.84"
	// Suggested is the text for the reporter a suggestion note shows,
	// already in the intermediate markup ("" when none).
	Suggested markup

	ShowIOS     bool // show the iOS steps: platform ios or unknown
	ShowAndroid bool // show the Android steps: platform android or unknown

	// Set while rendering the sections of a reply.
	Category     string    // the category of the section being rendered
	Multi        bool      // the reply has more than one section
	StepsAbove   bool      // an earlier section of this reply shows the passkey setup steps
	StepsSection string    // that section's title
	Sections     []section // for the "reply" layout: the rendered sections
}

type sentView struct {
	Category string
	Title    string
	At       string // "2006-01-02 15:04 UTC"
}

type section struct {
	Category string
	Title    string
	Body     markup
}

// markup is text already in the intermediate markup (a rendered section). Only
// this package creates it, from executed templates; data strings never become it.
type markup string

func newView(d Data) view {
	v := view{
		TicketKey:        clean(d.TicketKey),
		ReporterName:     clean(d.ReporterName),
		Platform:         normalizePlatform(d.Platform),
		Reason:           clean(d.Reason),
		Language:         NormalizeLanguage(d.Language),
		ReporterLanguage: strings.ToLower(clean(d.ReporterLanguage)),
		MentionsDefender: d.MentionsDefender,
		Action:           clean(d.Action),
		Command:          excerpt(d.Command),
		Confidence:       strconv.FormatFloat(min(max(d.Confidence, 0), 1), 'f', 2, 64),
	}
	v.ReporterLanguageName = languageName(v.Language, v.ReporterLanguage)
	v.ShowIOS = v.Platform != PlatformAndroid
	v.ShowAndroid = v.Platform != PlatformIOS
	for _, c := range capped(d.Categories) {
		v.Categories = append(v.Categories, clean(c))
	}
	for _, e := range capped(d.Evidence) {
		v.Evidence = append(v.Evidence, Evidence{Label: clean(e.Label), Phrase: excerpt(e.Phrase), Where: clean(e.Where)})
	}
	for _, st := range capped(d.StepsSent) {
		c := clean(st.Category)
		v.StepsSent = append(v.StepsSent, sentView{Category: c, Title: title(v.Language, c), At: formatTime(v.Language, st.At)})
	}
	for _, r := range capped(d.ReporterReplies) {
		v.ReporterReplies = append(v.ReporterReplies, excerpt(r))
	}
	return v
}

func capped[T any](s []T) []T {
	if len(s) > maxItems {
		return s[:maxItems]
	}
	return s
}

func normalizePlatform(p string) string {
	switch strings.ToLower(strings.TrimSpace(p)) {
	case PlatformIOS:
		return PlatformIOS
	case PlatformAndroid:
		return PlatformAndroid
	}
	return PlatformUnknown
}

// formatTime is the one time format of all output: UTC, to the minute.
func formatTime(lang string, t time.Time) string {
	if t.IsZero() {
		return wordsByLanguage[lang].UnknownTime
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// limitWriter fails once more than n bytes were written.
type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, fmt.Errorf("output is longer than %d bytes", maxOutput)
	}
	l.n -= len(p)
	return l.w.Write(p)
}
