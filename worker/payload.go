package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
)

// Task types.
const (
	// TypeTriageTicket triages a ticket after an event (a new issue, an
	// edit, a comment, a poll or reconciliation hit).
	TypeTriageTicket = "ticket:triage"
	// TypeFollowup escalates a replied ticket still unresolved when its
	// follow-up window has passed.
	TypeFollowup = "ticket:followup"
)

// DefaultQueue is the asynq queue the triage tasks go to.
const DefaultQueue = "triage"

// TriagePayload is a triage task: the event and the ticket fields it
// carried, so that the happy path needs no Jira read.
type TriagePayload struct {
	// Event is one of the Event constants.
	Event string `json:"event"`
	// DeliveryID identifies the delivery: the webhook's
	// X-Atlassian-Webhook-Identifier (unchanged across Jira's retries), or
	// a key made by the poller. It is the task's dedupe key.
	DeliveryID string    `json:"delivery_id"`
	ReceivedAt time.Time `json:"received_at,omitzero"`
	// Redelivered is set when Jira marked the delivery as a retry
	// (X-Atlassian-Webhook-Retry): the first may have been handled before
	// Redis lost it, so the worker reads Jira's state instead of trusting
	// its own copy.
	Redelivered bool `json:"redelivered,omitempty"`
	// ActorID is the account that caused the event.
	ActorID string       `json:"actor_id,omitempty"`
	Issue   triage.Issue `json:"issue"`
	// Comment is the new comment of a comment event.
	Comment *triage.Comment `json:"comment,omitempty"`
	// Agent is set by intake on a comment event whose author it found to
	// be neither the reporter nor the bot (an agent): its agent mark is
	// recorded, and the worker only looks at what the comment means for a
	// suggestion (a /triage command, or an answer given otherwise).
	Agent bool `json:"agent,omitempty"`
}

// Validate reports what makes a payload unusable.
func (p TriagePayload) Validate() error {
	var errs []error
	if strings.TrimSpace(p.Issue.Key) == "" {
		errs = append(errs, errors.New("the issue key is missing"))
	}
	if p.DeliveryID == "" {
		errs = append(errs, errors.New("the delivery id is missing"))
	}
	switch p.Event {
	case triage.EventIssueCreated, triage.EventIssueUpdated, triage.EventCommentCreated, triage.EventCommentUpdated, triage.EventPoll, triage.EventReconcile, triage.EventBackfill:
	default:
		errs = append(errs, fmt.Errorf("unknown event %q", p.Event))
	}
	if (p.Event == triage.EventCommentCreated || p.Event == triage.EventCommentUpdated) && p.Comment == nil {
		errs = append(errs, errors.New("a comment event without its comment"))
	}
	return errors.Join(errs...)
}

// TriageTaskID is the asynq TaskID of a delivery: a duplicate delivery
// maps to the same id and is refused at enqueue.
func TriageTaskID(deliveryID string) string { return "triage:" + deliveryID }

// NewTriageTask builds a triage task. The TaskID dedupes deliveries; opts
// may set the queue, retention and retries.
func NewTriageTask(p TriagePayload, opts ...asynq.Option) (*asynq.Task, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("triage task for %q: %w", p.Issue.Key, err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("triage task for %s: %w", p.Issue.Key, err)
	}
	base := []asynq.Option{asynq.TaskID(TriageTaskID(p.DeliveryID)), asynq.Queue(DefaultQueue), asynq.MaxRetry(12), asynq.Retention(24 * time.Hour)}
	return asynq.NewTask(TypeTriageTicket, data, append(base, opts...)...), nil
}

// FollowupPayload is a follow-up task: the ticket and the state version it
// was scheduled after. A newer version (the reporter answered, the ticket
// was escalated) makes it a no-op.
type FollowupPayload struct {
	Key     string `json:"key"`
	Version int    `json:"version"`
}

// FollowupTaskID is deterministic: one follow-up per ticket and version.
func FollowupTaskID(key string, version int) string {
	return fmt.Sprintf("followup:%s:%d", key, version)
}

// NewFollowupTask builds a follow-up task to run after window.
func NewFollowupTask(key string, version int, window time.Duration, opts ...asynq.Option) (*asynq.Task, error) {
	if key == "" || version <= 0 {
		return nil, fmt.Errorf("follow-up task: key %q and version %d must be set", key, version)
	}
	data, err := json.Marshal(FollowupPayload{Key: key, Version: version})
	if err != nil {
		return nil, err
	}
	base := []asynq.Option{asynq.TaskID(FollowupTaskID(key, version)), asynq.Queue(DefaultQueue), asynq.ProcessIn(window), asynq.MaxRetry(12), asynq.Retention(24 * time.Hour)}
	return asynq.NewTask(TypeFollowup, data, append(base, opts...)...), nil
}
