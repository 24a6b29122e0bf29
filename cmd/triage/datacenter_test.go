package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/redistest"
)

// TestPollAndBackfillOnDataCenter: against the sandbox's datacenter
// flavor, which answers /search/jql with 404 as Data Center does, `triage
// poll --reconcile` and `triage backfill` find (and the sweep sees) the tickets through
// /rest/api/2/search: by detection (flavor auto) and by configuration
// (TRIAGE_JIRA_FLAVOR=datacenter, which never asks /search/jql).
func TestPollAndBackfillOnDataCenter(t *testing.T) {
	redisURL := redistest.URL()
	opt := redistest.Options(t)
	dcBot := jiratest.User{AccountID: "dc-bot", Name: "dc-bot", DisplayName: "Triage Bot"}
	dcAlice := jiratest.User{AccountID: "alice", Name: "alice", DisplayName: "Alice Reporter"}
	fake := jiratest.New(jiratest.WithFlavor(jiratest.FlavorDataCenter), jiratest.WithPAT("dc-pat", dcBot))
	t.Cleanup(fake.Close)
	proj := fmt.Sprintf("DC%d", time.Now().UnixNano()%100000)
	for i, d := range []string{"my passkey can no longer be used", "my account is locked", "the printer is jammed"} {
		fake.AddIssue(jiratest.Issue{Key: fmt.Sprintf("%s-%d", proj, i+1), Summary: "help", Description: d, Reporter: dcAlice})
	}
	queue := "dc-" + strings.ToLower(proj)
	insp := asynq.NewInspector(redistest.AsynqOpt(opt))
	rdb := redis.NewClient(opt)
	t.Cleanup(func() {
		_ = insp.DeleteQueue(queue, true)
		insp.Close()
		// `triage poll` keeps its cursor under the default key
		rdb.Del(context.Background(), intake.DefaultCursorKey)
		rdb.Close()
	})
	config := func(flavor string) string {
		path := filepath.Join(t.TempDir(), "triage.yaml")
		text := fmt.Sprintf("redis_url: %s\njira_base_url: %s\njira_pat: dc-pat\nbot_account_id: dc-bot\nqueue: %s\njql: project = %s\njira_time_zone: UTC\njira_flavor: %q\n",
			redisURL, fake.URL(), queue, proj, flavor)
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	searches := func() (jql, startAt int) {
		for _, c := range fake.Calls() {
			switch {
			case c.Path == "/rest/api/2/search/jql" && c.Status == 404:
				jql++
			case c.Path == "/rest/api/2/search" && c.Status == 200:
				startAt++
			default:
				if strings.Contains(c.Path, "search") {
					t.Errorf("unexpected search call %s %s → %d", c.Method, c.Path, c.Status)
				}
			}
		}
		fake.ClearCalls()
		return jql, startAt
	}

	for _, tc := range []struct {
		flavor  string
		wantJQL int // 404s of /search/jql per command
	}{{"", 1}, {"datacenter", 0}} {
		cfg := config(tc.flavor)
		_ = insp.DeleteQueue(queue, true)
		rdb.Del(context.Background(), intake.DefaultCursorKey)

		out, err := run(t, "", "poll", "--reconcile", "--config", cfg)
		if err != nil || !strings.Contains(out, "poll: 3 tickets enqueued") || !strings.Contains(out, `"event":"reconcile","seen":3`) {
			t.Errorf("flavor %q: poll --reconcile: %v\n%s", tc.flavor, err, out)
		}
		// the poll and the sweep: one search each, in one process
		if jql, startAt := searches(); jql != tc.wantJQL || startAt != 2 {
			t.Errorf("flavor %q: poll made %d /search/jql 404s and %d /search pages; want %d and 2", tc.flavor, jql, startAt, tc.wantJQL)
		}
		out, err = run(t, "", "backfill", "--jql", "project = "+proj, "--config", cfg)
		if err != nil || !strings.Contains(out, "3 tickets found, 3 enqueued, 0 already queued") {
			t.Errorf("flavor %q: backfill: %v\n%s", tc.flavor, err, out)
		}
		if jql, startAt := searches(); jql != tc.wantJQL || startAt != 1 {
			t.Errorf("flavor %q: backfill made %d /search/jql 404s and %d /search pages; want %d and 1", tc.flavor, jql, startAt, tc.wantJQL)
		}
		if info, err := insp.GetQueueInfo(queue); err != nil || info.Pending != 6 {
			t.Errorf("flavor %q: queue %+v, %v; want 6 pending tasks (poll and backfill; the sweep leaves tickets this recent)", tc.flavor, info, err)
		}
	}
}
