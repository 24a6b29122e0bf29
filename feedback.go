package triage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfatriage/triage/classifier"
)

// Suggestion is what the bot suggested to the agents instead of doing it
// (mode suggest): it lives in the triage state from the internal note that
// shows it until an agent sends it (/triage send), corrects it (/triage
// wrong …) or answers the reporter otherwise.
type Suggestion struct {
	// Action is what would be done: reply, escalate-mfa,
	// escalate-password or resolve (human after a correction to it).
	Action classifier.Action `json:"action"`
	// Categories are the ticket's categories; Reply those whose steps
	// would go out (action reply).
	Categories []string `json:"categories,omitempty"`
	Reply      []string `json:"reply,omitempty"`
	Platform   string   `json:"platform,omitempty"`
	// Language is the reporter's language (ISO 639-1).
	Language string `json:"language,omitempty"`
	// Reason is the escalation reason of an escalation (a Reason constant).
	Reason     string    `json:"reason,omitempty"`
	Confidence float64   `json:"confidence"`
	At         time.Time `json:"at"`
	// Outcome is how the agents treated it (OutcomeSent, OutcomeCorrected,
	// OutcomeOtherwise); empty while nobody has.
	Outcome string `json:"outcome,omitempty"`
	// By is the agent whose command or reply gave the outcome; OutcomeAt
	// when.
	By        string    `json:"by,omitempty"`
	OutcomeAt time.Time `json:"outcome_at,omitzero"`
	// Corrected records a /triage wrong: with categories (which then
	// replace Categories and Reply) or to human.
	Corrected *Correction `json:"corrected,omitempty"`
	// SentBy is the agent who approved it with /triage send, once it was
	// carried out; SentAt when. A sent suggestion is never sent again.
	SentBy string    `json:"sent_by,omitempty"`
	SentAt time.Time `json:"sent_at,omitzero"`
}

// Correction is what an agent's /triage wrong said.
type Correction struct {
	// Human: the ticket is for a person (/triage wrong human, or a bare
	// /triage wrong that names nothing better: then Unknown is set too).
	Human bool `json:"human,omitempty"`
	// Unknown: a bare /triage wrong; the right answer is not known.
	Unknown bool `json:"unknown,omitempty"`
	// Categories the agent named (/triage wrong passkey-setup,new-device).
	Categories []string `json:"categories,omitempty"`
}

// Pending reports whether the suggestion still waits for an agent: not
// sent, and neither answered otherwise nor corrected to a person.
func (s *Suggestion) Pending() bool {
	if s == nil || s.SentBy != "" || s.Outcome == OutcomeOtherwise {
		return false
	}
	return s.Corrected == nil || !s.Corrected.Human
}

// Expect is the verdict the helpdesk's treatment of the suggestion says
// was right, for the feedback export; ok is false when it is not known (no
// outcome yet, or a bare /triage wrong).
func (s *Suggestion) Expect() (classifier.Expect, bool) {
	if s == nil {
		return classifier.Expect{}, false
	}
	e := HumanExpect(s.Platform)
	switch {
	case s.Outcome == OutcomeSent:
		e.Action, e.Categories = s.Action, canonical(s.Categories)
	case s.Outcome == OutcomeOtherwise:
	case s.Outcome == OutcomeCorrected && s.Corrected != nil && len(s.Corrected.Categories) > 0:
		e.Action, e.Categories = classifier.ActionReply, canonical(s.Corrected.Categories)
	case s.Outcome == OutcomeCorrected && s.Corrected != nil && s.Corrected.Human && !s.Corrected.Unknown:
	default:
		return classifier.Expect{}, false
	}
	return e, true
}

// canonical puts categories in the classifier's order, once each.
func canonical(cats []string) []string {
	out := []string{}
	for _, c := range classifier.Categories() {
		if slices.Contains(cats, c) {
			out = append(out, c)
		}
	}
	return out
}

// HumanExpect is the expected verdict of a ticket that was for a person:
// action human, no category, the platform as the reporter told it.
func HumanExpect(platform string) classifier.Expect {
	switch platform {
	case classifier.PlatformIOS, classifier.PlatformAndroid:
	default:
		platform = classifier.PlatformUnknown
	}
	return classifier.Expect{Categories: []string{}, Platform: platform, Action: classifier.ActionHuman}
}

