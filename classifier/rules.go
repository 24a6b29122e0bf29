package classifier

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed rules.yaml
var defaultRules []byte

// DefaultRules returns a copy of the embedded rules file.
func DefaultRules() []byte { return bytes.Clone(defaultRules) }

// The category ids of the SPEC, in their canonical order.
const (
	CatAuthenticatorIncomplete = "authenticator-incomplete"
	CatPasskeySetup            = "passkey-setup"
	CatPasskeyInvalid          = "passkey-invalid"
	CatNewDevice               = "new-device"
	CatAuthenticatorSignIn     = "authenticator-sign-in"
	CatPasswordForgotten       = "password-forgotten"
)

// Categories lists the category ids in canonical order.
func Categories() []string {
	return []string{CatAuthenticatorIncomplete, CatPasskeySetup, CatPasskeyInvalid,
		CatNewDevice, CatAuthenticatorSignIn, CatPasswordForgotten}
}

// The signal ids the decision reads. A rules file must define each of them.
const (
	SigStepsDone     = "steps_done"      // the reporter did the steps (removed the passkey, followed the guide…)
	SigStillFails    = "still_fails"     // it still fails, same error, did not help
	SigWorksNow      = "works_now"       // it works now, fixed, all set
	SigWillTry       = "will_try"        // the reporter will try the steps later
	SigResetMFA      = "reset_mfa"       // please reset my MFA / methods
	SigLostDevice    = "lost_device"     // lost, stolen, wiped, broken, handed in the phone
	SigNoOtherMethod = "no_other_method" // no other way to sign in
	SigOffTopic      = "off_topic"       // personal accounts, door passkeys, Google Authenticator…
	SigInScope       = "in_scope"        // Microsoft, Defender, work account: the product's world
	SigAsksSetup     = "asks_setup"      // how do I set up / get the passkey
	SigSecurity      = "security"        // a possible attack: prompts not started, phishing, someone else has the phone
)

func signalIDs() []string {
	return []string{SigStepsDone, SigStillFails, SigWorksNow, SigWillTry, SigResetMFA, SigLostDevice, SigNoOtherMethod, SigOffTopic, SigInScope, SigAsksSetup, SigSecurity}
}

// The platform ids.
const (
	PlatformIOS     = "ios"
	PlatformAndroid = "android"
	PlatformUnknown = "unknown"
)

// Rules is the rules file: everything the classifier knows, as data.
//
// Patterns are written in a small language, one "slot" per string:
// alternatives separated by "|" ("did not complete|not completed"), each a
// sequence of words ("passkey"), prefixes ("regist*") and group references
// ("@passkey"). Words are normalised like ticket text (case, diacritics,
// apostrophes), so "clé d'accès" and "cle d acces" are the same pattern.
type Rules struct {
	Version int `yaml:"version"`
	// Settings tune matching and the decision; every zero value has a
	// documented default.
	Settings Settings `yaml:"settings"`
	// Words lists words with a role in matching.
	Words Words `yaml:"words"`
	// Groups are named lists of patterns, referenced as @name.
	Groups map[string][]string `yaml:"groups"`
	// Categories maps each category id of the SPEC to its rules.
	Categories map[string]Class `yaml:"categories"`
	// Signals maps each signal id to its rules.
	Signals map[string]Class `yaml:"signals"`
	// Platforms maps "ios" and "android" to their rules.
	Platforms map[string]Class `yaml:"platforms"`
	// Text holds the line-level markers used to clean ticket text.
	Text TextMarkers `yaml:"text"`
}

