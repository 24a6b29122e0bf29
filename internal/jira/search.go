package jira

import (
	"context"
	"errors"
	"fmt"

	gojira "github.com/andygrunwald/go-jira"
)

// DefaultSearchFields are the fields SearchJQL asks for when given none.
var DefaultSearchFields = []string{"summary", "status", "labels", "reporter", "assignee", "project", "created", "updated"}

// ErrStopSearch, returned by a page function, ends SearchJQL early without
// an error.
var ErrStopSearch = errors.New("stop search")

// SearchJQL runs jql through go-jira's SearchV2JQLWithContext
// (GET /rest/api/2/search/jql; the old /search answers 410 on Cloud) and calls
// pageFn with each page of issues, following nextPageToken until the last
// page. Cost: one call per page of Config.SearchPageSize issues. fields
// defaults to DefaultSearchFields (the endpoint returns ids only without
// fields). Issue.State stays nil: go-jira's result type drops properties; put
// conditions on them in the JQL instead (issue.property[triage].state IS EMPTY).
func (c *Client) SearchJQL(ctx context.Context, jql string, fields []string, pageFn func([]Issue) error) error {
	if len(fields) == 0 {
		fields = DefaultSearchFields
	}
	opts := &gojira.SearchOptionsV2{MaxResults: c.cfg.SearchPageSize, Fields: fields}
	seen := map[string]bool{}
	for page := 1; ; page++ {
		ctx1, capt := withCapture(ctx)
		found, resp, err := c.jc.Issue.SearchV2JQLWithContext(ctx1, jql, opts)
		if err := c.finish(capt, resp, err); err != nil {
			return fmt.Errorf("search %q (page %d): %w", jql, page, err)
		}
		issues := make([]Issue, 0, len(found))
		for _, g := range found {
			issues = append(issues, fromGoJira(g))
		}
		if err := pageFn(issues); err != nil {
			if errors.Is(err, ErrStopSearch) {
				return nil
			}
			return fmt.Errorf("search %q (page %d): %w", jql, page, err)
		}
		next := resp.NextPageToken
		if resp.IsLast || next == "" {
			return nil
		}
		if seen[next] {
			return fmt.Errorf("search %q (page %d): Jira sent the same nextPageToken twice", jql, page)
		}
		seen[next] = true
		opts.NextPageToken = next
	}
}
