package intake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // America/Los_Angeles without a system zone database

	"github.com/mfatriage/triage"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

var (
	fakeBot   = jiratest.User{AccountID: "557058:bot", DisplayName: "Triage Bot", EmailAddress: "bot@example.com"}
	fakeAlice = jiratest.User{AccountID: "557058:alice", DisplayName: "Alice Reporter", EmailAddress: "alice@example.com"}
)

// newFakeJira starts the fake Jira and the real adapter over HTTP, with a
// small search page so that a few issues span several pages.
func newFakeJira(t *testing.T, pageSize int) (*jiratest.Server, *jira.Client) {
	t.Helper()
	srv := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "api-token", fakeBot))
	t.Cleanup(srv.Close)
	c, err := jira.New(jira.Config{BaseURL: srv.URL(), Email: "bot@example.com", APIToken: "api-token", SearchPageSize: pageSize})
	if err != nil {
		t.Fatalf("jira.New: %v", err)
	}
	return srv, c
}

// searchCalls counts the fake's /search/jql calls.
func searchCalls(srv *jiratest.Server) int {
	n := 0
	for _, c := range srv.Calls() {
		if strings.HasSuffix(c.Path, "/search/jql") {
			n++
		}
	}
	return n
}

// testCursor is a RedisCursor under a key of the test's own.
func testCursor(t *testing.T, q *testQueue) *RedisCursor {
	t.Helper()
	key := "intake-test:cursor:" + q.name
	t.Cleanup(func() { q.rdb.Del(context.Background(), key) })
	return NewRedisCursor(q.rdb, key)
}

