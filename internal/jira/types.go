package jira

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	gojira "github.com/andygrunwald/go-jira"

	"github.com/mfatriage/triage/internal/jira/wire"
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
	// Internal is true for a comment the reporter cannot see: a Jira
	// Service Management internal note (jsdPublic=false on Cloud, the
	// sd.public.comment property on Data Center, read with
	// expand=properties) or a comment restricted to a role or group.
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

// userFrom converts a user of a REST answer.
func userFrom(u *wire.User) User {
	if u == nil {
		return User{}
	}
	return User{AccountID: string(u.AccountID), Name: string(u.Name), DisplayName: string(u.DisplayName), Email: string(u.EmailAddress)}
}

// commentFrom converts a comment of a REST answer. A body Jira sends as an
// ADF document is read as its text.
func commentFrom(w wire.Comment) Comment {
	return Comment{
		ID:       string(w.ID),
		Author:   userFrom(w.Author),
		Body:     wire.Text(w.Body, math.MaxInt),
		Created:  w.Created.Time,
		Updated:  w.Updated.Time,
		Internal: w.Internal(),
	}
}

// issueFrom converts GET /issue/{key}'s answer; stateKey names the triage
// state property.
func issueFrom(w *wire.Issue, stateKey string) *Issue {
	f := w.Fields
	is := &Issue{
		ID:          string(w.ID),
		Key:         string(w.Key),
		Summary:     string(f.Summary),
		Description: wire.Text(f.Description, math.MaxInt),
		Reporter:    userFrom(f.Reporter),
		Status:      string(f.Status.Name),
		Created:     f.Created.Time,
		Updated:     f.Updated.Time,
	}
	if f.Labels != nil {
		is.Labels = make([]string, 0, len(f.Labels))
		for _, l := range f.Labels {
			is.Labels = append(is.Labels, string(l))
		}
	}
	if f.Assignee != nil {
		u := userFrom(f.Assignee)
		is.Assignee = &u
	}
	is.Project = projectOf(is.Key)
	if f.Project.Key != "" {
		is.Project = string(f.Project.Key)
	}
	if f.Comment != nil {
		for _, c := range f.Comment.Comments {
			is.Comments = append(is.Comments, commentFrom(c))
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
			cm.Created = wire.ParseTime(c.Created)
			cm.Updated = wire.ParseTime(c.Updated)
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
