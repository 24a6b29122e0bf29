package worker

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/templates"
)

// Modes.
const (
	ModeLive   = "live"   // decide and write to Jira
	ModeShadow = "shadow" // decide and record; write nothing to Jira
)

// Config configures the handlers. The zero value of every field but
// BotAccountID is a documented default.
type Config struct {
	// BotAccountID is the bot's Jira account: its own comments are never
	// answered. Required.
	BotAccountID string
	// Mode is ModeLive (default) or ModeShadow.
	Mode string
	// InternalCategories lists the categories whose steps are posted as an
	// internal note for agents instead of a public reply. Default: none.
	InternalCategories []string
	// FollowupWindow is how long a replied ticket may wait for an answer
	// before it is escalated. Default 24h.
	FollowupWindow time.Duration
	// EscalationAssignee, when set, is the account escalated tickets are
	// assigned to.
	EscalationAssignee string
	// SecurityPriority, when set, is the priority a ticket that reports a
	// possible attack gets ("Highest").
	SecurityPriority string
	// SecurityAssignee, when set, is the account such a ticket is assigned
	// to.
	SecurityAssignee string
	// SecurityAck makes the bot post the reporter of a possible attack a
	// short acknowledgement in their language. Default off: nothing public.
	SecurityAck bool
	// ReplyLanguages limits the languages the reporter is answered in (ISO
	// 639-1); a ticket in another one is answered in FallbackLanguage.
	// Default: all the templates have.
	ReplyLanguages []string
	// FallbackLanguage answers reporters whose language is not among
	// ReplyLanguages. Default "en".
	FallbackLanguage string
	// AgentLanguage is the language of the internal notes for agents and
	// admins. Default "en".
	AgentLanguage string
	// ResolveTransition, when set, is the transition run on resolve.
	ResolveTransition string
	// JiraBaseURL makes links to tickets in escalations.
	JiraBaseURL string
	// LockTTL is the ticket lock's time to live; the store renews it while
	// the task runs, so it only bounds how long a dead worker's lock
	// lingers. A task that finds the ticket locked does not wait for it:
	// it returns ErrBusy and is retried (see RetryDelay). Default 15s.
	LockTTL time.Duration
}

func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeLive
	}
	if c.FallbackLanguage == "" {
		c.FallbackLanguage = templates.English
	}
	if c.AgentLanguage == "" {
		c.AgentLanguage = templates.English
	}
	if len(c.ReplyLanguages) == 0 {
		c.ReplyLanguages = templates.Languages()
	}
	if c.FollowupWindow == 0 {
		c.FollowupWindow = 24 * time.Hour
	}
	if c.LockTTL == 0 {
		c.LockTTL = 15 * time.Second
	}
	return c
}

// Validate reports every problem in plain English.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.BotAccountID) == "" {
		errs = append(errs, errors.New("the bot's Jira account id is not set (TRIAGE_BOT_ACCOUNT_ID): without it the bot could answer its own comments"))
	}
	switch c.Mode {
	case "", ModeLive, ModeShadow:
	default:
		errs = append(errs, fmt.Errorf("mode %q is neither %q nor %q", c.Mode, ModeLive, ModeShadow))
	}
	for _, cat := range c.InternalCategories {
		if !contains(classifier.Categories(), cat) {
			errs = append(errs, fmt.Errorf("internal category %q is not one of %s", cat, strings.Join(classifier.Categories(), ", ")))
		}
	}
	for _, l := range append([]string{c.FallbackLanguage, c.AgentLanguage}, c.ReplyLanguages...) {
		if l != "" && !contains(templates.Languages(), l) {
			errs = append(errs, fmt.Errorf("language %q is not one of %s", l, strings.Join(templates.Languages(), ", ")))
		}
	}
	if c.FollowupWindow < 0 || c.LockTTL < 0 {
		errs = append(errs, errors.New("the follow-up window and the lock TTL cannot be negative"))
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
