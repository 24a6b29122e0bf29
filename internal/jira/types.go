package jira

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"
)

// User is a Jira account.
type User struct {
	AccountID   string // Jira Cloud account id
	Name        string // Data Center user name
	DisplayName string
	Email       string
	// TimeZone is the user's zone in Jira's profile settings (an IANA
	// name, e.g. "America/New_York"); Jira reads the user's JQL dates in
	// it. Only GET /myself carries it reliably.
	TimeZone string
}

// Comment is one comment on an issue.
type Comment struct {
	ID      string
	Author  User
	Body    string // wiki markup (REST v2)
	Created time.Time
	Updated time.Time
	// Internal is true for a Jira Service Management internal (agent-only)
	// comment. Jira Cloud reports it as jsdPublic=false; where Jira does not
	// report it every comment reads as public.
	Internal bool
}

// Issue is what the triage needs of a Jira issue.
type Issue struct {
	ID          string
	Key         string
	Project     string
	Summary     string
	Description string
	Reporter    User
	Assignee    *User
	Labels      []string
	Status      string
	Created     time.Time
	Updated     time.Time
	Comments    []Comment // oldest first
	// State is the raw JSON of the triage state property
	// (Config.StateProperty), nil when the issue has none. Filled by GetIssue;
	// SearchJQL leaves it nil (go-jira's search result drops properties).
	State json.RawMessage
}

// ---- wire shapes of REST v2, for the calls that bypass go-jira's structs ----

type wireUser struct {
	AccountID    string `json:"accountId"`
	Name         string `json:"name"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress"`
}

func (u *wireUser) user() User {
	if u == nil {
		return User{}
	}
	return User{AccountID: u.AccountID, Name: u.Name, DisplayName: u.DisplayName, Email: u.EmailAddress}
}

type wireComment struct {
	ID        string          `json:"id"`
	Author    *wireUser       `json:"author"`
	Body      json.RawMessage `json:"body"`
	Created   jiraTime        `json:"created"`
	Updated   jiraTime        `json:"updated"`
	JSDPublic *bool           `json:"jsdPublic"`
}

func (w wireComment) comment() Comment {
	return Comment{
		ID:       w.ID,
		Author:   w.Author.user(),
		Body:     bodyText(w.Body),
		Created:  w.Created.Time,
		Updated:  w.Updated.Time,
		Internal: w.JSDPublic != nil && !*w.JSDPublic,
	}
}

type wireComments struct {
	Comments   []wireComment `json:"comments"`
	StartAt    int           `json:"startAt"`
	MaxResults int           `json:"maxResults"`
	Total      int           `json:"total"`
}

type wireIssue struct {
	ID     string `json:"id"`
	Key    string `json:"key"`
	Fields struct {
		Summary     string    `json:"summary"`
		Description *string   `json:"description"`
		Reporter    *wireUser `json:"reporter"`
		Assignee    *wireUser `json:"assignee"`
		Labels      []string  `json:"labels"`
		Status      *struct {
			Name string `json:"name"`
		} `json:"status"`
		Project *struct {
			Key string `json:"key"`
		} `json:"project"`
		Created jiraTime      `json:"created"`
		Updated jiraTime      `json:"updated"`
		Comment *wireComments `json:"comment"`
	} `json:"fields"`
	Properties map[string]json.RawMessage `json:"properties"`
}

func (w *wireIssue) issue(stateKey string) *Issue {
	f := w.Fields
	is := &Issue{
		ID:       w.ID,
		Key:      w.Key,
		Summary:  f.Summary,
		Reporter: f.Reporter.user(),
		Labels:   f.Labels,
		Created:  f.Created.Time,
		Updated:  f.Updated.Time,
	}
	if f.Description != nil {
		is.Description = *f.Description
	}
	if f.Assignee != nil {
		u := f.Assignee.user()
		is.Assignee = &u
	}
	if f.Status != nil {
		is.Status = f.Status.Name
	}
	is.Project = projectOf(w.Key)
	if f.Project != nil && f.Project.Key != "" {
		is.Project = f.Project.Key
	}
	if f.Comment != nil {
		for _, c := range f.Comment.Comments {
			is.Comments = append(is.Comments, c.comment())
		}
	}
	if v, ok := w.Properties[stateKey]; ok && len(v) > 0 && string(v) != "null" {
		is.State = v
	}
	return is
}

// fromGoJira converts an issue decoded by go-jira (search results).
func fromGoJira(g gojira.Issue) Issue {
	is := Issue{ID: g.ID, Key: g.Key, Project: projectOf(g.Key)}
	f := g.Fields
	if f == nil {
		return is
	}
	is.Summary = f.Summary
	is.Description = f.Description
	is.Labels = f.Labels
	is.Created = time.Time(f.Created)
	is.Updated = time.Time(f.Updated)
	if f.Project.Key != "" {
		is.Project = f.Project.Key
	}
	if f.Reporter != nil {
		is.Reporter = userFromGoJira(f.Reporter)
	}
	if f.Assignee != nil {
		u := userFromGoJira(f.Assignee)
		is.Assignee = &u
	}
	if f.Status != nil {
		is.Status = f.Status.Name
	}
	if f.Comments != nil {
		for _, c := range f.Comments.Comments {
			if c == nil {
				continue
			}
			cm := Comment{ID: c.ID, Author: userFromGoJira(&c.Author), Body: c.Body}
			cm.Created, _ = parseJiraTime(c.Created)
			cm.Updated, _ = parseJiraTime(c.Updated)
			is.Comments = append(is.Comments, cm)
		}
	}
	return is
}

func userFromGoJira(u *gojira.User) User {
	return User{AccountID: u.AccountID, Name: u.Name, DisplayName: u.DisplayName, Email: u.EmailAddress, TimeZone: u.TimeZone}
}

func projectOf(key string) string {
	if i := strings.LastIndexByte(key, '-'); i > 0 {
		return key[:i]
	}
	return ""
}

// bodyText reads a v2 comment body (a string); anything else is kept as JSON.
func bodyText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// jiraTime reads Jira's timestamps ("2025-03-10T09:00:00.000+0000").
type jiraTime struct{ time.Time }

func (t *jiraTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil || s == "" {
		return nil // null or not a string: leave zero rather than fail the issue
	}
	t.Time, _ = parseJiraTime(s)
	return nil
}

var timeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
}

func parseJiraTime(s string) (time.Time, error) {
	var err error
	for _, l := range timeLayouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
