package jiratest

import (
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// User is a Jira user as the fake knows it.
type User struct {
	AccountID    string // Jira Cloud account id
	DisplayName  string
	EmailAddress string
	Name         string // Data Center user name, optional
}

// Comment is one comment on an issue.
type Comment struct {
	ID      string
	Author  User
	Body    string
	Created time.Time
	Updated time.Time
	// Internal is true for a Jira Service Management internal (agent-only)
	// comment: one posted with the sd.public.comment property {"internal":true}.
	Internal bool
	// Visibility is the raw visibility object sent with the comment, if any.
	Visibility json.RawMessage
	// Properties are the comment's entity properties, by key.
	Properties map[string]json.RawMessage
	// ViaEdit is true when the comment came through update.comment of an issue
	// edit or a transition rather than POST /comment.
	ViaEdit bool
}

// Transition is a workflow transition offered on every issue whose status is
// not already To.
type Transition struct {
	ID   string
	Name string
	To   string // name of the target status
}

// Issue is an issue as the fake stores it. Zero fields get defaults in AddIssue.
type Issue struct {
	Key         string // required, e.g. "HD-1"; the project is the part before '-'
	ID          string // numeric id; assigned when empty
	Summary     string
	Description string
	Reporter    User
	Assignee    *User
	Priority    string // default "Medium"; one of Priorities
	Labels      []string
	Status      string    // default "Open"
	IssueType   string    // default "Service Request"
	Created     time.Time // default: the server clock
	Updated     time.Time // default: Created
	Comments    []Comment
	// Properties are the issue's entity properties, by key.
	Properties map[string]json.RawMessage
}

// Project returns the project key of the issue (the part of Key before '-').
func (i Issue) Project() string {
	for n := len(i.Key) - 1; n >= 0; n-- {
		if i.Key[n] == '-' {
			return i.Key[:n]
		}
	}
	return i.Key
}

// DefaultUser is the account every request is authenticated as when the server
// has no credentials configured.
var DefaultUser = User{
	AccountID:    "557058:fake-triage-bot",
	DisplayName:  "Triage Bot",
	EmailAddress: "triage-bot@example.com",
}

// DefaultTransitions is the workflow used unless WithTransitions is given.
var DefaultTransitions = []Transition{
	{ID: "11", Name: "Start Progress", To: "In Progress"},
	{ID: "21", Name: "Wait for customer", To: "Waiting for customer"},
	{ID: "31", Name: "Resolve", To: "Resolved"},
	{ID: "41", Name: "Close", To: "Closed"},
	{ID: "51", Name: "Reopen", To: "Open"},
}

func cloneRaw(r json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return slices.Clone(r)
}

func cloneRawMap(m map[string]json.RawMessage) map[string]json.RawMessage {
	if m == nil {
		return nil
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[k] = cloneRaw(v)
	}
	return out
}

func (c Comment) clone() Comment {
	c.Visibility = cloneRaw(c.Visibility)
	c.Properties = cloneRawMap(c.Properties)
	return c
}

func (i Issue) clone() Issue {
	if i.Assignee != nil {
		a := *i.Assignee
		i.Assignee = &a
	}
	i.Labels = slices.Clone(i.Labels)
	if i.Comments != nil {
		cs := make([]Comment, len(i.Comments))
		for n, c := range i.Comments {
			cs[n] = c.clone()
		}
		i.Comments = cs
	}
	i.Properties = cloneRawMap(i.Properties)
	return i
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// Priorities are the priority names the fake knows, as a default Jira
// scheme has them.
var Priorities = []string{"Highest", "High", "Medium", "Low", "Lowest"}
