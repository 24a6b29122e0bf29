package jira

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// fakeTime is a clock whose Sleep advances it at once, recording each wait.
type fakeTime struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	onWait func() // called inside Sleep, e.g. to cancel a context
}

func newFakeTime() *fakeTime {
	return &fakeTime{now: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
}

func (f *fakeTime) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeTime) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	hook := f.onWait
	f.mu.Unlock()
	if hook != nil {
		hook()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	return nil
}

func (f *fakeTime) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fakeTime) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// halfJitter makes backoff deterministic: half of the ceiling.
func halfJitter(n time.Duration) time.Duration { return n / 2 }

var (
	bot   = jiratest.User{AccountID: "acc-bot", DisplayName: "Triage Bot", EmailAddress: "bot@example.com"}
	alice = jiratest.User{AccountID: "acc-alice", DisplayName: "Alice Reporter", EmailAddress: "alice@example.com"}
	agent = jiratest.User{AccountID: "acc-agent", DisplayName: "Ann Agent", Name: "ann"}
)

const (
	testEmail = "bot@example.com"
	testToken = "s3cret-api-token"
	testPAT   = "s3cret-pat"
)

// env is a fake Jira with a client pointed at it, both on one fake clock.
type env struct {
	srv *jiratest.Server
	clk *fakeTime
	c   *Client
}

func newEnv(t *testing.T, mod func(*Config), opts ...Option) *env {
	t.Helper()
	clk := newFakeTime()
	srv := jiratest.New(
		jiratest.WithClock(clk.Now),
		jiratest.WithBasicAuth(testEmail, testToken, bot),
		jiratest.WithPAT(testPAT, jiratest.User{AccountID: "acc-dc", DisplayName: "DC Bot", Name: "dcbot"}),
		jiratest.WithUsers(agent),
	)
	t.Cleanup(srv.Close)
	cfg := Config{BaseURL: srv.URL(), Email: testEmail, APIToken: testToken}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg, append([]Option{WithClock(clk.Now, clk.Sleep), WithJitter(halfJitter)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	base := clk.Now()
	srv.AddIssue(jiratest.Issue{
		Key: "HD-1", Summary: "Authenticator lost", Description: "New phone, no codes",
		Reporter: alice, Labels: []string{"mfa"}, Created: base.Add(-48 * time.Hour), Updated: base.Add(-time.Hour),
		Comments: []jiratest.Comment{
			{Author: alice, Body: "Please help", Created: base.Add(-47 * time.Hour)},
			{Author: agent, Body: "Checking her account", Internal: true, Created: base.Add(-46 * time.Hour)},
		},
		Properties: map[string]json.RawMessage{"triage": json.RawMessage(`{"version":1}`)},
	})
	srv.AddIssue(jiratest.Issue{Key: "HD-2", Summary: "Passkey not accepted", Reporter: alice, Created: base.Add(-time.Hour)})
	return &env{srv: srv, clk: clk, c: c}
}

// calls returns "METHOD path" of each call the fake answered.
func (e *env) calls() []string {
	var out []string
	for _, c := range e.srv.Calls() {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}
