package jira

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mfatriage/triage/internal/httpretry"
)

// Error is a non-2xx answer from Jira. Messages keeps Jira's own words: its
// errorMessages, then each field error as "field: message".
type Error struct {
	// Op is the request, e.g. "POST /rest/api/2/issue/HD-1/comment".
	Op       string
	Status   int
	Messages []string
	// RetryAfter is how long Jira asked to wait (Retry-After or
	// X-RateLimit-Reset), zero when it did not say.
	RetryAfter time.Duration
}

var _ error = (*Error)(nil)

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("jira answered ")
	b.WriteString(strconv.Itoa(e.Status))
	if t := http.StatusText(e.Status); t != "" {
		b.WriteString(" " + t)
	}
	if e.Op != "" {
		b.WriteString(" to " + e.Op)
	}
	if len(e.Messages) > 0 {
		b.WriteString(": " + strings.Join(e.Messages, "; "))
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %v)", e.RetryAfter)
	}
	return b.String()
}

// ErrInvalidInput marks a request the adapter refused to send because Jira
// would reject it (an empty key, a label with a space, a property value over
// 32,768 characters, an unknown transition). It is permanent.
var ErrInvalidInput = errors.New("invalid input")

// ErrUncertain marks a failed write that was not retried because it may have
// been applied (a timeout or dropped connection after the request was sent).
// Read the issue before trying again.
var ErrUncertain = errors.New("the write may have been applied")

// IsPermanent reports whether retrying err cannot help: Jira answered a 4xx
// other than 408, 409, 423, 425 and 429 (so 400, 401, 403, 404, 405, 410, ...),
// or the adapter refused the input. A worker returns asynq.SkipRetry for these.
func IsPermanent(err error) bool {
	if errors.Is(err, ErrInvalidInput) {
		return true
	}
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusLocked,
		http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return e.Status >= 400 && e.Status < 500
}

// IsRateLimited reports whether err is Jira saying "slow down": a 429, or a 503
// that carries Retry-After. Such an error should not count as a task failure.
func IsRateLimited(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == http.StatusTooManyRequests ||
		(e.Status == http.StatusServiceUnavailable && e.RetryAfter > 0)
}

// RetryAfter returns how long Jira asked to wait before the next call, or zero.
func RetryAfter(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Limits for messages parsed from an error body.
const (
	maxMessages   = 20
	maxMessageLen = 1000
)

var (
	htmlTitleRE = regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`)
	htmlTagRE   = regexp.MustCompile(`(?s)<[^>]*>`)
	spaceRE     = regexp.MustCompile(`\s+`)
)

// parseErrorBody extracts Jira's messages from an error body: the
// {"errorMessages":[...],"errors":{...}} format first, then the {"message":..}
// shapes of other Atlassian endpoints, and failing those the text itself (the
// title and text of an HTML page). It never returns empty messages.
func parseErrorBody(body []byte) []string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil
	}
	var out []string
	add := func(s string) {
		s = clean(s)
		if s != "" && len(out) < maxMessages {
			out = append(out, s)
		}
	}
	if body[0] == '{' {
		var v struct {
			ErrorMessages []json.RawMessage          `json:"errorMessages"`
			Errors        map[string]json.RawMessage `json:"errors"`
			Message       json.RawMessage            `json:"message"`
			ErrorMessage  json.RawMessage            `json:"errorMessage"`
		}
		if json.Unmarshal(body, &v) == nil {
			for _, m := range v.ErrorMessages {
				add(rawText(m))
			}
			fields := make([]string, 0, len(v.Errors))
			for k := range v.Errors {
				fields = append(fields, k)
			}
			sort.Strings(fields)
			for _, k := range fields {
				if msg := rawText(v.Errors[k]); strings.TrimSpace(msg) != "" {
					add(k + ": " + msg)
				} else {
					add(k)
				}
			}
			add(rawText(v.Message))
			add(rawText(v.ErrorMessage))
			if len(out) > 0 {
				return out
			}
			var keys map[string]json.RawMessage
			_ = json.Unmarshal(body, &keys)
			_, hasMessages := keys["errorMessages"]
			_, hasErrors := keys["errors"]
			if hasMessages || hasErrors {
				return nil // Jira's format, with nothing in it
			}
		}
	}
	text := string(body)
	if body[0] == '<' {
		title := ""
		if m := htmlTitleRE.FindStringSubmatch(text); m != nil {
			title = m[1]
			text = strings.Replace(text, m[0], " ", 1)
		}
		text = htmlTagRE.ReplaceAllString(text, " ")
		if t := clean(title); t != "" {
			add(t)
		}
	}
	add(text)
	return out
}

// rawText turns a JSON value into text: a string as is, null as "", anything
// else as its JSON.
func rawText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		return ""
	}
	return string(raw)
}

// clean makes a message safe to log: valid UTF-8, one line, bounded length.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.TrimSpace(spaceRE.ReplaceAllString(s, " "))
	if utf8.RuneCountInString(s) > maxMessageLen {
		r := []rune(s)
		s = string(r[:maxMessageLen-1]) + "…"
	}
	return s
}

// retryAfterFrom reads Retry-After (seconds or an HTTP date) and, when that is
// missing, X-RateLimit-Reset (an ISO 8601 time). Waits are never negative.
func retryAfterFrom(h http.Header, now time.Time) time.Duration {
	if d, ok := httpretry.RetryAfter(h, now); ok {
		return d
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		for _, layout := range resetLayouts {
			if t, err := time.Parse(layout, v); err == nil {
				return max(t.Sub(now), 0)
			}
		}
	}
	return 0
}

// resetLayouts are the forms of X-RateLimit-Reset seen from Jira: documented as
// yyyy-MM-ddTHH:mmZ, also sent with seconds and fractions.
var resetLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.000Z0700",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z0700",
}

func asError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
