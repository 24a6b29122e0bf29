package jira

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

func TestRateLimitHonoursServerWait(t *testing.T) {
	t.Parallel()
	reset := time.Date(2025, 3, 10, 9, 0, 5, 0, time.UTC) // the fake clock starts at 09:00:00
	tests := []struct {
		name  string
		fault jiratest.Fault
		want  time.Duration
	}{
		{"429 Retry-After seconds", jiratest.Fault{Status: 429, RetryAfter: 2 * time.Second}, 2 * time.Second},
		{"429 Retry-After HTTP date", jiratest.Fault{Status: 429, RetryAfter: 7 * time.Second, RetryAfterDate: true}, 7 * time.Second},
		{"429 X-RateLimit-Reset only", jiratest.Fault{Status: 429, RateLimitReset: reset}, 5 * time.Second},
		{"503 with Retry-After", jiratest.Fault{Status: 503, RetryAfter: 3 * time.Second}, 3 * time.Second},
		{"429 without any hint backs off", jiratest.Fault{Status: 429}, 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.srv.FailNextWith(1, tt.fault)
			// A POST comment: not replayable after a 5xx, but a 429 means
			// Jira did nothing, so it is retried.
			if _, err := e.c.AddComment(context.Background(), "HD-2", "hello", false); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]time.Duration{tt.want}, e.clk.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			calls := e.srv.Calls()
			if len(calls) != 2 {
				t.Fatalf("calls = %d, want 2", len(calls))
			}
			if gap := calls[1].Time.Sub(calls[0].Time); gap < tt.want {
				t.Errorf("second call %v after the first, want at least %v", gap, tt.want)
			}
			if !bytes.Equal(calls[0].Body, calls[1].Body) || len(calls[1].Body) == 0 {
				t.Errorf("body not re-sent: %q then %q", calls[0].Body, calls[1].Body)
			}
			if n := len(e.srv.Comments("HD-2")); n != 1 {
				t.Errorf("comments = %d, want 1", n)
			}
		})
	}
}

// TestRateLimitRealTime runs the Retry-After: 2 case on the real clock.
func TestRateLimitRealTime(t *testing.T) {
	t.Parallel()
	srv := jiratest.New(jiratest.WithBasicAuth(testEmail, testToken, bot))
	t.Cleanup(srv.Close)
	srv.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "x"})
	c, err := New(Config{BaseURL: srv.URL(), Email: testEmail, APIToken: testToken})
	if err != nil {
		t.Fatal(err)
	}
	srv.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 2 * time.Second})
	start := time.Now()
	err = c.Edit(context.Background(), "HD-1", Edit{Comment: "once", AddLabels: []string{"triage-replied"}, Properties: map[string]any{"triage": 1}})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	calls := srv.Calls()
	if len(calls) != 2 {
		t.Fatalf("calls = %d, want 2", len(calls))
	}
	if gap := calls[1].Time.Sub(calls[0].Time); gap < 2*time.Second {
		t.Errorf("retried after %v, want at least 2s", gap)
	}
	if took > 6*time.Second {
		t.Errorf("took %v", took)
	}
	if n := len(srv.Comments("HD-1")); n != 1 {
		t.Errorf("comments = %d, want exactly 1", n)
	}
}

func TestServerErrorsRetriedThenSuccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		op    func(*Client) error
		check func(*testing.T, *env)
	}{
		{"GetIssue", func(c *Client) error { _, err := c.GetIssue(context.Background(), "HD-1"); return err }, nil},
		{"SetProperty re-sends its body", func(c *Client) error {
			return c.SetProperty(context.Background(), "HD-2", "triage", map[string]any{"state": "replied"})
		}, func(t *testing.T, e *env) {
			calls := e.srv.Calls()
			for _, c := range calls {
				if string(c.Body) != `{"state":"replied"}`+"\n" {
					t.Errorf("body of attempt = %q", c.Body)
				}
			}
			if p, _ := e.srv.Property("HD-2", "triage"); string(p) != `{"state":"replied"}` {
				t.Errorf("property = %s", p)
			}
		}},
		{"labels-only edit (idempotent PUT)", func(c *Client) error {
			return c.AddLabels(context.Background(), "HD-2", "triage-replied")
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.srv.FailNext(1, 500)
			e.srv.FailNext(1, 502)
			if err := tt.op(e.c); err != nil {
				t.Fatal(err)
			}
			var statuses []int
			for _, c := range e.srv.Calls() {
				statuses = append(statuses, c.Status)
			}
			if statuses[2]/100 != 2 || len(statuses) != 3 || statuses[0] != 500 || statuses[1] != 502 {
				t.Errorf("statuses = %v, want 500, 502, 2xx", statuses)
			}
			// Full jitter, here pinned to half of 500ms·2ⁿ.
			if diff := cmp.Diff([]time.Duration{250 * time.Millisecond, 500 * time.Millisecond}, e.clk.Sleeps()); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
			if tt.check != nil {
				tt.check(t, e)
			}
		})
	}
}

func TestBackoffIsCappedAndAttemptsLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) {
		c.MaxAttempts, c.BaseBackoff, c.MaxBackoff = 4, time.Second, 3*time.Second
	})
	e.srv.FailNext(10, 503)
	_, err := e.c.GetIssue(context.Background(), "HD-1")
	var je *Error
	if !errors.As(err, &je) || je.Status != 503 || IsPermanent(err) || IsRateLimited(err) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "Service is temporarily unavailable") {
		t.Errorf("Jira's message lost: %v", err)
	}
	if n := len(e.srv.Calls()); n != 4 {
		t.Errorf("calls = %d, want MaxAttempts=4", n)
	}
	// Ceilings 1s, 2s, 3s (capped), halved by the pinned jitter.
	if diff := cmp.Diff([]time.Duration{500 * time.Millisecond, time.Second, 1500 * time.Millisecond}, e.clk.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestNoRetryOnClientErrors(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 405, 410} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.srv.FailNextWith(1, jiratest.Fault{Status: status, Messages: []string{"Jira says no (" + itoa(status) + ")"}})
			err := e.c.SetProperty(context.Background(), "HD-1", "triage", 1)
			if !IsPermanent(err) || !strings.Contains(err.Error(), "Jira says no ("+itoa(status)+")") {
				t.Errorf("err = %v", err)
			}
			if n := len(e.srv.Calls()); n != 1 {
				t.Errorf("calls = %d, want 1", n)
			}
		})
	}
}

func TestUncertainWritesAreNotReplayed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault jiratest.Fault
		op    func(*Client) error
	}{
		{"POST comment", jiratest.Fault{Status: 500, Method: "POST"},
			func(c *Client) error { _, err := c.AddComment(context.Background(), "HD-2", "hi", false); return err }},
		{"edit with a comment", jiratest.Fault{Status: 502, Method: "PUT"},
			func(c *Client) error {
				return c.Edit(context.Background(), "HD-2", Edit{Comment: "hi", AddLabels: []string{"x"}})
			}},
		{"transition", jiratest.Fault{Status: 504, Method: "POST", Path: "/transitions"},
			func(c *Client) error { return c.TransitionByName(context.Background(), "HD-2", "Resolve") }},
		{"503 without Retry-After", jiratest.Fault{Status: 503, Method: "POST"},
			func(c *Client) error { _, err := c.AddComment(context.Background(), "HD-2", "hi", true); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.srv.FailNextWith(1, tt.fault)
			err := tt.op(e.c)
			var je *Error
			if !errors.As(err, &je) || je.Status != tt.fault.Status || IsPermanent(err) {
				t.Fatalf("err = %v, want a retryable %d", err, tt.fault.Status)
			}
			writes := 0
			for _, c := range e.srv.Calls() {
				if c.Method == tt.fault.Method {
					writes++
				}
			}
			if writes != 1 {
				t.Errorf("%s sent %d times, want once: a write that may have landed is not replayed", tt.fault.Method, writes)
			}
			if len(e.clk.Sleeps()) != 0 {
				t.Errorf("slept %v", e.clk.Sleeps())
			}
		})
	}
}

func TestAttemptTimeout(t *testing.T) {
	t.Parallel()
	srv := jiratest.New(jiratest.WithFaults(jiratest.Faults{Latency: 2 * time.Second}))
	t.Cleanup(srv.Close)
	srv.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "x"})
	clk := newFakeTime()
	c, err := New(Config{BaseURL: srv.URL(), PAT: "x", RequestTimeout: 250 * time.Millisecond, MaxAttempts: 2},
		WithClock(time.Now, clk.Sleep), WithJitter(halfJitter))
	if err != nil {
		t.Fatal(err)
	}

	// A read that times out is retried, then gives up.
	_, err = c.GetIssue(context.Background(), "HD-1")
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("GetIssue err = %v", err)
	}
	if n := len(clk.Sleeps()); n != 1 {
		t.Errorf("read retried %d times, want 1", n)
	}

	// A comment that times out may have landed: not retried, ErrUncertain.
	_, err = c.AddComment(context.Background(), "HD-1", "hi", false)
	if !errors.Is(err, ErrUncertain) || IsPermanent(err) {
		t.Errorf("AddComment err = %v, want ErrUncertain", err)
	}
	if n := len(clk.Sleeps()); n != 1 {
		t.Errorf("comment retried (%d sleeps in all)", n)
	}
}

