package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// User is an account: accountId on Jira Cloud, name and key on Server and
// Data Center (and in older Cloud payloads).
type User struct {
	AccountID    String `json:"accountId"`
	Name         String `json:"name"`
	Key          String `json:"key"`
	DisplayName  String `json:"displayName"`
	EmailAddress String `json:"emailAddress"`
}

// Issue is an issue as a webhook carries it or GET /issue/{key} returns it.
type Issue struct {
	ID     String `json:"id"`
	Key    String `json:"key"`
	Self   String `json:"self"`
	Fields Fields `json:"fields"`
	// Properties are the entity properties asked for with properties=.
	Properties map[string]json.RawMessage `json:"properties"`
}

// Fields are the issue fields this module reads.
type Fields struct {
	Summary     String          `json:"summary"`
	Description json.RawMessage `json:"description"` // rich text: see Text
	Reporter    *User           `json:"reporter"`
	Assignee    *User           `json:"assignee"`
	Labels      []String        `json:"labels"`
	Status      struct {
		Name String `json:"name"`
	} `json:"status"`
	Project struct {
		Key String `json:"key"`
	} `json:"project"`
	Created Time      `json:"created"`
	Updated Time      `json:"updated"`
	Comment *Comments `json:"comment"`
}

// Comment is one comment on an issue.
type Comment struct {
	ID      String          `json:"id"`
	Self    String          `json:"self"` // …/rest/api/2/issue/{id}/comment/{id}
	Author  *User           `json:"author"`
	Body    json.RawMessage `json:"body"` // rich text: see Text
	Created Time            `json:"created"`
	Updated Time            `json:"updated"`
	// JSDPublic is false for a Jira Service Management internal comment;
	// Jira Cloud sends it, Data Center does not.
	JSDPublic *bool `json:"jsdPublic"`
	// Visibility, when set, restricts the comment to a role or group.
	Visibility *struct {
		Type       String `json:"type"`
		Value      String `json:"value"`
		Identifier String `json:"identifier"`
	} `json:"visibility"`
	// Properties are the comment's entity properties, sent only when asked
	// for with expand=properties: on Data Center the sd.public.comment
	// property is the one mark of a Service Management internal comment.
	Properties []struct {
		Key   String          `json:"key"`
		Value json.RawMessage `json:"value"`
	} `json:"properties"`
}

// InternalProperty is the comment property that makes a Jira Service
// Management comment internal (agent-only) when its value is
// {"internal": true}.
const InternalProperty = "sd.public.comment"

// Internal reports whether the reporter cannot see the comment: Jira marked
// it internal (jsdPublic false, or the sd.public.comment property says
// internal), or its visibility is restricted to a role or group.
func (c *Comment) Internal() bool {
	if c.JSDPublic != nil && !*c.JSDPublic {
		return true
	}
	if v := c.Visibility; v != nil && v.Type.String() != "" && (v.Value.String() != "" || v.Identifier.String() != "") {
		return true
	}
	for _, p := range c.Properties {
		if p.Key.String() != InternalProperty {
			continue
		}
		var v struct {
			Internal *bool `json:"internal"`
		}
		if json.Unmarshal(p.Value, &v) == nil && v.Internal != nil && *v.Internal {
			return true
		}
	}
	return false
}

// Marked reports whether the comment says on its own whether it is
// internal: jsdPublic (Jira Cloud) or a visibility restriction. A comment of
// Data Center without them needs its properties (expand=properties) to
// tell.
func (c *Comment) Marked() bool {
	return c.JSDPublic != nil || c.Visibility != nil || c.Properties != nil
}

// Comments is a page of comments: the comment field of an issue, or the
// answer of GET /issue/{key}/comment.
type Comments struct {
	Comments   []Comment `json:"comments"`
	StartAt    int       `json:"startAt"`
	MaxResults int       `json:"maxResults"`
	Total      int       `json:"total"`
}

// String reads a JSON string, number or boolean as text; null, objects and
// arrays read as "". It never fails.
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	switch b[0] {
	case '"':
		var v string
		if json.Unmarshal(b, &v) == nil {
			*s = String(v)
		}
	case '{', '[', 'n':
	default:
		*s = String(b)
	}
	return nil
}

// String is the text trimmed of white space.
func (s String) String() string { return strings.TrimSpace(string(s)) }

// Time reads Jira's timestamps: see ParseTime. Anything else reads as the
// zero time; it never fails.
type Time struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	var s String
	_ = s.UnmarshalJSON(b)
	t.Time = ParseTime(s.String())
	return nil
}

// timeLayouts are the forms of Jira's timestamps, REST's first.
var timeLayouts = []string{
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	time.RFC3339Nano,
}

// ParseTime reads "2025-03-10T09:00:00.000+0000" (REST and webhooks), the
// same without milliseconds, RFC 3339, or milliseconds since the epoch (a
// webhook's timestamp). Anything else is the zero time.
func ParseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		if ms < -1e15 || ms > 1e15 {
			return time.Time{}
		}
		return time.UnixMilli(ms).UTC()
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
