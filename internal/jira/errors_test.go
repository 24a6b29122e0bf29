package jira

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"jira messages", `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`,
			[]string{"Issue does not exist or you do not have permission to see it."}},
		{"field errors sorted", `{"errorMessages":[],"errors":{"summary":"You must specify a summary of the issue.","labels":"The label 'a b' contains spaces which is invalid."}}`,
			[]string{"labels: The label 'a b' contains spaces which is invalid.", "summary: You must specify a summary of the issue."}},
		{"both", `{"errorMessages":["Bad"],"errors":{"assignee":"User 'x' cannot be assigned issues."}}`,
			[]string{"Bad", "assignee: User 'x' cannot be assigned issues."}},
		{"non-string field error", `{"errors":{"n":42}}`, []string{"n: 42"}},
		{"service desk shape", `{"errorMessage":"The request type is not valid","i18nErrorMessage":{}}`, []string{"The request type is not valid"}},
		{"message shape", `{"message":"Rate limit exceeded","status-code":429}`, []string{"Rate limit exceeded"}},
		{"empty jira format", `{"errorMessages":[],"errors":{}}`, nil},
		{"plain text", "Client must be authenticated to access this resource.\n", []string{"Client must be authenticated to access this resource."}},
		{"html page", "<html><head><title>Oops - Service Unavailable</title></head><body><h1>We are down</h1>\n<p>Back soon.</p></body></html>",
			[]string{"Oops - Service Unavailable", "We are down Back soon."}},
		{"json of another shape", `{"foo":1}`, []string{`{"foo":1}`}},
		{"broken json", `{"errorMessages":["x"`, []string{`{"errorMessages":["x"`}},
		{"empty", "   ", nil},
		{"invalid utf-8", "bad \xff byte", []string{"bad \uFFFD byte"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, parseErrorBody([]byte(tt.body))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzParseErrorBody checks that any body yields clean, bounded messages and
// that Jira's own messages always survive. Seeds live in
// testdata/fuzz/FuzzParseErrorBody.
func FuzzParseErrorBody(f *testing.F) {
	f.Add([]byte(`{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`))
	f.Add([]byte(`{"errorMessages":[],"errors":{"labels":"The label 'a b' contains spaces which is invalid."}}`))
	f.Add([]byte("<html><title>503</title></html>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		msgs := parseErrorBody(body)
		if len(msgs) > maxMessages {
			t.Fatalf("%d messages", len(msgs))
		}
		for _, m := range msgs {
			if m == "" || m != strings.TrimSpace(m) || strings.ContainsAny(m, "\n\r\t") {
				t.Fatalf("unclean message %q", m)
			}
			if !utf8.ValidString(m) || utf8.RuneCountInString(m) > maxMessageLen {
				t.Fatalf("invalid or too long message (%d runes)", utf8.RuneCountInString(m))
			}
		}
		if !cmp.Equal(msgs, parseErrorBody(body)) {
			t.Fatalf("not deterministic")
		}
		// Whatever else the body holds, a well-formed Jira message survives.
		e := &Error{Status: 400, Messages: msgs}
		_ = e.Error()
		wrapped := []byte(`{"errorMessages":["keep me"],"errors":{}}`)
		if got := parseErrorBody(wrapped); len(got) != 1 || got[0] != "keep me" {
			t.Fatalf("Jira's message lost: %v", got)
		}
	})
}

func TestRetryAfterFrom(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		hdr  map[string]string
		want time.Duration
	}{
		{"seconds", map[string]string{"Retry-After": "2"}, 2 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond},
		{"http date", map[string]string{"Retry-After": "Mon, 10 Mar 2025 09:00:30 GMT"}, 30 * time.Second},
		{"http date in the past", map[string]string{"Retry-After": "Mon, 10 Mar 2025 08:00:00 GMT"}, 0},
		{"reset, documented minute form", map[string]string{"X-RateLimit-Reset": "2025-03-10T09:02Z"}, 2 * time.Minute},
		{"reset with seconds", map[string]string{"X-RateLimit-Reset": "2025-03-10T09:00:05Z"}, 5 * time.Second},
		{"reset with millis and offset", map[string]string{"X-RateLimit-Reset": "2025-03-10T10:00:07.000+0100"}, 7 * time.Second},
		{"Retry-After wins over reset", map[string]string{"Retry-After": "3", "X-RateLimit-Reset": "2025-03-10T09:05Z"}, 3 * time.Second},
		{"garbage", map[string]string{"Retry-After": "soon", "X-RateLimit-Reset": "later"}, 0},
		{"negative", map[string]string{"Retry-After": "-4"}, 0},
		{"none", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.hdr {
				h.Set(k, v)
			}
			if got := retryAfterFrom(h, now); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrorClassification(t *testing.T) {
	t.Parallel()
	wrap := func(e *Error) error { return fmt.Errorf("comment on HD-1: %w", e) }
	tests := []struct {
		name                 string
		err                  error
		permanent, ratelimit bool
		retryAfter           time.Duration
	}{
		{"400", wrap(&Error{Status: 400}), true, false, 0},
		{"401", wrap(&Error{Status: 401}), true, false, 0},
		{"403", wrap(&Error{Status: 403}), true, false, 0},
		{"404", wrap(&Error{Status: 404}), true, false, 0},
		{"410", wrap(&Error{Status: 410}), true, false, 0},
		{"409", wrap(&Error{Status: 409}), false, false, 0},
		{"429", wrap(&Error{Status: 429, RetryAfter: 2 * time.Second}), false, true, 2 * time.Second},
		{"503 with Retry-After", wrap(&Error{Status: 503, RetryAfter: time.Second}), false, true, time.Second},
		{"503 without", wrap(&Error{Status: 503}), false, false, 0},
		{"500", wrap(&Error{Status: 500}), false, false, 0},
		{"invalid input", fmt.Errorf("edit: %w: label", ErrInvalidInput), true, false, 0},
		{"uncertain", fmt.Errorf("x: %w", ErrUncertain), false, false, 0},
		{"plain", errors.New("dial tcp: refused"), false, false, 0},
		{"nil", nil, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := []any{IsPermanent(tt.err), IsRateLimited(tt.err), RetryAfter(tt.err)}
			want := []any{tt.permanent, tt.ratelimit, tt.retryAfter}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	e := &Error{Op: "POST /rest/api/2/issue/HD-1/comment", Status: 400, Messages: []string{"Invalid request payload.", "comment: Comment body can not be empty!"}}
	want := "jira answered 400 Bad Request to POST /rest/api/2/issue/HD-1/comment: Invalid request payload.; comment: Comment body can not be empty!"
	if got := e.Error(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	rl := &Error{Op: "GET /x", Status: 429, RetryAfter: 2 * time.Second}
	if got := rl.Error(); got != "jira answered 429 Too Many Requests to GET /x (retry after 2s)" {
		t.Errorf("got %s", got)
	}
}
