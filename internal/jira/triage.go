package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mfatriage/triage"
)

// Triage adapts a Client to the worker's Jira interface: the worker
// declares what it needs in its own types; this is the one place that
// maps them. (An adapter importing the consumer's package is the
// dependency direction the project's layout wants: worker knows no Jira
// types.)
type Triage struct {
	c *Client
	// maxWait, when set, bounds the rate-limit waits the calls sleep
	// through (the client's MaxRetryAfter otherwise).
	maxWait time.Duration
}

var _ triage.Jira = (*Triage)(nil)

// TaskMaxRetryAfter is the longest wait asked by Jira (Retry-After or
// X-RateLimit-Reset) that a call through NewTaskTriage sleeps through.
const TaskMaxRetryAfter = time.Second

// NewTriage wraps a client: calls sleep through a rate-limit wait of up to
// the client's MaxRetryAfter (for a command or an admin's request).
func NewTriage(c *Client) *Triage { return &Triage{c: c} }

// NewTaskTriage wraps a client for a queue worker's tasks: a call sleeps
// through a rate-limit wait of at most TaskMaxRetryAfter and hands a longer
// one back at once, as an error whose RetryAfterDelay is the wait, so that
// the task's retry delay does the waiting and not a worker slot. (The rest
// of an edit whose internal comment is posted still waits, see Client.Edit.)
func NewTaskTriage(c *Client) *Triage { return &Triage{c: c, maxWait: TaskMaxRetryAfter} }

// ctx carries the bound on rate-limit waits to the transport.
func (t *Triage) ctx(ctx context.Context) context.Context {
	if t.maxWait > 0 {
		return withMaxRetryAfter(ctx, t.maxWait)
	}
	return ctx
}

// GetIssue implements triage.Jira.
func (t *Triage) GetIssue(ctx context.Context, key string) (triage.Issue, error) {
	is, err := t.c.GetIssue(t.ctx(ctx), key)
	if err != nil {
		return triage.Issue{}, retryInfo{err}
	}
	out := triage.Issue{
		Key: is.Key, ID: is.ID, Summary: is.Summary, Description: is.Description,
		ReporterID: userID(is.Reporter), ReporterName: is.Reporter.DisplayName, ReporterEmail: is.Reporter.Email,
		Labels: is.Labels, Status: is.Status, Updated: is.Updated,
	}
	for _, c := range is.Comments {
		out.Comments = append(out.Comments, triage.Comment{
			ID: c.ID, AuthorID: userID(c.Author), AuthorName: c.Author.DisplayName,
			Body: c.Body, Created: c.Created, Internal: c.Internal,
		})
	}
	if len(is.State) > 0 {
		var s triage.State
		if err := json.Unmarshal(is.State, &s); err != nil {
			return triage.Issue{}, fmt.Errorf("triage state of %s is not valid JSON: %w", key, err)
		}
		out.State = &s
	}
	return out, nil
}

// userID is the account id on Cloud, the user name on Data Center.
func userID(u User) string {
	if u.AccountID != "" {
		return u.AccountID
	}
	return u.Name
}

// Write implements triage.Jira: one Edit.
func (t *Triage) Write(ctx context.Context, key string, w triage.Write) error {
	e := Edit{Comment: w.Comment, Internal: w.Internal, AddLabels: w.AddLabels, Priority: w.Priority}
	if w.State != nil {
		e.Properties = map[string]any{t.c.cfg.StateProperty: w.State}
	}
	if err := t.c.Edit(t.ctx(ctx), key, e); err != nil {
		var skipped *NoteSkippedError
		if errors.As(err, &skipped) {
			return &triage.InternalNoteSkipped{Reason: skipped.Reason}
		}
		return retryInfo{err}
	}
	return nil
}

// Assign implements triage.Jira.
func (t *Triage) Assign(ctx context.Context, key, accountID string) error {
	if err := t.c.Assign(t.ctx(ctx), key, accountID); err != nil {
		return retryInfo{err}
	}
	return nil
}

// Transition implements triage.Jira.
func (t *Triage) Transition(ctx context.Context, key, name string) error {
	if err := t.c.TransitionByName(t.ctx(ctx), key, name); err != nil {
		return retryInfo{err}
	}
	return nil
}

// retryInfo tells the worker how to retry an error, through the methods
// it looks for.
type retryInfo struct{ err error }

func (r retryInfo) Error() string   { return r.err.Error() }
func (r retryInfo) Unwrap() error   { return r.err }
func (r retryInfo) Permanent() bool { return IsPermanent(r.err) }
func (r retryInfo) NotFound() bool {
	var e *Error
	return errors.As(r.err, &e) && e.Status == http.StatusNotFound
}
func (r retryInfo) RateLimited() bool              { return IsRateLimited(r.err) }
func (r retryInfo) RetryAfterDelay() time.Duration { return RetryAfter(r.err) }