// The verbs of an agent's command.
const (
	CommandSend  = "send"
	CommandWrong = "wrong"
)

// CommandPrefix starts the first line of an agent's command comment.
const CommandPrefix = "/triage"

// Command is an agent's command: the first line of a comment, "/triage
// send", "/triage wrong", "/triage wrong human" or "/triage wrong
// passkey-setup,new-device".
type Command struct {
	Verb       string   // CommandSend or CommandWrong
	Human      bool     // wrong human
	Categories []string // wrong with categories, in the order given
}

// String is the command as an agent would write it.
func (c Command) String() string {
	switch {
	case c.Verb == CommandWrong && c.Human:
		return CommandPrefix + " wrong human"
	case c.Verb == CommandWrong && len(c.Categories) > 0:
		return CommandPrefix + " wrong " + strings.Join(c.Categories, ",")
	}
	return CommandPrefix + " " + c.Verb
}

// ParseCommand reads a comment's first non-blank line as a command. is is
// false when that line does not start with "/triage" (an ordinary
// comment); err says what is wrong with a line that does.
func ParseCommand(body string) (c Command, is bool, err error) {
	line := body
	for {
		var rest string
		var more bool
		line, rest, more = strings.Cut(line, "\n")
		if strings.TrimSpace(line) != "" || !more {
			break
		}
		line = rest
	}
	fields := strings.Fields(line)
	if len(fields) == 0 || !strings.EqualFold(fields[0], CommandPrefix) {
		return Command{}, false, nil
	}
	if len(fields) < 2 {
		return Command{}, true, fmt.Errorf("%q names no command: use %s send or %s wrong [categories|human]", truncateRunes(line, 80), CommandPrefix, CommandPrefix)
	}
	verb := strings.ToLower(fields[1])
	args := strings.Join(fields[2:], "")
	switch verb {
	case CommandSend:
		if args != "" {
			return Command{}, true, fmt.Errorf("%s send takes nothing after it", CommandPrefix)
		}
		return Command{Verb: CommandSend}, true, nil
	case CommandWrong:
		c := Command{Verb: CommandWrong}
		if args == "" {
			return c, true, nil
		}
		if strings.EqualFold(args, "human") {
			c.Human = true
			return c, true, nil
		}
		for _, cat := range strings.Split(strings.ToLower(args), ",") {
			if cat == "" {
				continue
			}
			if !slices.Contains(classifier.Categories(), cat) {
				return Command{}, true, fmt.Errorf("%q is not a category (one of %s, or human)", truncateRunes(cat, 40), strings.Join(classifier.Categories(), ", "))
			}
			if !slices.Contains(c.Categories, cat) {
				c.Categories = append(c.Categories, cat)
			}
		}
		return c, true, nil
	}
	return Command{}, true, fmt.Errorf("%q is not a command: use %s send or %s wrong [categories|human]", truncateRunes(fields[1], 40), CommandPrefix, CommandPrefix)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// Feedback is one outcome of the helpdesk's treatment of a decision, for
// the feedback export: the ticket, the outcome, who gave it and the verdict
// it says was right.
type Feedback struct {
	Key     string            `json:"key"`
	Outcome string            `json:"outcome"`
	Actor   string            `json:"actor,omitempty"`
	At      time.Time         `json:"at"`
	Expect  classifier.Expect `json:"expect"`
}

// FeedbackRecorder keeps what the feedback export needs: the ticket's text
// as it was triaged, kept when the bot suggested or escalated, and the
// outcomes. internal/redisstore implements it.
type FeedbackRecorder interface {
	// KeepText keeps the ticket's text as the classifier read it at the
	// decision (replacing an earlier copy), for a bounded time.
	KeepText(ctx context.Context, key string, t classifier.Ticket) error
	// RecordFeedback records an outcome (the latest one counts).
	RecordFeedback(ctx context.Context, f Feedback) error
}

// AuditRecorder records an audit entry on its own (outside the worker's
// lock). internal/redisstore implements it.
type AuditRecorder interface {
	Record(ctx context.Context, e AuditEntry) error
}

// FeedbackMetrics counts the outcomes; triage.Metrics includes it.
type FeedbackMetrics interface {
	// Feedback counts one outcome (an Outcome constant).
	Feedback(outcome string)
}