// Settings tune matching and the decision.
type Settings struct {
	// MinConfidence is the confidence below which the action is human.
	// Default 0.5.
	MinConfidence float64 `yaml:"min_confidence"`
	// Window is the default span, in tokens, within which the slots of a
	// "near" rule must all be found. Default 8.
	Window int `yaml:"window"`
	// FuzzyMinLen is the shortest vocabulary word that typo tolerance
	// applies to (a typed word may be one letter shorter). Default 6.
	// Words of FuzzyTwoEditsLen or more letters allow two edits.
	FuzzyMinLen int `yaml:"fuzzy_min_len"`
	// FuzzyTwoEditsLen: default 8.
	FuzzyTwoEditsLen int `yaml:"fuzzy_two_edits_len"`
	// NegationReach is how many tokens before a match a negator may stand
	// (with only connector words between). Default 4.
	NegationReach int `yaml:"negation_reach"`
	// MaxFillerSkips is how many filler words may be skipped inside one
	// phrase. Default 2.
	MaxFillerSkips int `yaml:"max_filler_skips"`
}

// Words lists words with a role in matching.
type Words struct {
	// Negators turn a following match off ("not", "nicht", "pas").
	Negators []string `yaml:"negators"`
	// Connectors may stand between a negator and what it negates ("about",
	// "my", "the").
	Connectors []string `yaml:"connectors"`
	// Fillers may be skipped inside a phrase ("the", "a", "my").
	Fillers []string `yaml:"fillers"`
	// Exact words are never typo-corrected targets ("contract" must not
	// catch "contact"). Words of the off_topic signal are exact too.
	Exact []string `yaml:"exact"`
	// Aliases rewrite one token into one or more ("didnt": "did not",
	// "pw": "password").
	Aliases map[string]string `yaml:"aliases"`
	// Damped words weaken a following platform word ("old iPhone",
	// "before an iPhone").
	Damped []string `yaml:"platform_damped"`
	// DampedAfter words weaken a preceding platform word ("the iPhone
	// died").
	DampedAfter []string `yaml:"platform_damped_after"`
	// From words weaken a following platform word when a change word
	// stands before them ("switched from an iPhone to a Galaxy"), not
	// otherwise ("working from my iPad").
	From   []string `yaml:"platform_from"`
	Change []string `yaml:"platform_change"`
	// Undamp words before a damping word cancel it ("the same old
	// Galaxy" is the phone still in use).
	Undamp []string `yaml:"platform_undamp"`
	// Time words after a damping word make it a time, not a device
	// ("since last week a new Pixel": Dutch "vorige week").
	Time []string `yaml:"platform_time"`
}

// Class is a category, a signal or a platform: rules that add to its score,
// and the score it needs.
type Class struct {
	// Threshold is the score at which the class holds. Default 1.
	Threshold float64 `yaml:"threshold"`
	// Requires lists signals that must hold too.
	Requires []string `yaml:"requires"`
	// PerMatch counts every distinct match of a rule, not the rule once
	// (off-topic evidence adds up: a door, a keypad, a badge).
	PerMatch bool `yaml:"per_match"`
	// Rules add their weight to the score when they match (once each).
	Rules []Rule `yaml:"rules"`
	// Negative rules subtract their weight; a veto rule cancels the class.
	Negative []Rule `yaml:"negative"`
}

// Rule is one pattern with a weight.
type Rule struct {
	// Phrase is a single slot matched as a contiguous phrase (filler words
	// may be skipped).
	Phrase string `yaml:"phrase"`
	// Near lists slots that must all be found within Window tokens of each
	// other, in any order (or in order when Ordered), in one sentence
	// (or anywhere in the same text when Scope is "text").
	Near    []string `yaml:"near"`
	Window  int      `yaml:"window"`
	Ordered bool     `yaml:"ordered"`
	Scope   string   `yaml:"scope"`
	// Weight is added to the class score. Default 1.
	Weight float64 `yaml:"weight"`
	// Veto, on a negative rule, cancels the class outright.
	Veto bool `yaml:"veto"`
	// NoNegation disables the topic-negation check for this rule.
	NoNegation bool `yaml:"no_negation"`
	// Name labels the rule in evidence; default: the pattern text.
	Name string `yaml:"name"`
}

