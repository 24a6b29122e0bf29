package jira

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Jira's limits on entity properties and labels.
const (
	MaxPropertyKeyLen   = 255
	MaxPropertyValueLen = 32768
	maxLabelLen         = 255
)

// Edit is a set of changes to one issue, written together.
type Edit struct {
	// Comment is a comment to add (wiki markup); empty adds none.
	Comment string
	// Internal keeps Comment from the reporter: a Jira Service Management
	// internal note, or outside Service Management a comment restricted to
	// Config.InternalVisibility (see AddComment). When neither is possible
	// the comment is left out, the rest is written, and Edit returns a
	// *NoteSkippedError.
	Internal bool
	// AddLabels and RemoveLabels change labels; adding a label the issue
	// already has is a no-op in Jira.
	AddLabels    []string
	RemoveLabels []string
	// Properties are issue entity properties to set, such as the triage
	// state; each value is JSON-encoded and must stay within 32,768
	// characters.
	Properties map[string]any
	// Priority, when set, is the name of the priority to set ("Highest").
	Priority string
}

func (e Edit) empty() bool {
	return e.Comment == "" && len(e.AddLabels) == 0 && len(e.RemoveLabels) == 0 && len(e.Properties) == 0 && e.Priority == ""
}

// ErrPartialEdit marks an Edit whose internal comment was posted but whose
// labels and properties were not written. The error text carries the comment
// id; a retry must not post the comment again.
var ErrPartialEdit = errors.New("internal comment posted, rest of the edit not written")

// Edit applies e to the issue.
//
// A public comment (or none), labels and properties go in ONE call:
// PUT /issue/{key} with update.comment, update.labels and properties, which
// Jira applies together, so the triage state written in Properties cannot be
// split from the comment it describes.
//
// An internal comment costs TWO calls: POST /issue/{key}/comment with the
// sd.public.comment property, then the PUT for labels and properties (if
// any). Jira documents comment properties only on the comment resource, not
// on update.comment of an edit, and a note meant for agents must never reach
// the customer on a guess. The PUT sleeps through a rate limit of up to the
// client's MaxRetryAfter even for a task's Triage adapter (NewTaskTriage).
// If it fails after the comment was posted, the error wraps ErrPartialEdit.
//
// An edit carrying a comment is never replayed after an uncertain failure
// (ErrUncertain); read the issue before trying again.
func (c *Client) Edit(ctx context.Context, key string, e Edit) error {
	if err := checkKey(key); err != nil {
		return fmt.Errorf("edit: %w", err)
	}
	if err := e.validate(); err != nil {
		return fmt.Errorf("edit %s: %w", key, err)
	}
	if e.empty() {
		return nil
	}
	if e.Comment != "" && e.Internal {
		rest := e
		rest.Comment, rest.Internal = "", false
		cm, err := c.AddComment(ctx, key, e.Comment, true)
		var skipped *NoteSkippedError
		if errors.As(err, &skipped) {
			// no note, but the labels and the state still go
			if !rest.empty() {
				if err := c.update(ctx, key, rest); err != nil {
					return fmt.Errorf("edit %s: %w", key, err)
				}
			}
			return fmt.Errorf("edit %s: %w", key, skipped)
		}
		if err != nil {
			return fmt.Errorf("edit %s: %w", key, err)
		}
		if rest.empty() {
			return nil
		}
		// The comment is posted: handing a rate limit back now would have
		// the caller post it again, so this call waits as long as the
		// client's MaxRetryAfter allows, whatever bound ctx carries.
		if err := c.update(withMaxRetryAfter(ctx, c.cfg.MaxRetryAfter), key, rest); err != nil {
			return fmt.Errorf("edit %s: %w (comment %s): %w", key, ErrPartialEdit, cm.ID, err)
		}
		return nil
	}
	if err := c.update(ctx, key, e); err != nil {
		return fmt.Errorf("edit %s: %w", key, err)
	}
	return nil
}

