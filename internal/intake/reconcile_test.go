package intake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// fakeStates says which tickets have triage state.
type fakeStates struct {
	mu    sync.Mutex
	keys  map[string]bool
	err   error
	asked []string
}

var _ StateChecker = (*fakeStates)(nil)

func (f *fakeStates) HasState(_ context.Context, key string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, key)
	if f.err != nil {
		return false, f.err
	}
	return f.keys[key], nil
}

func TestReconcilerSweep(t *testing.T) {
	t.Parallel()
	srv, jc := newFakeJira(t, 3)
	q := newTestQueue(t)
	now := time.Now().UTC().Truncate(time.Second)
	hourAgo := now.Add(-time.Hour)
	add := func(key string, updated time.Time, labels ...string) {
		srv.AddIssue(jiratest.Issue{Key: key, Summary: "passkey " + key, Reporter: fakeAlice, Labels: labels, Created: updated.Add(-time.Hour), Updated: updated})
	}
	add("HD-1", hourAgo)                                        // lost: enqueued
	add("HD-2", hourAgo, "triage-replied")                      // handled
	add("HD-3", hourAgo, "mfa", "triage-escalated")             // handled
	add("HD-4", hourAgo, "triage-resolved")                     // handled
	add("HD-5", hourAgo, "triage-needs-human")                  // handled
	add("HD-6", hourAgo)                                        // state in Redis: handled
	add("HD-7", hourAgo.Add(time.Minute), "mfa", "vip")         // other labels only: enqueued
	add("HD-8", now.Add(-30*time.Hour))                         // outside the window
	add("HD-9", now.Add(-2*time.Minute))                        // within the grace: its webhook may be queued
	add("OPS-1", hourAgo)                                       // another project
	add("HD-10", hourAgo.Add(2*time.Minute), "triage-replied2") // a look-alike label: enqueued
	states := &fakeStates{keys: map[string]bool{"HD-6": true}}
	r, err := NewReconciler(ReconcilerConfig{JQL: "project = HD", Queue: q.name, Now: func() time.Time { return now }}, jc, states, q.client)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Sweep(context.Background())
	if err != nil || got != 3 {
		t.Fatalf("Sweep: %d, %v; want 3, nil", got, err)
	}
	payloads, _ := q.pending(t)
	var ids []string
	for _, p := range payloads {
		ids = append(ids, p.DeliveryID)
		if p.Event != triage.EventReconcile || p.Issue.Summary != "passkey "+p.Issue.Key {
			t.Errorf("%s: event %q summary %q", p.DeliveryID, p.Event, p.Issue.Summary)
		}
	}
	want := []string{
		fmt.Sprintf("reconcile:HD-10:%d", hourAgo.Add(2*time.Minute).UnixMilli()),
		fmt.Sprintf("reconcile:HD-1:%d", hourAgo.UnixMilli()),
		fmt.Sprintf("reconcile:HD-7:%d", hourAgo.Add(time.Minute).UnixMilli()),
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("enqueued (-want +got):\n%s", diff)
	}
	// The state is asked only of tickets without a triage label.
	if diff := cmp.Diff([]string{"HD-1", "HD-6", "HD-7", "HD-10"}, states.asked); diff != "" {
		t.Errorf("state asked of (-want +got):\n%s", diff)
	}
	if again, err := r.Sweep(context.Background()); err != nil || again != 0 {
		t.Errorf("second sweep: %d, %v; want 0, nil", again, err)
	}
	if c := q.count(t); c != 3 {
		t.Errorf("%d tasks after two sweeps, want 3", c)
	}

	task, _ := NewReconcileTask(now, time.Hour)
	if err := r.ProcessTask(context.Background(), task); err != nil {
		t.Errorf("ProcessTask: %v", err)
	}
	if err := r.ProcessTask(context.Background(), asynq.NewTask(TypePoll, nil)); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("ProcessTask of a poll task: %v, want SkipRetry", err)
	}
}

// recordingSearch records the JQL and answers one page.
type recordingSearch struct {
	mu     sync.Mutex
	jql    []string
	fields [][]string
	page   []jira.Issue
}

func (s *recordingSearch) SearchJQL(_ context.Context, jql string, fields []string, pageFn func([]jira.Issue) error) error {
	s.mu.Lock()
	s.jql, s.fields = append(s.jql, jql), append(s.fields, fields)
	s.mu.Unlock()
	return pageFn(s.page)
}

func TestReconcilerJQLAndErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		window time.Duration
		want   string
	}{
		{0, "(project = HD) AND updated >= -24h ORDER BY updated ASC"},
		{90 * time.Minute, "(project = HD) AND updated >= -2h ORDER BY updated ASC"},
		{time.Minute, "(project = HD) AND updated >= -1h ORDER BY updated ASC"},
	}
	for _, tc := range tests {
		s := &recordingSearch{}
		r, err := NewReconciler(ReconcilerConfig{JQL: "project = HD", Window: tc.window}, s, &fakeStates{}, &memQueue{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Sweep(context.Background()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{tc.want}, s.jql); diff != "" {
			t.Errorf("window %v: JQL (-want +got):\n%s", tc.window, diff)
		}
		if diff := cmp.Diff([][]string{{"summary", "description", "reporter", "labels", "status", "updated"}}, s.fields); diff != "" {
			t.Errorf("fields (-want +got):\n%s", diff)
		}
	}

	old := time.Now().Add(-time.Hour)
	s := &recordingSearch{page: []jira.Issue{{Key: "HD-1", Updated: old}}}
	r, _ := NewReconciler(ReconcilerConfig{JQL: "project = HD"}, s, &fakeStates{err: errors.New("redis down")}, &memQueue{})
	if _, err := r.Sweep(context.Background()); err == nil || !strings.Contains(err.Error(), "redis down") {
		t.Errorf("Sweep with the state store down: %v, want its error", err)
	}
	r, _ = NewReconciler(ReconcilerConfig{JQL: "project = HD"}, s, &fakeStates{}, &memQueue{fail: true})
	if _, err := r.Sweep(context.Background()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("Sweep with the queue down: %v, want the enqueue error", err)
	}

	for _, bad := range []ReconcilerConfig{{}, {JQL: "x ORDER BY key"}, {JQL: "x", Window: -time.Hour}, {JQL: "x", Window: 400 * 24 * time.Hour}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v): nil error", bad)
		}
	}
}