func TestNetworkErrorBeforeSendingIsRetried(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens: every dial is refused
	clk := newFakeTime()
	c, err := New(Config{BaseURL: "http://" + addr, PAT: "x", MaxAttempts: 3}, WithClock(clk.Now, clk.Sleep), WithJitter(halfJitter))
	if err != nil {
		t.Fatal(err)
	}
	// Even a POST is retried: a refused dial never reached Jira.
	_, err = c.AddComment(context.Background(), "HD-1", "hi", false)
	if err == nil || IsPermanent(err) || errors.Is(err, ErrUncertain) || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Errorf("err = %v", err)
	}
	if n := len(clk.Sleeps()); n != 2 {
		t.Errorf("sleeps = %v, want 2", clk.Sleeps())
	}
}

func TestContextCancelStopsRetries(t *testing.T) {
	t.Parallel()

	t.Run("cancelled while backing off", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		ctx, cancel := context.WithCancel(context.Background())
		e.clk.onWait = cancel
		e.srv.FailNext(5, 500)
		_, err := e.c.GetIssue(ctx, "HD-1")
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n := len(e.srv.Calls()); n != 1 {
			t.Errorf("calls = %d, want 1", n)
		}
	})

	t.Run("Retry-After beyond the deadline is not slept", func(t *testing.T) {
		t.Parallel()
		srv := jiratest.New()
		t.Cleanup(srv.Close)
		srv.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "x"})
		c, err := New(Config{BaseURL: srv.URL(), PAT: "x"})
		if err != nil {
			t.Fatal(err)
		}
		srv.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 30 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err = c.GetIssue(ctx, "HD-1")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("took %v: slept towards a wait that cannot fit", took)
		}
		if !IsRateLimited(err) || RetryAfter(err) < 29*time.Second {
			t.Errorf("err = %v, RetryAfter = %v; want a rate-limit error with ~30s", err, RetryAfter(err))
		}
		if n := len(srv.Calls()); n != 1 {
			t.Errorf("calls = %d", n)
		}
	})

	t.Run("real sleep ends with the context", func(t *testing.T) {
		t.Parallel()
		srv := jiratest.New()
		t.Cleanup(srv.Close)
		srv.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "x"})
		c, err := New(Config{BaseURL: srv.URL(), PAT: "x", BaseBackoff: 10 * time.Second, MaxBackoff: 10 * time.Second},
			WithJitter(func(n time.Duration) time.Duration { return n - 1 }))
		if err != nil {
			t.Fatal(err)
		}
		srv.FailNext(1, 502)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		_, err = c.GetIssue(ctx, "HD-1")
		if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
			t.Errorf("err = %v after %v", err, time.Since(start))
		}
	})
}

func TestLongRetryAfterIsHandedBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.MaxRetryAfter = 10 * time.Second })
	e.srv.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 30 * time.Second})
	ctx := context.Background()

	_, err := e.c.GetIssue(ctx, "HD-1")
	if !IsRateLimited(err) || RetryAfter(err) != 30*time.Second || IsPermanent(err) {
		t.Fatalf("err = %v, RetryAfter %v", err, RetryAfter(err))
	}
	// The next call, to anything, is held back without reaching Jira.
	err = e.c.SetProperty(ctx, "HD-2", "triage", 1)
	if !IsRateLimited(err) || RetryAfter(err) != 30*time.Second {
		t.Fatalf("held-back call: err = %v", err)
	}
	if n := len(e.srv.Calls()); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
	e.clk.Advance(25 * time.Second)
	// 5 s left: within MaxRetryAfter, so the call waits, then goes.
	if err := e.c.SetProperty(ctx, "HD-2", "triage", 1); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second}, e.clk.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want +got):\n%s", diff)
	}
}

func TestNextCallNoSoonerAfterRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.MaxAttempts = 1 })
	e.srv.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 2 * time.Second})
	ctx := context.Background()
	if _, err := e.c.GetIssue(ctx, "HD-1"); !IsRateLimited(err) {
		t.Fatalf("err = %v", err)
	}
	if _, err := e.c.Myself(ctx); err != nil {
		t.Fatal(err)
	}
	calls := e.srv.Calls()
	if gap := calls[1].Time.Sub(calls[0].Time); gap < 2*time.Second {
		t.Errorf("next call %v after the 429, want at least 2s", gap)
	}
}

func TestPerIssueWriteLimitIsScoped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.srv.SetFaults(jiratest.Faults{IssueWriteLimit: 1, IssueWriteWindow: 5 * time.Second})
	ctx := context.Background()
	for range 2 {
		if err := e.c.SetProperty(ctx, "HD-1", "triage", 1); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second}, e.clk.Sleeps()); diff != "" {
		t.Fatalf("sleeps (-want +got):\n%s", diff)
	}
	e.srv.SetFaults(jiratest.Faults{})
	e.srv.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 4 * time.Second, Reason: "jira-per-issue-on-write", Method: "PUT"})
	if err := e.c.SetProperty(ctx, "HD-1", "triage", 2); err != nil {
		t.Fatal(err)
	}
	// The block covers writes to HD-1 only: reads and other issues go at once.
	before := len(e.clk.Sleeps())
	if _, err := e.c.GetIssue(ctx, "HD-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.c.SetProperty(ctx, "HD-2", "triage", 1); err != nil {
		t.Fatal(err)
	}
	if got := e.clk.Sleeps()[before:]; len(got) != 0 {
		t.Errorf("unrelated calls waited %v", got)
	}
}

func TestRetryTransportBuffersBodyWithoutGetBody(t *testing.T) {
	t.Parallel()
	srv := jiratest.New()
	t.Cleanup(srv.Close)
	srv.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "x"})
	srv.FailNext(1, 500)
	clk := newFakeTime()
	rt := &RetryTransport{Now: clk.Now, Sleep: clk.Sleep, Jitter: halfJitter}
	body := strings.NewReader(`{"v":1}`)
	req, err := http.NewRequest(http.MethodPut, srv.URL()+"/rest/api/2/issue/HD-1/properties/p", struct{ *strings.Reader }{body})
	if err != nil {
		t.Fatal(err)
	}
	if req.GetBody != nil {
		t.Fatal("test needs a request without GetBody")
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	calls := srv.Calls()
	if resp.StatusCode != 201 || len(calls) != 2 || string(calls[1].Body) != `{"v":1}` {
		t.Errorf("status %d, calls %d, last body %q", resp.StatusCode, len(calls), calls[len(calls)-1].Body)
	}
}

// TestRateLimitGatesAreBounded: per-issue write limits on ever new issues
// do not grow the transport's gates without bound; the site-wide gate and
// the gates that open last are kept, and gates that are open again go
// first.
func TestRateLimitGatesAreBounded(t *testing.T) {
	t.Parallel()
	clk := newFakeTime()
	rt := &RetryTransport{Now: clk.Now}
	perIssue := &http.Response{Header: http.Header{}}
	perIssue.Header.Set("RateLimit-Reason", "jira-per-issue-on-write")
	siteWide := &http.Response{Header: http.Header{}}
	rt.block(siteWide, http.MethodGet, "", 2*time.Minute)
	// gates that are open again by the time the map is full
	for i := range 100 {
		rt.block(perIssue, http.MethodPut, "OLD-"+itoa(i), time.Second)
	}
	clk.Advance(time.Minute)
	const issues = 5 * maxGates
	for i := range issues {
		rt.block(perIssue, http.MethodPut, "HD-"+itoa(i), time.Duration(i+1)*time.Second)
	}
	type gates struct {
		Count             int
		SiteWide, Newest  bool
		OpenAgain, Oldest int
	}
	got := gates{Count: len(rt.blocked)}
	_, got.SiteWide = rt.blocked[scopeAll]
	_, got.Newest = rt.blocked[scopeIssuePrefx+"HD-"+itoa(issues-1)]
	for scope := range rt.blocked {
		switch {
		case strings.HasPrefix(scope, scopeIssuePrefx+"OLD-"):
			got.OpenAgain++
		case scope == scopeIssuePrefx+"HD-0":
			got.Oldest++
		}
	}
	if diff := cmp.Diff(gates{Count: maxGates, SiteWide: true, Newest: true}, got); diff != "" {
		t.Errorf("gates after per-issue 429s on %d issues (-want, +got):\n%s", issues, diff)
	}
}