// AddLabels adds labels in one call (PUT /issue/{key} with update.labels).
func (c *Client) AddLabels(ctx context.Context, key string, labels ...string) error {
	return c.Edit(ctx, key, Edit{AddLabels: labels})
}

// update sends one PUT /issue/{key} through go-jira's UpdateIssueWithContext.
func (c *Client) update(ctx context.Context, key string, e Edit) error {
	if err := checkKey(key); err != nil {
		return err
	}
	update := map[string]any{}
	var labelOps []map[string]string
	for _, l := range e.AddLabels {
		labelOps = append(labelOps, map[string]string{"add": l})
	}
	for _, l := range e.RemoveLabels {
		labelOps = append(labelOps, map[string]string{"remove": l})
	}
	if len(labelOps) > 0 {
		update["labels"] = labelOps
	}
	if e.Comment != "" {
		update["comment"] = []map[string]any{{"add": map[string]string{"body": e.Comment}}}
		ctx = withNoReplay(ctx)
	}
	data := map[string]any{}
	if len(update) > 0 {
		data["update"] = update
	}
	if e.Priority != "" {
		data["fields"] = map[string]any{"priority": map[string]string{"name": e.Priority}}
	}
	if len(e.Properties) > 0 {
		keys := make([]string, 0, len(e.Properties))
		for k := range e.Properties {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		props := make([]entityProperty, 0, len(keys))
		for _, k := range keys {
			props = append(props, entityProperty{Key: k, Value: e.Properties[k]})
		}
		data["properties"] = props
	}
	ctx, capt := withCapture(ctx)
	resp, err := c.jc.Issue.UpdateIssueWithContext(ctx, key, data)
	return c.finish(capt, resp, err)
}

// validate refuses what Jira would reject, before any call is made.
func (e Edit) validate() error {
	for _, l := range append(append([]string(nil), e.AddLabels...), e.RemoveLabels...) {
		switch {
		case l == "":
			return fmt.Errorf("%w: empty label", ErrInvalidInput)
		case strings.IndexFunc(l, unicode.IsSpace) >= 0:
			return fmt.Errorf("%w: label %q contains white space, which Jira does not allow", ErrInvalidInput, l)
		case utf8.RuneCountInString(l) > maxLabelLen:
			return fmt.Errorf("%w: label %q is longer than %d characters", ErrInvalidInput, l, maxLabelLen)
		}
	}
	if e.Internal && e.Comment == "" {
		return fmt.Errorf("%w: Internal is set but there is no comment", ErrInvalidInput)
	}
	for k, v := range e.Properties {
		if _, err := encodeProperty(k, v); err != nil {
			return err
		}
	}
	return nil
}

// encodeProperty JSON-encodes a property value and applies Jira's limits.
func encodeProperty(key string, value any) (json.RawMessage, error) {
	if err := checkPropertyKey(key); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(value)
	if err != nil {
		return nil, fmt.Errorf("%w: property %s: %v", ErrInvalidInput, key, err)
	}
	if string(raw) == "null" {
		return nil, fmt.Errorf("%w: property %s has no value (null)", ErrInvalidInput, key)
	}
	if n := utf8.RuneCount(raw); n > MaxPropertyValueLen {
		return nil, fmt.Errorf("%w: property %s is %d characters of JSON; Jira allows at most %d", ErrInvalidInput, key, n, MaxPropertyValueLen)
	}
	return raw, nil
}

// checkPropertyKey applies Jira's limits on property keys; a key must also be
// a single path segment.
func checkPropertyKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty property key", ErrInvalidInput)
	case utf8.RuneCountInString(key) > MaxPropertyKeyLen:
		return fmt.Errorf("%w: property key is longer than %d characters", ErrInvalidInput, MaxPropertyKeyLen)
	case strings.ContainsAny(key, "/?#"):
		return fmt.Errorf("%w: property key %q contains '/', '?' or '#'", ErrInvalidInput, key)
	}
	return nil
}
