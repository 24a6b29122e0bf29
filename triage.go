// Package triage is the domain of the MFA sign-in triage worker: the ticket
// as the worker sees it (Issue, Comment), what the bot has done on it
// (State), the escalation handed to admins, the audit entry of a decision,
// the labels and escalation reasons, the directory's users and
// authentication methods an MFA reset works on (DirectoryUser, AuthMethod,
// MethodType, TemporaryAccessPass), and the small interfaces the worker
// needs (Jira, StateStore, EscalationStore, Followups, Metrics).
//
// Adapters implement these interfaces and depend on this package only:
// internal/jira (go-jira), internal/redisstore (go-redis), internal/escalation,
// internal/graph (Microsoft Graph).
// The asynq task types and handlers that use them live in worker/. This
// package imports the standard library and the pure classifier, whose
// Verdict an audit entry records.
package triage

import (
	"strings"
	"time"
)

// The events a ticket can be triaged after.
const (
	EventIssueCreated   = "jira:issue_created"
	EventIssueUpdated   = "jira:issue_updated"
	EventCommentCreated = "comment_created"
	// EventCommentUpdated is a comment edited: triaged while the bot has
	// not answered the reporter yet (a typo fixed deserves an answer).
	EventCommentUpdated = "comment_updated"
	EventPoll           = "poll"
	EventReconcile      = "reconcile"
	EventBackfill       = "backfill"
)

// Issue is the part of a Jira issue the worker reads. Identities
// (ReporterID, Comment.AuthorID, an event's actor) are the Cloud accountId,
// else the Data Center user name; the *Name fields are display names.
type Issue struct {
	// Key is the issue key; a Server/DC comment event without its issue
	// carries only the numeric id here, and the worker reads the key.
	Key          string `json:"key"`
	ID           string `json:"id,omitempty"`
	Summary      string `json:"summary"`
	Description  string `json:"description"`
	ReporterID   string `json:"reporter_id,omitempty"`
	ReporterName string `json:"reporter_name,omitempty"`
	// ReporterEmail is the reporter's e-mail when Jira gives it (Jira
	// Cloud hides it unless the user's profile shows it).
	ReporterEmail string    `json:"reporter_email,omitempty"`
	Labels        []string  `json:"labels,omitempty"`
	Status        string    `json:"status,omitempty"`
	Updated       time.Time `json:"updated,omitzero"`
	// Comments, oldest first, when the issue was read from Jira; a
	// webhook payload carries none.
	Comments []Comment `json:"comments,omitempty"`
	// State is the triage state stored on the issue, when read from Jira.
	State *State `json:"-"`
}

// Comment is one comment of a ticket.
type Comment struct {
	ID         string    `json:"id,omitempty"`
	AuthorID   string    `json:"author_id,omitempty"`
	AuthorName string    `json:"author_name,omitempty"`
	Body       string    `json:"body"`
	Created    time.Time `json:"created,omitzero"`
	Internal   bool      `json:"internal,omitempty"`
}

// SameAccount reports whether two identities (a Cloud accountId, or a Data
// Center user name or key) name the same account. Data Center user names
// are case-insensitive and Cloud account ids never differ only in case, so
// every comparison of accounts, in intake and in the worker, is this one.
func SameAccount(a, b string) bool { return a != "" && strings.EqualFold(a, b) }
