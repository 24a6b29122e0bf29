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
const internalProperty = wire.InternalProperty

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
	Visibility *Visibility      `json:"visibility,omitempty"`
	Properties []entityProperty `json:"properties,omitempty"`
}

// AddComment posts a comment (wiki markup) in one call. internal=true keeps
// it from the reporter: in a Service Management project through the
// sd.public.comment property (an internal note), in any other project (which
// ignores that property) through the restricted visibility of
// Config.InternalVisibility; with none configured, nothing is posted and the
// error is a *NoteSkippedError. The project's type is read once per project
// (GET /project/{key}, one more call the first time). A public comment is
// sent without properties (JSM's default is public). The call is never
// replayed after an uncertain failure, so a comment is not posted twice by
// the adapter.
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
		vis, err := c.private(ctx, projectOf(key))
		if err != nil {
			return Comment{}, fmt.Errorf("comment on %s: %w", key, err)
		}
		if vis != nil {
			in.Visibility = vis
		} else {
			in.Properties = []entityProperty{{Key: internalProperty, Value: map[string]bool{"internal": true}}}
		}
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
