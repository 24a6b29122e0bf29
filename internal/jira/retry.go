package jira

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/httpretry"
)

// RetryTransport is the http.RoundTripper under go-jira that makes calls
// survive Jira's rate limits and hiccups:
//
//   - 429, and 503 with Retry-After, wait as long as Jira asks (Retry-After in
//     seconds or as an HTTP date, else X-RateLimit-Reset), then retry. While
//     the wait runs, other calls through the same transport wait too (all of
//     them for a site-wide limit, writes to the same issue for Jira's
//     per-issue write limit; at most maxGates such gates are kept, the
//     ones that open first dropped), so the next call never comes sooner.
//     A wait longer than MaxRetryAfter (or the bound the call's context
//     carries, see withMaxRetryAfter), or one that would outlast the
//     context, is not slept: the 429 is returned and becomes an *Error
//     with RetryAfter.
//   - 5xx, timeouts and network errors back off exponentially with full
//     jitter (a random wait in [0, min(MaxBackoff, BaseBackoff·2ⁿ))), for at
//     most MaxAttempts tries in all. Requests that may not be replayed
//     (POST, and calls marked non-idempotent by the adapter, such as an edit
//     that adds a comment) are retried only when Jira cannot have acted on
//     them: after 429/503-with-Retry-After or a failed dial. Otherwise a
//     second comment could be posted.
//   - 400, 401, 403, 404 and every other answer are returned at once.
//   - Request bodies are re-sent from GetBody (buffered when missing).
//   - The context is honoured: no sleep outlives it.
//
// The zero value works; fields left zero take the defaults of Config.
type RetryTransport struct {
	Base           http.RoundTripper // default http.DefaultTransport
	MaxAttempts    int
	BaseBackoff    time.Duration
	MaxBackoff     time.Duration
	MaxRetryAfter  time.Duration
	AttemptTimeout time.Duration

	// Now, Sleep and Jitter are injectable for tests. Sleep must return the
	// context's error when it ends first; Jitter returns a wait in [0, n).
	Now    func() time.Time
	Sleep  func(ctx context.Context, d time.Duration) error
	Jitter func(n time.Duration) time.Duration

	Logger zerolog.Logger // zero value: no logging

	mu      sync.Mutex
	blocked map[string]time.Time // rate-limit scope → no call before; at most maxGates
}

var _ http.RoundTripper = (*RetryTransport)(nil)

// maxCapturedBody bounds how much of an error body is kept for the message.
const maxCapturedBody = 64 << 10

type ctxKey int

const (
	noReplayKey ctxKey = iota
	captureKey
	maxRetryAfterKey
)

// withNoReplay marks the calls made with ctx as not safe to send twice.
func withNoReplay(ctx context.Context) context.Context {
	return context.WithValue(ctx, noReplayKey, true)
}

// withMaxRetryAfter bounds the wait asked by Jira that the calls made with
// ctx sleep through, in place of the transport's MaxRetryAfter; a longer
// wait is handed back as a rate-limit *Error.
func withMaxRetryAfter(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, maxRetryAfterKey, d)
}

// capture receives the final error answer of a call, so that Jira's message
// survives go-jira's error handling whatever path it takes.
type capture struct {
	mu     sync.Mutex
	status int
	header http.Header
	body   []byte
	op     string
}

func withCapture(ctx context.Context) (context.Context, *capture) {
	c := &capture{}
	return context.WithValue(ctx, captureKey, c), c
}

func (c *capture) set(op string, status int, h http.Header, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.op, c.status, c.header, c.body = op, status, h.Clone(), body
}

