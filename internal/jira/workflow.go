package jira

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/mfatriage/triage/internal/jira/wire"
)

// TransitionByName moves an issue through the transition called name, or,
// failing that, the one whose target status is called name (both compared
// without regard to case). Cost: two calls, GET and POST /transitions.
//
// When no offered transition matches, the issue's status is read (a third
// call); if it already is name the call succeeds, so passing the target status
// name makes a retried transition harmless. Otherwise the error wraps
// ErrInvalidInput and lists the transitions on offer.
func (c *Client) TransitionByName(ctx context.Context, key, name string) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("transition: %w", err)
	}
	want := strings.TrimSpace(name)
	if want == "" {
		return fmt.Errorf("transition %s: %w: empty transition name", key, ErrInvalidInput)
	}
	ctx1, capt := withCapture(ctx)
	ts, resp, err := c.jc.Issue.GetTransitionsWithContext(ctx1, key)
	if err := c.finish(capt, resp, err); err != nil {
		return fmt.Errorf("transitions of %s: %w", key, err)
	}
	id := ""
	for _, t := range ts {
		if strings.EqualFold(strings.TrimSpace(t.Name), want) {
			id = t.ID
			break
		}
	}
	if id == "" {
		for _, t := range ts {
			if strings.EqualFold(strings.TrimSpace(t.To.Name), want) {
				id = t.ID
				break
			}
		}
	}
	if id == "" {
		status, err := c.status(ctx, key)
		if err != nil {
			return fmt.Errorf("transition %s to %q: %w", key, name, err)
		}
		if strings.EqualFold(status, want) {
			return nil
		}
		var offered []string
		for _, t := range ts {
			offered = append(offered, fmt.Sprintf("%q (to %s)", t.Name, t.To.Name))
		}
		return fmt.Errorf("transition %s to %q: %w: no such transition from status %q; offered: %s",
			key, name, ErrInvalidInput, status, strings.Join(offered, ", "))
	}
	ctx2, capt := withCapture(withNoReplay(ctx))
	resp, err = c.jc.Issue.DoTransitionWithContext(ctx2, key, id)
	if err := c.finish(capt, resp, err); err != nil {
		return fmt.Errorf("transition %s to %q: %w", key, name, err)
	}
	return nil
}

// status reads only the status of an issue.
func (c *Client) status(ctx context.Context, key string) (string, error) {
	p, err := issuePath(key)
	if err != nil {
		return "", err
	}
	var w wire.Issue
	if err := c.call(ctx, http.MethodGet, p+"?fields=status", nil, &w, true); err != nil {
		return "", fmt.Errorf("status of %s: %w", key, err)
	}
	return string(w.Fields.Status.Name), nil
}

// Assign sets the assignee in one call (PUT /issue/{key}/assignee). accountID
// is a Cloud account id, or a user name on Data Center (PAT auth); "" removes
// the assignee.
func (c *Client) Assign(ctx context.Context, key, accountID string) error {
	p, err := issuePath(key, "assignee")
	if err != nil {
		return fmt.Errorf("assign: %w", err)
	}
	field := "accountId"
	if c.cfg.dataCenter() {
		field = "name"
	}
	var v any
	if accountID != "" {
		v = accountID
	}
	if err := c.call(ctx, http.MethodPut, p, map[string]any{field: v}, nil, true); err != nil {
		return fmt.Errorf("assign %s to %q: %w", key, accountID, err)
	}
	return nil
}
