package triage

import (
	"slices"
	"time"
)

// State is a ticket's triage state: what the bot has already done on it.
// It is written to Jira (an issue property) in the same edit as the write
// it describes, and copied to Redis for speed.
type State struct {
	// Version grows by one with every write the bot makes.
	Version int `json:"version"`
	// Replied lists the categories whose steps were posted.
	Replied   []string  `json:"replied,omitempty"`
	RepliedAt time.Time `json:"replied_at,omitzero"`
	// Escalated is the escalation reason once escalated (one of the
	// Reason constants).
	Escalated   string    `json:"escalated,omitempty"`
	EscalatedAt time.Time `json:"escalated_at,omitzero"`
	// NoteDone records that the internal evidence note of the escalation
	// was posted. It is kept in the Redis copy only; Jira's copy leaves it
	// out, and a task that adopts Jira's copy finds the note by its anchor.
	NoteDone bool `json:"note_done,omitempty"`
	Resolved bool `json:"resolved,omitempty"`
	// Human records that the ticket was left to a human (needs-human).
	Human bool `json:"human,omitempty"`
	// Writing, in the Redis copy only, says that a write to Jira was
	// started and its outcome is not known here: the next task must read
	// Jira's copy before it acts.
	Writing bool `json:"writing,omitempty"`
	// Suggestion is the decision suggested to the agents (mode suggest),
	// pending or with its outcome; nil when none was.
	Suggestion *Suggestion `json:"suggestion,omitempty"`
	// Deliveries lists the last deliveries handled, newest last.
	Deliveries []string  `json:"deliveries,omitempty"`
	UpdatedAt  time.Time `json:"updated_at,omitzero"`
}

// MaxDeliveries bounds State.Deliveries.
const MaxDeliveries = 20

// Handled reports whether a delivery was already handled.
func (s *State) Handled(id string) bool { return slices.Contains(s.Deliveries, id) }

// Remember records a handled delivery, keeping the last MaxDeliveries.
func (s *State) Remember(id string) {
	if id == "" || s.Handled(id) {
		return
	}
	s.Deliveries = append(s.Deliveries, id)
	if len(s.Deliveries) > MaxDeliveries {
		s.Deliveries = s.Deliveries[len(s.Deliveries)-MaxDeliveries:]
	}
}
