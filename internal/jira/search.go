package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	gojira "github.com/andygrunwald/go-jira"
)

// DefaultSearchFields are the fields SearchJQL asks for when given none.
var DefaultSearchFields = []string{"summary", "status", "labels", "reporter", "assignee", "project", "created", "updated"}

// ErrStopSearch, returned by a page function, ends SearchJQL early without
// an error.
var ErrStopSearch = errors.New("stop search")

// The search APIs of Client.search.
const (
	searchUnknown int32 = iota
	searchJQL           // Cloud: GET /search/jql, nextPageToken
	searchStartAt       // Data Center: GET /search, startAt and total
)

// SearchJQL runs jql and calls pageFn with each page of issues, until the
// last page. Cost: one call per page of Config.SearchPageSize issues.
// fields defaults to DefaultSearchFields (Cloud's endpoint returns ids only
// without fields).
//
// On Jira Cloud the search is go-jira's SearchV2JQLWithContext
// (GET /rest/api/2/search/jql, following nextPageToken; the old /search
// answers 410 there). On Data Center, which has no /search/jql, it is
// SearchWithContext (GET /rest/api/2/search, startAt paging up to the
// total). Config.Flavor chooses; with FlavorAuto the first search tries
// /search/jql and a 404 answer switches this client to /search for good
// (one extra call, once).
//
// Issue.State stays nil: go-jira's result type drops properties; put
// conditions on them in the JQL instead (issue.property[triage].state IS EMPTY).
func (c *Client) SearchJQL(ctx context.Context, jql string, fields []string, pageFn func([]Issue) error) error {
	if len(fields) == 0 {
		fields = DefaultSearchFields
	}
	mode := c.search.Load()
	if mode == searchStartAt {
		return c.searchStartAt(ctx, jql, fields, pageFn)
	}
	err := c.searchJQL(ctx, jql, fields, pageFn)
	var nf *notFoundOnFirstPage
	switch {
	case !errors.As(err, &nf):
		if err == nil && mode == searchUnknown {
			c.search.Store(searchJQL)
		}
		return err
	case mode == searchUnknown:
		c.search.Store(searchStartAt)
		c.log.Info().Msg("jira: /rest/api/2/search/jql answered 404, as Data Center does; searching with /rest/api/2/search (startAt paging) from now on")
		return c.searchStartAt(ctx, jql, fields, pageFn)
	}
	return nf.err
}

// notFoundOnFirstPage is a 404 to the first page of /search/jql: the
// endpoint is missing (Data Center), as no page function has run yet.
type notFoundOnFirstPage struct{ err error }

func (e *notFoundOnFirstPage) Error() string { return e.err.Error() }
func (e *notFoundOnFirstPage) Unwrap() error { return e.err }

// searchJQL pages GET /rest/api/2/search/jql by nextPageToken.
func (c *Client) searchJQL(ctx context.Context, jql string, fields []string, pageFn func([]Issue) error) error {
	opts := &gojira.SearchOptionsV2{MaxResults: c.cfg.SearchPageSize, Fields: fields}
	seen := map[string]bool{}
	for page := 1; ; page++ {
		ctx1, capt := withCapture(ctx)
		found, resp, err := c.jc.Issue.SearchV2JQLWithContext(ctx1, jql, opts)
		if err := c.finish(capt, resp, err); err != nil {
			err = fmt.Errorf("search %q (page %d): %w", jql, page, err)
			if e, ok := asError(err); ok && e.Status == http.StatusNotFound && page == 1 {
				return &notFoundOnFirstPage{err}
			}
			return err
		}
		if done, err := c.page(jql, page, found, pageFn); done || err != nil {
			return err
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

// searchStartAt pages Data Center's GET /rest/api/2/search by startAt
// until the total (or an empty page).
func (c *Client) searchStartAt(ctx context.Context, jql string, fields []string, pageFn func([]Issue) error) error {
	opts := &gojira.SearchOptions{MaxResults: c.cfg.SearchPageSize, Fields: fields}
	for page := 1; ; page++ {
		ctx1, capt := withCapture(ctx)
		found, resp, err := c.jc.Issue.SearchWithContext(ctx1, jql, opts)
		if err := c.finish(capt, resp, err); err != nil {
			return fmt.Errorf("search %q (page %d): %w", jql, page, err)
		}
		if done, err := c.page(jql, page, found, pageFn); done || err != nil {
			return err
		}
		next := resp.StartAt + len(found)
		if len(found) == 0 || next >= resp.Total {
			return nil
		}
		opts.StartAt = next
	}
}

// page hands one page to pageFn; done is true when pageFn stopped the
// search (ErrStopSearch, no error) or failed (the error).
func (c *Client) page(jql string, page int, found []gojira.Issue, pageFn func([]Issue) error) (done bool, err error) {
	issues := make([]Issue, 0, len(found))
	for _, g := range found {
		issues = append(issues, fromGoJira(g))
	}
	if err := pageFn(issues); err != nil {
		if errors.Is(err, ErrStopSearch) {
			return true, nil
		}
		return true, fmt.Errorf("search %q (page %d): %w", jql, page, err)
	}
	return false, nil
}