// TextMarkers are the line-level markers used when cleaning ticket text.
// Each is a list of case-insensitive substrings or line prefixes, matched on
// folded text.
type TextMarkers struct {
	// ReplySubjects prefix a reply's summary ("re", "aw"): when the
	// description quotes the helpdesk, such a summary is the helpdesk's
	// subject, not the reporter's words.
	ReplySubjects []string `yaml:"reply_subjects"`
	// ReplyHeaders start a quoted earlier message ("wrote:", "schrieb").
	ReplyHeaders []string `yaml:"reply_headers"`
	// ForwardMarkers mark a forwarded message ("forwarded message",
	// "original message").
	ForwardMarkers []string `yaml:"forward_markers"`
	// ForwardSubjects prefix a forwarded ticket summary ("fw", "fwd", "wg").
	ForwardSubjects []string `yaml:"forward_subjects"`
	// HelpdeskSenders, in the sender line of a quoted message ("From:",
	// "On … wrote:"), show that it came from the helpdesk.
	HelpdeskSenders []string `yaml:"helpdesk_senders"`
	// HelpdeskIntros, on the line before a quote, show that the quote is
	// the helpdesk's ("you sent me this:").
	HelpdeskIntros []string `yaml:"helpdesk_intros"`
	// HelpdeskMarkers, anywhere in quoted text, show that it is a helpdesk
	// reply ("automated reply").
	HelpdeskMarkers []string `yaml:"helpdesk_markers"`
	// Valedictions start an e-mail signature when alone on a short line.
	Valedictions []string `yaml:"valedictions"`
	// SentFrom starts a "Sent from my iPhone" line.
	SentFrom []string `yaml:"sent_from"`
	// Disclaimers mark a legal disclaimer or company footer line.
	Disclaimers []string `yaml:"disclaimers"`
}

// ParseRules reads and validates a rules file.
func ParseRules(r io.Reader) (*Rules, error) {
	dec := yaml.NewDecoder(r)
	dec.KnownFields(true)
	var rs Rules
	if err := dec.Decode(&rs); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("rules file is empty")
		}
		return nil, fmt.Errorf("rules file is not valid YAML for this schema: %w", err)
	}
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	return &rs, nil
}

