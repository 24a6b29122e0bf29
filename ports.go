package triage

import (
	"context"
	"time"

	"github.com/mfatriage/triage/classifier"
)

// Jira is what the worker needs of Jira. internal/jira implements it.
type Jira interface {
	// GetIssue reads an issue with its comments (oldest first) and its
	// triage state (Issue.State, nil when none).
	GetIssue(ctx context.Context, key string) (Issue, error)
	// Write applies one set of changes together: a comment (public or
	// internal), labels, and the triage state property. An internal
	// comment that cannot be kept from the reporter is left out, the rest
	// written, and the error is an *InternalNoteSkipped.
	Write(ctx context.Context, key string, w Write) error
	// Assign sets the assignee.
	Assign(ctx context.Context, key, accountID string) error
	// Transition moves the issue through the transition with that name.
	Transition(ctx context.Context, key, name string) error
}

// InternalNoteSkipped is the error of a Write whose internal comment was
// not posted because nothing could keep it from the reporter (a project
// outside Jira Service Management, and no restricted visibility
// configured). The rest of the write (labels, state, priority) was made.
// Reason says why, in words for the log and the audit.
type InternalNoteSkipped struct{ Reason string }

func (e *InternalNoteSkipped) Error() string { return "internal note skipped: " + e.Reason }

// Write is one write to an issue. A public comment, labels and the state go
// in one Jira call; an internal comment costs one more.
type Write struct {
	Comment   string
	Internal  bool
	AddLabels []string
	// State, when set, is stored on the issue in the same write.
	State *State
	// Priority, when set, is the priority to give the issue ("Highest").
	Priority string
}

// StateStore keeps the Redis copy of the triage state, the marks intake
// leaves when an agent comments, and a per-ticket lock.
type StateStore interface {
	// Acquire takes the ticket's lock for ttl and, in the same round
	// trip, reads its state copy and agent mark; ok is false (and the
	// Hold empty) when another task holds the lock.
	Acquire(ctx context.Context, key string, ttl time.Duration) (h Hold, ok bool, err error)
	// Save writes the state copy.
	Save(ctx context.Context, key string, s State) error
}

// Hold is a ticket's lock, held, with what was read when it was taken.
type Hold struct {
	State State
	Found bool // a state copy was there
	// Agent reports whether a human agent commented on the ticket.
	Agent bool
	// Release saves s and records e (each unless nil), and lets the
	// lock go, in one round trip. The first call that succeeds does the
	// work; later calls do nothing and return nil.
	Release func(ctx context.Context, s *State, e *AuditEntry) error
	// Lost is closed when the store finds, while it keeps the lock alive,
	// that the lock is no longer this hold's (it expired, or another task
	// took it): whatever the holder still does is no longer exclusive.
	// A store that cannot tell leaves it nil.
	Lost <-chan struct{}
}

// Escalation is the record handed to the admins' escalation queue.
type Escalation struct {
	Key          string
	Link         string
	ReporterID   string
	ReporterName string
	// ReporterEmail, when Jira gives it, prefills the user of an MFA reset.
	ReporterEmail string
	Reason        string // one of the Reason constants
	Categories    []string
	Platform      string
	// Language is the reporter's language (ISO 639-1).
	Language string
	// Security marks a report of a possible attack (reason security).
	Security        bool
	Evidence        []classifier.Evidence
	StepsSent       []SentStep
	ReporterReplies []string
	CreatedAt       time.Time
}

// SentStep is a reply the bot posted.
type SentStep struct {
	Category string    `json:"category"`
	At       time.Time `json:"at"`
}

// EscalationStore receives escalations; Create is idempotent per ticket and
// reason (created is false for a repeat).
type EscalationStore interface {
	Create(ctx context.Context, e Escalation) (created bool, err error)
}

// AuditEntry is one decision, as recorded.
type AuditEntry struct {
	Key        string             `json:"key"`
	TaskID     string             `json:"task_id"`
	Event      string             `json:"event"`
	DeliveryID string             `json:"delivery_id,omitempty"`
	Mode       string             `json:"mode"`
	Verdict    classifier.Verdict `json:"verdict"`
	// Writes says what was written, in order ("comment public",
	// "labels triage-replied,triage-passkey-invalid", …), or why nothing.
	Writes []string `json:"writes"`
	// Outcome, on an entry that records the helpdesk's treatment of a
	// decision, is its Outcome constant; Actor the agent or admin.
	Outcome string    `json:"outcome,omitempty"`
	Actor   string    `json:"actor,omitempty"`
	At      time.Time `json:"at"`
}

// Followups schedules and cancels follow-up tasks.
type Followups interface {
	Schedule(ctx context.Context, key string, version int, window time.Duration) error
	Cancel(ctx context.Context, key string, version int) error
}

// Metrics receives what the worker measures; nil records nothing.
type Metrics interface {
	// Decided counts a decision.
	Decided(action string, categories []string)
	// Moded counts a decision by its mode (auto, suggest, none) and
	// whether it flagged a possible attack.
	Moded(mode string, security bool)
	// Commented observes the time from a webhook to the bot's comment.
	Commented(receivedAt time.Time)
	// Feedback counts an outcome of the helpdesk's treatment of a
	// decision (an Outcome constant).
	FeedbackMetrics
}
