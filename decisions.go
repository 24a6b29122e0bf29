package triage

import (
	"context"
	"time"

	"github.com/mfatriage/triage/classifier"
)

// Modes of a verdict: how far the bot acts alone (classifier.Verdict.Mode).
const (
	ModeAuto    = classifier.ModeAuto    // the worker acts alone
	ModeSuggest = classifier.ModeSuggest // an internal note suggests the action to agents
	ModeNone    = classifier.ModeNone    // left to a person; only the label is set
)

// Feedback outcomes: how the helpdesk treated what the bot decided. Each is
// recorded in the ticket's audit and counted per day.
const (
	// OutcomeSent: an agent sent a suggestion as it was (/triage send).
	OutcomeSent = "sent"
	// OutcomeCorrected: an agent corrected a suggestion (/triage wrong …).
	OutcomeCorrected = "corrected"
	// OutcomeOtherwise: an agent answered the reporter differently after a
	// suggestion, without a command.
	OutcomeOtherwise = "otherwise"
	// OutcomeReturned: an admin returned an escalation as not an MFA
	// problem.
	OutcomeReturned = "returned"
)

// DecisionDay is one day's (UTC) decisions by mode and the helpdesk's
// treatment of them by outcome. Missing keys count zero.
type DecisionDay struct {
	Day      time.Time      `json:"day"` // midnight UTC
	Modes    map[string]int `json:"modes"`
	Outcomes map[string]int `json:"outcomes"`
}

// DecisionCounter counts decisions and outcomes per UTC day, for the
// admins' Decisions view. internal/redisstore implements it.
type DecisionCounter interface {
	CountDecision(ctx context.Context, at time.Time, mode string) error
	CountFeedback(ctx context.Context, at time.Time, outcome string) error
}

// DecisionDays reads the per-day counts, oldest first, one entry for every
// day from from to to inclusive (zero days included).
type DecisionDays interface {
	DecisionDays(ctx context.Context, from, to time.Time) ([]DecisionDay, error)
}