func (c *capture) get() (op string, status int, h http.Header, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.op, c.status, c.header, c.body
}

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	op := req.Method + " " + req.URL.Path
	getBody, first, err := replayableBody(req)
	if err != nil {
		return nil, fmt.Errorf("%s: read request body: %w", op, err)
	}
	replaySafe := isReplaySafe(req)
	issue := issueOf(req)
	maxAttempts := pick(t.MaxAttempts, DefaultMaxAttempts)
	maxWait := t.maxRetryAfter(ctx)

	for attempt := 1; ; attempt++ {
		if err := t.waitForGate(ctx, op, req.Method, issue, maxWait); err != nil {
			if first != nil {
				first.Close()
			}
			return nil, err
		}
		body := first
		if attempt > 1 && getBody != nil {
			if body, err = getBody(); err != nil {
				return nil, fmt.Errorf("%s: rewind request body: %w", op, err)
			}
		}
		first = nil
		actx, cancel := context.WithTimeout(ctx, pick(t.AttemptTimeout, DefaultRequestTimeout))
		r := req.Clone(actx)
		r.Body = body
		started := time.Now()
		resp, err := t.base().RoundTrip(r)
		took := time.Since(started)

		if err != nil {
			cancel()
			t.Logger.Debug().Str("method", req.Method).Str("path", req.URL.Path).Int("attempt", attempt).
				Dur("duration", took).Str("error", err.Error()).Msg("jira call failed")
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", op, ctx.Err())
			}
			timedOut := errors.Is(actx.Err(), context.DeadlineExceeded) // not the cancel just above
			if timedOut {
				err = fmt.Errorf("attempt timed out after %v: %w", pick(t.AttemptTimeout, DefaultRequestTimeout), err)
			}
			if !replaySafe && !httpretry.NeverSent(err) {
				return nil, fmt.Errorf("%s: %w; not retried: %w", op, err, ErrUncertain)
			}
			if attempt >= maxAttempts {
				return nil, fmt.Errorf("%s: %w (gave up after %d attempts)", op, err, attempt)
			}
			wait := t.backoff(attempt)
			t.logRetry(req, attempt, wait, "network error")
			if err := t.sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			continue
		}

		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
		t.Logger.Debug().Str("method", req.Method).Str("path", req.URL.Path).Int("status", resp.StatusCode).
			Int("attempt", attempt).Dur("duration", took).Msg("jira call")

		wait, asked, retry := t.decide(resp, attempt, replaySafe)
		if retry && asked {
			t.block(resp, req.Method, issue, wait)
		}
		if retry && attempt < maxAttempts && (!asked || wait <= maxWait) && httpretry.FitsDeadline(ctx, wait) {
			drain(resp.Body)
			t.logRetry(req, attempt, wait, resp.Status)
			if err := t.sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			continue
		}
		if resp.StatusCode >= 400 {
			captureAnswer(ctx, op, resp)
		}
		return resp, nil
	}
}

// decide says whether to retry an answer, after how long, and whether Jira
// asked for that wait itself.
func (t *RetryTransport) decide(resp *http.Response, attempt int, replaySafe bool) (wait time.Duration, asked, retry bool) {
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests:
		if d := retryAfterFrom(resp.Header, t.now()); d > 0 {
			return d, true, true
		}
		return t.backoff(attempt), false, true
	case s == http.StatusServiceUnavailable:
		if d := retryAfterFrom(resp.Header, t.now()); d > 0 {
			return d, true, true
		}
		return t.backoff(attempt), false, replaySafe
	case s >= 500 && s != http.StatusNotImplemented && s != http.StatusHTTPVersionNotSupported:
		return t.backoff(attempt), false, replaySafe
	}
	return 0, false, false
}

// backoff is full jitter: a random wait in [0, min(MaxBackoff, BaseBackoff·2^(attempt-1))).
func (t *RetryTransport) backoff(attempt int) time.Duration {
	return httpretry.Backoff(attempt, pick(t.BaseBackoff, DefaultBaseBackoff), pick(t.MaxBackoff, DefaultMaxBackoff), t.Jitter)
}

// Rate-limit scopes: everything, or writes to one issue.
const (
	scopeAll        = "*"
	scopeIssuePrefx = "issue:"
)

// maxGates bounds the rate-limit gates a transport keeps: the site-wide one
// and one per issue Jira limited writes to.
const maxGates = 1024

// block keeps further calls back until Jira's wait is over.
func (t *RetryTransport) block(resp *http.Response, method, issue string, wait time.Duration) {
	scope := scopeAll
	if resp.Header.Get("RateLimit-Reason") == "jira-per-issue-on-write" && issue != "" {
		scope = scopeIssuePrefx + issue
	}
	now := t.now()
	until := now.Add(wait)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.blocked == nil {
		t.blocked = map[string]time.Time{}
	}
	if until.After(t.blocked[scope]) {
		t.blocked[scope] = until
	}
	if len(t.blocked) > maxGates {
		t.pruneGates(now)
	}
}

