package jira

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/mfatriage/triage/internal/jira/wire"
)

// issueFields are the fields GetIssue asks for.
var issueFields = []string{
	"summary", "description", "reporter", "assignee", "labels", "status",
	"project", "created", "updated", "comment",
}

// commentPageSize is maxResults when paging comments GetIssue did not get.
const commentPageSize = 100

// GetIssue reads an issue with its comments and its triage state property in
// one call: GET /issue/{key}?fields=...&properties=<StateProperty>. When Jira
// embeds fewer comments than the issue has, all comments are read again from
// /issue/{key}/comment, oldest first (one more call per 100 comments), rather
// than guessing which ones Jira left out. So are comments that do not say
// whether they are internal (Data Center sends no jsdPublic: an internal
// note would read as public), with expand=properties.
func (c *Client) GetIssue(ctx context.Context, key string) (*Issue, error) {
	p, err := issuePath(key)
	if err != nil {
		return nil, fmt.Errorf("get issue: %w", err)
	}
	q := url.Values{"fields": {strings.Join(issueFields, ",")}, "properties": {c.cfg.StateProperty}}
	var w wire.Issue
	if err := c.call(ctx, http.MethodGet, p+"?"+q.Encode(), nil, &w, true); err != nil {
		return nil, fmt.Errorf("get issue %s: %w", key, err)
	}
	is := issueFrom(&w, c.cfg.StateProperty)
	if cm := w.Fields.Comment; cm != nil && (cm.Total > len(cm.Comments) || !allMarked(cm.Comments)) {
		all, err := c.comments(ctx, key, cm.Total)
		if err != nil {
			return nil, fmt.Errorf("get issue %s: %w", key, err)
		}
		is.Comments = all
	}
	return is, nil
}

// allMarked reports whether every comment says whether it is internal. Data
// Center's do not (no jsdPublic): their sd.public.comment property tells,
// and only the comment resource sends it (expand=properties).
func allMarked(cs []wire.Comment) bool {
	for i := range cs {
		if !cs[i].Marked() {
			return false
		}
	}
	return true
}

// comments pages GET /issue/{key}/comment?expand=properties, oldest first,
// until total.
func (c *Client) comments(ctx context.Context, key string, total int) ([]Comment, error) {
	p, err := issuePath(key, "comment")
	if err != nil {
		return nil, err
	}
	var out []Comment
	startAt := 0
	for startAt < total {
		q := url.Values{
			"startAt":    {strconv.Itoa(startAt)},
			"maxResults": {strconv.Itoa(commentPageSize)},
			"orderBy":    {"created"},
			"expand":     {"properties"},
		}
		var page wire.Comments
		if err := c.call(ctx, http.MethodGet, p+"?"+q.Encode(), nil, &page, true); err != nil {
			return nil, fmt.Errorf("comments from %d: %w", startAt, err)
		}
		if len(page.Comments) == 0 {
			break
		}
		for _, w := range page.Comments {
			out = append(out, commentFrom(w))
		}
		startAt += len(page.Comments)
		total = page.Total
	}
	return out, nil
}