func TestPollerPollsAllPagesOnce(t *testing.T) {
	t.Parallel()
	srv, jc := newFakeJira(t, 20)
	q := newTestQueue(t)
	cursor := testCursor(t, q)
	ctx := context.Background()

	base := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Second)
	const n = 45 // three pages of 20
	for i := 1; i <= n; i++ {
		srv.AddIssue(jiratest.Issue{
			Key: fmt.Sprintf("HD-%d", i), Summary: fmt.Sprintf("ticket %d", i), Description: "Authenticator asks for a code",
			Reporter: fakeAlice, Labels: []string{"mfa"}, Created: base, Updated: base.Add(time.Duration(i) * time.Minute),
		})
	}
	srv.AddIssue(jiratest.Issue{Key: "OTHER-1", Summary: "not ours", Reporter: fakeAlice, Updated: base.Add(time.Hour)})
	srv.AddIssue(jiratest.Issue{Key: "HD-99", Summary: "too old", Reporter: fakeAlice, Created: base.Add(-72 * time.Hour), Updated: base.Add(-48 * time.Hour)})

	now := time.Now()
	p, err := NewPoller(PollerConfig{JQL: "project = HD", Queue: q.name, Now: func() time.Time { return now }}, jc, cursor, q.client)
	if err != nil {
		t.Fatal(err)
	}

	got, err := p.Poll(ctx)
	if err != nil || got != n {
		t.Fatalf("first poll: %d, %v; want %d, nil", got, err, n)
	}
	if calls := searchCalls(srv); calls != 3 {
		t.Errorf("first poll made %d search calls, want 3 pages", calls)
	}
	payloads, _ := q.pending(t)
	if len(payloads) != n {
		t.Fatalf("%d tasks pending, want %d", len(payloads), n)
	}
	wantIDs := map[string]bool{}
	for i := 1; i <= n; i++ {
		wantIDs[fmt.Sprintf("poll:HD-%d:%d", i, base.Add(time.Duration(i)*time.Minute).UnixMilli())] = true
	}
	gotIDs := map[string]bool{}
	for _, pl := range payloads {
		gotIDs[pl.DeliveryID] = true
		if pl.Event != triage.EventPoll {
			t.Errorf("%s: event %q, want %q", pl.DeliveryID, pl.Event, triage.EventPoll)
		}
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("delivery ids (-want +got):\n%s", diff)
	}
	var hd1 worker.TriagePayload
	for _, pl := range payloads {
		if pl.Issue.Key == "HD-1" {
			hd1 = pl
		}
	}
	wantHD1 := worker.TriagePayload{
		Event: triage.EventPoll, DeliveryID: fmt.Sprintf("poll:HD-1:%d", base.Add(time.Minute).UnixMilli()), ReceivedAt: now,
		Issue: triage.Issue{
			Key: "HD-1", ID: hd1.Issue.ID, Summary: "ticket 1", Description: "Authenticator asks for a code",
			ReporterID: fakeAlice.AccountID, ReporterName: fakeAlice.DisplayName, ReporterEmail: fakeAlice.EmailAddress, Labels: []string{"mfa"}, Status: "Open",
			Updated: base.Add(time.Minute),
		},
	}
	if diff := cmp.Diff(wantHD1, hd1); diff != "" || hd1.Issue.ID == "" {
		t.Errorf("HD-1 payload (-want +got):\n%s", diff)
	}

	at, ok, err := cursor.Get(ctx)
	if want := base.Add(n*time.Minute - DefaultPollOverlap); err != nil || !ok || !at.Equal(want) {
		t.Errorf("cursor %v (set %v, %v), want the newest update minus the overlap, %v", at, ok, err, want)
	}

	// Nothing new: the overlap finds the last tickets again, the delivery
	// ids refuse them.
	if got, err := p.Poll(ctx); err != nil || got != 0 {
		t.Errorf("second poll: %d, %v; want 0, nil", got, err)
	}
	// One ticket edited: enqueued once more, under its new update time.
	edited := base.Add(90 * time.Minute)
	is, _ := srv.Issue("HD-7")
	is.Summary, is.Updated = "ticket 7, edited", edited
	srv.AddIssue(is)
	if got, err := p.Poll(ctx); err != nil || got != 1 {
		t.Errorf("poll after an edit: %d, %v; want 1, nil", got, err)
	}
	if got, err := p.Poll(ctx); err != nil || got != 0 {
		t.Errorf("poll after that: %d, %v; want 0, nil", got, err)
	}
	if c := q.count(t); c != n+1 {
		t.Errorf("%d tasks pending, want %d", c, n+1)
	}
	if _, err := q.insp.GetTaskInfo(q.name, worker.TriageTaskID(fmt.Sprintf("poll:HD-7:%d", edited.UnixMilli()))); err != nil {
		t.Errorf("the edit's task: %v", err)
	}
	at, _, _ = cursor.Get(ctx)
	if want := edited.Add(-DefaultPollOverlap); !at.Equal(want) {
		t.Errorf("cursor %v, want %v", at, want)
	}
}