// pruneGates drops the gates that are open again and then, while there are
// more than maxGates, the issue gate that opens first: losing it costs at
// most one more 429 for that issue. The site-wide gate stays. t.mu is held.
func (t *RetryTransport) pruneGates(now time.Time) {
	for scope, until := range t.blocked {
		if !until.After(now) {
			delete(t.blocked, scope)
		}
	}
	for len(t.blocked) > maxGates {
		first := ""
		for scope, until := range t.blocked {
			if scope != scopeAll && (first == "" || until.Before(t.blocked[first])) {
				first = scope
			}
		}
		delete(t.blocked, first)
	}
}

// maxRetryAfter is the longest wait asked by Jira that a call made with ctx
// sleeps through.
func (t *RetryTransport) maxRetryAfter(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(maxRetryAfterKey).(time.Duration); ok {
		return d
	}
	return pick(t.MaxRetryAfter, DefaultMaxRetryAfter)
}

// waitForGate sleeps until no rate-limit block applies to the call, or answers
// a rate-limit *Error when that would take longer than maxWait or the
// context allows.
func (t *RetryTransport) waitForGate(ctx context.Context, op, method, issue string, maxWait time.Duration) error {
	for {
		now := t.now()
		t.mu.Lock()
		until := t.blocked[scopeAll]
		if issue != "" && isWrite(method) {
			if u := t.blocked[scopeIssuePrefx+issue]; u.After(until) {
				until = u
			}
		}
		t.mu.Unlock()
		wait := until.Sub(now)
		if wait <= 0 {
			return nil
		}
		if wait > maxWait || !httpretry.FitsDeadline(ctx, wait) {
			return &Error{
				Op:         op,
				Status:     http.StatusTooManyRequests,
				Messages:   []string{"not sent: Jira asked to wait until " + until.UTC().Format(time.RFC3339)},
				RetryAfter: wait,
			}
		}
		t.Logger.Debug().Str("op", op).Dur("wait", wait).Msg("jira call held back by a rate limit")
		if err := t.sleep(ctx, wait); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
}

func (t *RetryTransport) logRetry(req *http.Request, attempt int, wait time.Duration, why string) {
	t.Logger.Debug().Str("method", req.Method).Str("path", req.URL.Path).Int("attempt", attempt).
		Dur("wait", wait).Str("reason", why).Msg("jira call retried")
}

func (t *RetryTransport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *RetryTransport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *RetryTransport) sleep(ctx context.Context, d time.Duration) error {
	if t.Sleep != nil {
		return t.Sleep(ctx, d)
	}
	return httpretry.Sleep(ctx, d)
}

// replayableBody returns a way to re-create the body for later attempts and
// the body for the first one, buffering it when the request has no GetBody.
func replayableBody(req *http.Request) (func() (io.ReadCloser, error), io.ReadCloser, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil, nil
	}
	if req.GetBody != nil {
		return req.GetBody, req.Body, nil
	}
	buf, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	get := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	first, _ := get()
	return get, first, nil
}

// isReplaySafe: idempotent methods, unless the adapter marked the call.
func isReplaySafe(req *http.Request) bool {
	if v, _ := req.Context().Value(noReplayKey).(bool); v {
		return false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

var issuePathRE = regexp.MustCompile(`/rest/api/(?:2|3|latest)/issue/([^/]+)`)

// issueOf returns the issue id or key a request's path names, or "".
func issueOf(req *http.Request) string {
	if m := issuePathRE.FindStringSubmatch(req.URL.Path); m != nil {
		return m[1]
	}
	return ""
}

// captureAnswer keeps the final error answer for the adapter and gives go-jira
// a re-readable copy of the body.
func captureAnswer(ctx context.Context, op string, resp *http.Response) {
	c, _ := ctx.Value(captureKey).(*capture)
	if c == nil {
		return
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxCapturedBody))
	drain(resp.Body)
	c.set(op, resp.StatusCode, resp.Header, body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
}

// drain reads a little of what is left, so the connection can be reused, and
// closes the body.
func drain(rc io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(rc, 4<<10))
	_ = rc.Close()
}

// cancelOnClose ends an attempt's context when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func pick[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
