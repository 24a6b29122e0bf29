package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/redistest"
)

func TestBackfill(t *testing.T) {
	t.Parallel()
	redisURL := redistest.URL()
	opt := redistest.Options(t)
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot), jiratest.WithUsers(e2eAlice))
	t.Cleanup(fake.Close)
	proj := fmt.Sprintf("BF%d", time.Now().UnixNano()%100000)
	fake.AddIssue(jiratest.Issue{Key: proj + "-1", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: e2eAlice})
	fake.AddIssue(jiratest.Issue{Key: proj + "-2", Summary: "locked", Description: "my account is locked", Reporter: e2eAlice})
	fake.AddIssue(jiratest.Issue{Key: proj + "-3", Summary: "printer", Description: "the printer is jammed", Reporter: e2eAlice})
	queue := "bf-" + strings.ToLower(proj)
	insp := asynq.NewInspector(redistest.AsynqOpt(opt))
	t.Cleanup(func() { _ = insp.DeleteQueue(queue, true); insp.Close() })
	cfgPath := filepath.Join(t.TempDir(), "triage.yaml")
	cfgText := fmt.Sprintf("redis_url: %s\njira_base_url: %s\njira_email: bot@example.com\njira_api_token: tok\nbot_account_id: %s\nqueue: %s\n", redisURL, fake.URL(), e2eBot.AccountID, queue)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	jql := "project = " + proj
	out, err := run(t, "", "backfill", "--jql", jql, "--dry-run", "--config", cfgPath)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	for _, want := range []string{proj + "-1\treply\tpasskey-invalid", proj + "-2\tescalate-password", proj + "-3\thuman", "3 tickets decided, nothing written"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if calls := fake.Calls(); len(calls) > 0 {
		for _, c := range calls {
			if c.Write {
				t.Errorf("the dry run wrote to Jira: %s %s", c.Method, c.Path)
			}
		}
	}
	out, err = run(t, "", "backfill", "--jql", jql, "--config", cfgPath)
	if err != nil || !strings.Contains(out, "3 tickets found, 3 enqueued, 0 already queued") || !strings.Contains(out, "1/3 ") {
		t.Errorf("backfill: %v\n%s", err, out)
	}
	out, _ = run(t, "", "backfill", "--jql", jql, "--config", cfgPath)
	if !strings.Contains(out, "3 tickets found, 0 enqueued, 3 already queued") {
		t.Errorf("second backfill:\n%s", out)
	}
	if info, err := insp.GetQueueInfo(queue); err != nil || info.Pending != 3 {
		t.Errorf("queue: %+v, %v; want 3 pending tasks", info, err)
	}
}
