package jiratest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// testClock is a settable clock.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *testClock {
	return &testClock{t: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// call sends one request; hdr holds "Name: value" strings.
func call(t *testing.T, s *Server, method, path, body string, hdr ...string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: bytes.TrimSpace(b)}
}

var (
	alice = User{AccountID: "acc-alice", DisplayName: "Alice Reporter", EmailAddress: "alice@example.com"}
	agent = User{AccountID: "acc-agent", DisplayName: "Ann Agent", EmailAddress: "ann@example.com", Name: "ann"}
)

// seeded starts a server with two issues in HD and one in OPS.
func seeded(t *testing.T, opts ...Option) (*Server, *testClock) {
	t.Helper()
	clk := newClock()
	s := New(append([]Option{WithClock(clk.Now), WithUsers(agent)}, opts...)...)
	t.Cleanup(s.Close)
	base := clk.Now()
	s.AddIssue(Issue{
		Key: "HD-1", Summary: "Authenticator lost", Description: "New phone, no codes",
		Reporter: alice, Labels: []string{"mfa"}, Created: base.Add(-48 * time.Hour), Updated: base.Add(-2 * time.Hour),
		Comments:   []Comment{{Author: alice, Body: "Please help"}},
		Properties: map[string]json.RawMessage{"triage": json.RawMessage(`{"state":"replied","version":2}`)},
	})
	s.AddIssue(Issue{
		Key: "HD-2", Summary: "Passkey not accepted", Reporter: alice,
		Created: base.Add(-24 * time.Hour), Updated: base.Add(-30 * time.Minute),
	})
	s.AddIssue(Issue{
		Key: "OPS-7", Summary: "Disk full", Reporter: agent,
		Created: base.Add(-72 * time.Hour), Updated: base.Add(-72 * time.Hour),
	})
	return s, clk
}