// Validate checks the rules file and reports every problem in plain English.
func (rs *Rules) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if rs.Version != 1 {
		add("version must be 1, got %d", rs.Version)
	}
	s := rs.Settings
	if s.MinConfidence < 0 || s.MinConfidence > 1 {
		add("settings.min_confidence must be between 0 and 1, got %v", s.MinConfidence)
	}
	if s.Window < 0 || s.NegationReach < 0 || s.MaxFillerSkips < 0 || s.FuzzyMinLen < 0 || s.FuzzyTwoEditsLen < 0 {
		add("settings: window, negation_reach, max_filler_skips and the fuzzy lengths cannot be negative")
	}
	for _, id := range Categories() {
		if _, ok := rs.Categories[id]; !ok {
			add("category %q is missing: every category of the SPEC needs rules", id)
		}
	}
	for id := range rs.Categories {
		if !contains(Categories(), id) {
			add("category %q is not one of the SPEC's categories (%s)", id, strings.Join(Categories(), ", "))
		}
	}
	for _, id := range signalIDs() {
		if _, ok := rs.Signals[id]; !ok {
			add("signal %q is missing: the decision reads it", id)
		}
	}
	for id := range rs.Signals {
		if !contains(signalIDs(), id) {
			add("signal %q is unknown (known: %s)", id, strings.Join(signalIDs(), ", "))
		}
	}
	for id := range rs.Platforms {
		if id != PlatformIOS && id != PlatformAndroid {
			add("platform %q is unknown: only %q and %q have rules", id, PlatformIOS, PlatformAndroid)
		}
	}
	for name, members := range rs.Groups {
		if len(members) == 0 {
			add("group %q is empty", name)
		}
		for _, m := range members {
			if strings.TrimSpace(m) == "" {
				add("group %q has an empty entry", name)
			}
		}
	}
	for _, sec := range rs.sections() {
		for _, id := range sortedKeys(sec.classes) {
			c := sec.classes[id]
			if c.Threshold < 0 {
				add("%s %q: threshold cannot be negative", sec.kind, id)
			}
			if len(c.Rules) == 0 {
				add("%s %q has no rules", sec.kind, id)
			}
			for _, req := range c.Requires {
				if !contains(signalIDs(), req) {
					add("%s %q requires %q, which is not a signal", sec.kind, id, req)
				}
			}
			for i, r := range c.Rules {
				if err := rs.validateRule(r); err != nil {
					add("%s %q rule %d: %v", sec.kind, id, i+1, err)
				}
			}
			for i, r := range c.Negative {
				if err := rs.validateRule(r); err != nil {
					add("%s %q negative rule %d: %v", sec.kind, id, i+1, err)
				}
			}
		}
	}
	if err := rs.checkGroupCycles(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

type section struct {
	kind    string
	classes map[string]Class
}

func (rs *Rules) sections() []section {
	return []section{{"category", rs.Categories}, {"signal", rs.Signals}, {"platform", rs.Platforms}}
}

func (rs *Rules) validateRule(r Rule) error {
	switch {
	case r.Phrase != "" && len(r.Near) > 0:
		return errors.New("has both phrase and near: use one")
	case r.Phrase == "" && len(r.Near) == 0:
		return errors.New("has neither phrase nor near")
	case len(r.Near) == 1:
		return errors.New("near needs at least two slots (use phrase for one)")
	case r.Weight < 0:
		return errors.New("weight cannot be negative (put the rule under negative:)")
	case r.Window < 0:
		return errors.New("window cannot be negative")
	case r.Scope != "" && r.Scope != "sentence" && r.Scope != "text":
		return fmt.Errorf("scope must be \"sentence\" or \"text\", got %q", r.Scope)
	}
	for _, slot := range r.slots() {
		if strings.TrimSpace(slot) == "" {
			return errors.New("has an empty slot")
		}
		for _, alt := range strings.Split(slot, "|") {
			if strings.TrimSpace(alt) == "" {
				return fmt.Errorf("slot %q has an empty alternative", slot)
			}
			for _, el := range strings.Fields(alt) {
				if name, ok := strings.CutPrefix(el, "@"); ok {
					if _, found := rs.Groups[name]; !found {
						return fmt.Errorf("refers to group @%s, which is not defined", name)
					}
					continue
				}
				if strings.Trim(el, "*") == "" {
					return fmt.Errorf("element %q is only a star", el)
				}
			}
		}
	}
	return nil
}

func (rs *Rules) checkGroupCycles() error {
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case 1:
			return fmt.Errorf("groups refer to each other in a loop: %s", strings.Join(append(path, name), " → @"))
		case 2:
			return nil
		}
		state[name] = 1
		for _, m := range rs.Groups[name] {
			for _, el := range strings.Fields(strings.ReplaceAll(m, "|", " ")) {
				if ref, ok := strings.CutPrefix(el, "@"); ok {
					if _, found := rs.Groups[ref]; !found {
						return fmt.Errorf("group @%s refers to @%s, which is not defined", name, ref)
					}
					if err := visit(ref, append(path, name)); err != nil {
						return err
					}
				}
			}
		}
		state[name] = 2
		return nil
	}
	for _, name := range sortedKeys(rs.Groups) {
		if err := visit(name, nil); err != nil {
			return err
		}
	}
	return nil
}

func (r Rule) slots() []string {
	if r.Phrase != "" {
		return []string{r.Phrase}
	}
	return r.Near
}

func (r Rule) label() string {
	if r.Name != "" {
		return r.Name
	}
	if r.Phrase != "" {
		return r.Phrase
	}
	return strings.Join(r.Near, " … ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
