package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// GetProperty reads one issue entity property in one call. found is false when
// Jira answers 404, which it does for a missing property and for a missing
// issue alike (GetIssue tells the two apart).
func (c *Client) GetProperty(ctx context.Context, key, prop string) (value json.RawMessage, found bool, err error) {
	if err := checkPropertyKey(prop); err != nil {
		return nil, false, fmt.Errorf("get property of %s: %w", key, err)
	}
	p, err := issuePath(key, "properties", prop)
	if err != nil {
		return nil, false, fmt.Errorf("get property: %w", err)
	}
	var out struct {
		Key   string          `json:"key"`
		Value json.RawMessage `json:"value"`
	}
	if err := c.call(ctx, http.MethodGet, p, nil, &out, true); err != nil {
		if e, ok := asError(err); ok && e.Status == http.StatusNotFound {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("get property %s of %s: %w", prop, key, err)
	}
	return out.Value, true, nil
}

// SetProperty writes one issue entity property in one call (PUT, replayed
// safely on failure). The JSON of value must stay within 32,768 characters.
func (c *Client) SetProperty(ctx context.Context, key, prop string, value any) error {
	raw, err := encodeProperty(prop, value)
	if err != nil {
		return fmt.Errorf("set property of %s: %w", key, err)
	}
	p, err := issuePath(key, "properties", prop)
	if err != nil {
		return fmt.Errorf("set property: %w", err)
	}
	if err := c.call(ctx, http.MethodPut, p, raw, nil, true); err != nil {
		return fmt.Errorf("set property %s of %s: %w", prop, key, err)
	}
	return nil
}
