package jira

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/mfatriage/triage/internal/jira/wire"
)

// internalProperty is the comment property that makes a Jira Service
// Management comment internal (agent-only).
const internalProperty = "sd.public.comment"

// entityProperty is one {"key":..,"value":..} of a properties array.
type entityProperty struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

// commentRequest is the body of POST /issue/{key}/comment. It is our own
// struct on purpose: go-jira v1.17.0's Comment always sends empty author,
// updateAuthor and visibility objects (400 on Jira Cloud, go-jira #604/#694)
// and cannot carry properties.
type commentRequest struct {
	Body       string           `json:"body"`
	Properties []entityProperty `json:"properties,omitempty"`
}

// AddComment posts a comment (wiki markup) in one call. internal=true makes it
// a Jira Service Management internal note through the sd.public.comment
// property; a public comment is sent without properties (JSM's default is
// public). The call is never replayed after an uncertain failure, so a
// comment is not posted twice by the adapter.
func (c *Client) AddComment(ctx context.Context, key, body string, internal bool) (Comment, error) {
	if strings.TrimSpace(body) == "" {
		return Comment{}, fmt.Errorf("comment on %s: %w: empty comment body", key, ErrInvalidInput)
	}
	p, err := issuePath(key, "comment")
	if err != nil {
		return Comment{}, fmt.Errorf("comment: %w", err)
	}
	in := commentRequest{Body: body}
	if internal {
		in.Properties = []entityProperty{{Key: internalProperty, Value: map[string]bool{"internal": true}}}
	}
	var out wire.Comment
	if err := c.call(ctx, http.MethodPost, p, in, &out, false); err != nil {
		return Comment{}, fmt.Errorf("comment on %s: %w", key, err)
	}
	cm := commentFrom(out)
	if out.JSDPublic == nil {
		cm.Internal = internal
	}
	return cm, nil
}
