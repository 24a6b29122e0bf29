package jira

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// rateLimitOutcome is what a caller of the Triage adapter sees of a 429.
type rateLimitOutcome struct {
	Sleeps      []time.Duration // slept inside the call
	RateLimited bool            // the error says "wait"
	Wait        time.Duration   // for this long
	Calls       int             // requests that reached Jira
}

func outcomeOf(e *env, err error) rateLimitOutcome {
	o := rateLimitOutcome{Sleeps: e.clk.Sleeps(), Calls: len(e.srv.Calls())}
	var r interface {
		RateLimited() bool
		RetryAfterDelay() time.Duration
	}
	if errors.As(err, &r) {
		o.RateLimited, o.Wait = r.RateLimited(), r.RetryAfterDelay()
	}
	return o
}

// TestTaskTriageHandsRateLimitsBack: the worker's adapter does not sleep
// through a Retry-After longer than TaskMaxRetryAfter; it returns the
// rate-limit error at once, so that asynq's retry delay does the waiting.
// The plain adapter still sleeps through it.
func TestTaskTriageHandsRateLimitsBack(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		adapter func(*Client) *Triage
		want    rateLimitOutcome
	}{
		{"NewTriage sleeps through it", NewTriage, rateLimitOutcome{Sleeps: []time.Duration{2 * time.Second}, Calls: 2}},
		{"NewTaskTriage hands it back", NewTaskTriage, rateLimitOutcome{RateLimited: true, Wait: 2 * time.Second, Calls: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			e.srv.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 2 * time.Second})
			_, err := tt.adapter(e.c).GetIssue(context.Background(), "HD-1")
			if diff := cmp.Diff(tt.want, outcomeOf(e, err)); diff != "" {
				t.Errorf("GetIssue after a 429 with Retry-After: 2 (-want, +got):\n%s (err %v)", diff, err)
			}
		})
	}
}

// TestTaskTriageWaitsAtTheGateOnlyBriefly: after a 429, the worker's calls
// are held back without reaching Jira while more than TaskMaxRetryAfter of
// the wait is left, and sleep through the rest.
func TestTaskTriageWaitsAtTheGateOnlyBriefly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tr := NewTaskTriage(e.c)
	ctx := context.Background()
	e.srv.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 3 * time.Second})
	if _, err := tr.GetIssue(ctx, "HD-1"); !IsRateLimited(err) {
		t.Fatalf("first call: err = %v, want a rate limit", err)
	}
	err := tr.Assign(ctx, "HD-2", agent.AccountID)
	if diff := cmp.Diff(rateLimitOutcome{RateLimited: true, Wait: 3 * time.Second, Calls: 1}, outcomeOf(e, err)); diff != "" {
		t.Errorf("a call held back by the gate (-want, +got):\n%s (err %v)", diff, err)
	}
	e.clk.Advance(2500 * time.Millisecond)
	if err := tr.Assign(ctx, "HD-2", agent.AccountID); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]time.Duration{500 * time.Millisecond}, e.clk.Sleeps()); diff != "" {
		t.Errorf("sleeps once half a second of the wait is left (-want, +got):\n%s", diff)
	}
}

// TestTaskTriageFinishesAnEditWhoseNoteIsPosted: once an internal note is
// posted, the rest of its edit waits out a rate limit even through the
// worker's adapter: handing it back would have the retry post the note
// again.
func TestTaskTriageFinishesAnEditWhoseNoteIsPosted(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.srv.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 5 * time.Second, Method: "PUT"})
	w := triage.Write{Comment: "steps for agents", Internal: true, AddLabels: []string{"triage-replied"}, State: &triage.State{Version: 1}}
	if err := NewTaskTriage(e.c).Write(context.Background(), "HD-2", w); err != nil {
		t.Fatalf("Write = %v", err)
	}
	if diff := cmp.Diff([]time.Duration{5 * time.Second}, e.clk.Sleeps()); diff != "" {
		t.Errorf("sleeps (-want, +got):\n%s", diff)
	}
	if n := len(e.srv.Comments("HD-2")); n != 1 {
		t.Errorf("%d comments, want 1", n)
	}
	if _, ok := e.srv.Property("HD-2", DefaultStateProperty); !ok {
		t.Error("the state was not written")
	}
}