// TestPollerWritesDatesInTheBotsTimeZone: Jira reads a JQL date in the
// searching user's profile zone. With the bot in Los Angeles (UTC-8 in
// January), a poll whose dates were written in UTC would ask for updates
// eight hours later than meant and miss the recent ones.
func TestPollerWritesDatesInTheBotsTimeZone(t *testing.T) {
	t.Parallel()
	la, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 15, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		location *time.Location // PollerConfig.Location; nil: ask Jira
		wantJQL  string
		want     int
	}{
		{"asked of Jira", nil, `(project = HD) AND updated >= "2026/01/15 09:00" ORDER BY updated ASC`, 1},
		{"set to the same zone", la, `(project = HD) AND updated >= "2026/01/15 09:00" ORDER BY updated ASC`, 1},
		{"UTC, wrongly", time.UTC, `(project = HD) AND updated >= "2026/01/15 17:00" ORDER BY updated ASC`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "api-token", fakeBot), jiratest.WithLocation(la))
			t.Cleanup(srv.Close)
			jc, err := jira.New(jira.Config{BaseURL: srv.URL(), Email: "bot@example.com", APIToken: "api-token"})
			if err != nil {
				t.Fatal(err)
			}
			srv.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "passkey", Reporter: fakeAlice,
				Created: now.Add(-40 * time.Minute), Updated: now.Add(-30 * time.Minute)})
			q := newTestQueue(t)
			cursor := testCursor(t, q)
			if err := cursor.Set(context.Background(), now.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
			p, err := NewPoller(PollerConfig{JQL: "project = HD", Queue: q.name, Location: tt.location, Overlap: time.Minute,
				Now: func() time.Time { return now }}, jc, cursor, q.client)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantJQL, p.JQL(now.Add(-time.Hour))); diff != "" {
				t.Errorf("JQL (-want +got):\n%s", diff)
			}
			if got != tt.want {
				t.Errorf("poll enqueued %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPollerReplicas(t *testing.T) {
	t.Parallel()
	srv, jc := newFakeJira(t, 10)
	q := newTestQueue(t)
	cursor := testCursor(t, q)
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := 1; i <= 25; i++ {
		srv.AddIssue(jiratest.Issue{Key: fmt.Sprintf("HD-%d", i), Summary: "s", Reporter: fakeAlice, Updated: base.Add(time.Duration(i) * time.Second)})
	}
	const replicas = 4
	var wg sync.WaitGroup
	totals := make([]int, replicas)
	for r := range replicas {
		p, err := NewPoller(PollerConfig{JQL: "project = HD", Queue: q.name}, jc, cursor, q.client)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := p.Poll(context.Background())
			if err != nil {
				t.Errorf("replica %d: %v", r, err)
			}
			totals[r] = n
		}()
	}
	wg.Wait()
	sum := 0
	for _, n := range totals {
		sum += n
	}
	if sum != 25 || q.count(t) != 25 {
		t.Errorf("replicas enqueued %v (sum %d), %d pending; want 25 between them", totals, sum, q.count(t))
	}
}

// failingSearch fails after delivering one page.
type failingSearch struct{ issues []jira.Issue }

func (f failingSearch) SearchJQL(_ context.Context, _ string, _ []string, pageFn func([]jira.Issue) error) error {
	if err := pageFn(f.issues); err != nil {
		return err
	}
	return errors.New("jira: 503 Service Unavailable")
}

func TestPollerErrorKeepsCursor(t *testing.T) {
	t.Parallel()
	q := newTestQueue(t)
	cursor := testCursor(t, q)
	ctx := context.Background()
	start := time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)
	if err := cursor.Set(ctx, start); err != nil {
		t.Fatal(err)
	}
	search := failingSearch{issues: []jira.Issue{{Key: "HD-1", Updated: start.Add(time.Hour)}}}
	p, err := NewPoller(PollerConfig{JQL: "project = HD", Queue: q.name}, search, cursor, q.client)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Poll(ctx); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Poll: %v, want the search's error", err)
	}
	if at, _, _ := cursor.Get(ctx); !at.Equal(start) {
		t.Errorf("cursor moved to %v after a failed poll, want %v", at, start)
	}
	// The page that did arrive was enqueued; the next poll will not repeat it.
	if c := q.count(t); c != 1 {
		t.Errorf("%d tasks, want 1", c)
	}
}

func TestRedisCursor(t *testing.T) {
	t.Parallel()
	q := newTestQueue(t)
	c := testCursor(t, q)
	ctx := context.Background()
	if _, ok, err := c.Get(ctx); ok || err != nil {
		t.Fatalf("empty cursor: ok %v, %v; want false, nil", ok, err)
	}
	t1 := time.Date(2025, 3, 10, 9, 0, 0, 123e6, time.UTC)
	steps := []struct {
		set  time.Time
		want time.Time
	}{
		{t1, t1},
		{t1.Add(-time.Hour), t1}, // never backwards
		{t1.Add(time.Minute), t1.Add(time.Minute)},
	}
	for i, s := range steps {
		if err := c.Set(ctx, s.set); err != nil {
			t.Fatalf("step %d: Set: %v", i, err)
		}
		got, ok, err := c.Get(ctx)
		if err != nil || !ok || !got.Equal(s.want) {
			t.Errorf("step %d: Get %v %v %v, want %v", i, got, ok, err, s.want)
		}
	}
	q.rdb.Set(ctx, c.key, "garbage", 0)
	if _, _, err := c.Get(ctx); err == nil {
		t.Error("Get of a garbage value: nil error")
	}
}

