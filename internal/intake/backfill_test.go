package intake

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

// TestBackfillFindsEveryPageAndEnqueuesOnce: the backfill lists every
// ticket of its query, across pages, enqueues each once as a backfill
// event carrying the fields the worker reads, and refuses a second
// backfill of the same updates.
func TestBackfillFindsEveryPageAndEnqueuesOnce(t *testing.T) {
	t.Parallel()
	srv, jc := newFakeJira(t, 2)
	q := newTestQueue(t)
	ctx := context.Background()
	updated := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
	for i := 1; i <= 5; i++ {
		srv.AddIssue(jiratest.Issue{
			Key: fmt.Sprintf("BF-%d", i), Summary: fmt.Sprintf("ticket %d", i), Description: "my passkey can no longer be used",
			Reporter: fakeAlice, Labels: []string{"mfa"}, Created: updated, Updated: updated,
		})
	}
	srv.AddIssue(jiratest.Issue{Key: "OTHER-1", Summary: "not ours", Reporter: fakeAlice})
	now := time.Now()
	b, err := NewBackfill(BackfillConfig{Queue: q.name, Now: func() time.Time { return now }}, jc, q.client)
	if err != nil {
		t.Fatal(err)
	}

	found, err := b.Find(ctx, "project = BF ORDER BY key ASC")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, is := range found {
		keys = append(keys, is.Key)
	}
	if diff := cmp.Diff([]string{"BF-1", "BF-2", "BF-3", "BF-4", "BF-5"}, keys); diff != "" {
		t.Errorf("found (-want, +got):\n%s", diff)
	}
	if calls := searchCalls(srv); calls != 3 {
		t.Errorf("%d search calls, want 3 pages of 2", calls)
	}
	for _, want := range []bool{true, false} {
		for _, is := range found {
			if added, err := b.Enqueue(ctx, is); err != nil || added != want {
				t.Errorf("Enqueue(%s) = %v, %v; want %v, nil", is.Key, added, err, want)
			}
		}
	}

	payloads, _ := q.pending(t)
	if len(payloads) != 5 {
		t.Fatalf("%d tasks pending, want 5", len(payloads))
	}
	want := worker.TriagePayload{
		Event: triage.EventBackfill, DeliveryID: fmt.Sprintf("backfill:BF-1:%d", updated.UnixMilli()), ReceivedAt: now,
		Issue: triage.Issue{
			Key: "BF-1", ID: payloads[0].Issue.ID, Summary: "ticket 1", Description: "my passkey can no longer be used",
			ReporterID: fakeAlice.AccountID, ReporterName: fakeAlice.DisplayName, ReporterEmail: fakeAlice.EmailAddress, Labels: []string{"mfa"}, Status: "Open", Updated: updated,
		},
	}
	if diff := cmp.Diff(want, payloads[0]); diff != "" {
		t.Errorf("BF-1 payload (-want, +got):\n%s", diff)
	}
}

func TestBackfillErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		search  Searcher
		enq     Enqueuer
		jql     string
		wantErr string
	}{
		{"no searcher", nil, &memQueue{}, "project = HD", "the backfill needs a Jira searcher"},
		{"no enqueuer", &recordingSearch{}, nil, "project = HD", "the backfill needs an enqueuer"},
		{"empty query", &recordingSearch{}, &memQueue{}, " ", "the JQL is empty"},
		{"queue down", &recordingSearch{page: []jira.Issue{{Key: "HD-1"}}}, &memQueue{fail: true}, "project = HD", "enqueue HD-1: dial tcp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := backfillAll(t, tc.search, tc.enq, tc.jql)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// backfillAll builds a backfill, finds jql's tickets and enqueues them,
// returning the first error.
func backfillAll(t *testing.T, search Searcher, enq Enqueuer, jql string) error {
	t.Helper()
	b, err := NewBackfill(BackfillConfig{}, search, enq)
	if err != nil {
		return err
	}
	found, err := b.Find(context.Background(), jql)
	if err != nil {
		return err
	}
	for _, is := range found {
		if _, err := b.Enqueue(context.Background(), is); err != nil {
			return err
		}
	}
	return nil
}