func TestPollerJQL(t *testing.T) {
	t.Parallel()
	loc := time.FixedZone("CET", 3600)
	p, err := NewPoller(PollerConfig{JQL: `project = HD AND issuetype = "Service Request"`, Location: loc}, failingSearch{}, &RedisCursor{}, &memQueue{})
	if err != nil {
		t.Fatal(err)
	}
	got := p.JQL(time.Date(2025, 3, 10, 8, 59, 59, 0, time.UTC))
	want := `(project = HD AND issuetype = "Service Request") AND updated >= "2025/03/10 09:59" ORDER BY updated ASC`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("JQL (-want +got):\n%s", diff)
	}
}

func TestPollerConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  PollerConfig
		want string
	}{
		{"ok", PollerConfig{JQL: "project = HD"}, ""},
		{"no JQL", PollerConfig{}, "the JQL is empty"},
		{"order by", PollerConfig{JQL: "project = HD order  by created"}, "has an ORDER BY"},
		{"negative overlap", PollerConfig{JQL: "project = HD", Overlap: -time.Second}, "overlap is negative"},
		{"negative lookback", PollerConfig{JQL: "project = HD", Lookback: -time.Second}, "lookback is negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate: %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := NewPoller(PollerConfig{JQL: "project = HD"}, nil, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "searcher") || !strings.Contains(err.Error(), "cursor") || !strings.Contains(err.Error(), "enqueuer") {
		t.Errorf("NewPoller without dependencies: %v, want an error naming each", err)
	}
}

func TestScheduledTasks(t *testing.T) {
	t.Parallel()
	q := newTestQueue(t)
	ctx := context.Background()
	every := 5 * time.Minute
	t0 := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	type build func(time.Time, time.Duration, ...asynq.Option) (*asynq.Task, error)
	for _, b := range []struct {
		typ   string
		build build
	}{{TypePoll, NewPollTask}, {TypeReconcile, NewReconcileTask}} {
		var results []string
		// Two replicas in the same bucket, then the next bucket.
		for _, at := range []time.Time{t0.Add(10 * time.Second), t0.Add(4 * time.Minute), t0.Add(every)} {
			task, err := b.build(at, every, asynq.Queue(q.name))
			if err != nil {
				t.Fatal(err)
			}
			info, err := q.client.EnqueueContext(ctx, task)
			switch {
			case errors.Is(err, asynq.ErrTaskIDConflict):
				results = append(results, "conflict")
			case err != nil:
				t.Fatalf("%s: %v", b.typ, err)
			default:
				results = append(results, info.ID)
			}
		}
		want := []string{fmt.Sprintf("%s:%d", b.typ, t0.Unix()), "conflict", fmt.Sprintf("%s:%d", b.typ, t0.Add(every).Unix())}
		if diff := cmp.Diff(want, results); diff != "" {
			t.Errorf("%s enqueues (-want +got):\n%s", b.typ, diff)
		}
		if _, err := b.build(t0, 0); err == nil {
			t.Errorf("%s with interval 0: nil error", b.typ)
		}
	}
}

func TestPollerProcessTask(t *testing.T) {
	t.Parallel()
	srv, jc := newFakeJira(t, 0)
	q := newTestQueue(t)
	srv.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "s", Reporter: fakeAlice})
	p, err := NewPoller(PollerConfig{JQL: "project = HD", Queue: q.name}, jc, testCursor(t, q), q.client)
	if err != nil {
		t.Fatal(err)
	}
	task, _ := NewPollTask(time.Now(), time.Minute)
	if err := p.ProcessTask(context.Background(), task); err != nil {
		t.Fatalf("ProcessTask: %v", err)
	}
	if c := q.count(t); c != 1 {
		t.Errorf("%d tasks, want 1", c)
	}
	wrong := asynq.NewTask(TypeReconcile, nil)
	if err := p.ProcessTask(context.Background(), wrong); !errors.Is(err, asynq.SkipRetry) {
		t.Errorf("ProcessTask of a %s task: %v, want SkipRetry", TypeReconcile, err)
	}
}
