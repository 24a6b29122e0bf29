package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/internal/redistest"
)

func TestEscalationsCLI(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	ctx := context.Background()
	fake, key, cfgPath := cliEscalation(t, "CLI", "")
	id := key + ":mfa-reset"
	prefix := redisstore.SitePrefix(fake.URL()) // the commands read the escalations of their site
	cli := func(args ...string) string {
		t.Helper()
		out, err := run(t, "", append(args, "--config", cfgPath)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	if out := cli("escalations", "list", "--json"); !strings.Contains(out, id) {
		t.Errorf("list lacks %s:\n%s", id, out)
	}
	if out := cli("escalations", "show", id); !strings.Contains(out, "open") || !strings.Contains(out, "Alice Reporter") {
		t.Errorf("show:\n%s", out)
	}
	if out := cli("escalations", "done", id, "--actor", "alice"); !strings.Contains(out, "is now done") {
		t.Errorf("done:\n%s", out)
	}
	if out := cli("escalations", "done", id, "--actor", "alice"); !strings.Contains(out, "already done") {
		t.Errorf("second done:\n%s", out)
	}
	if n := len(fake.Comments(key)); n != 1 {
		t.Errorf("%d comments on %s, want exactly 1", n, key)
	}

	// a security escalation: listed first, flagged, with its own filter
	sec := key + ":security"
	pw := key + ":password-reset"
	for _, e := range []triage.Escalation{
		{Key: key, ReporterName: "Alice Reporter", Reason: triage.ReasonPasswordReset, CreatedAt: time.Now().Add(-2 * time.Hour)},
		{Key: key, ReporterName: "Alice Reporter", Reason: triage.ReasonSecurity, CreatedAt: time.Now()},
	} {
		if _, err := escalation.New(rdb, prefix).Create(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, id := range []string{sec, pw} {
			for _, st := range escalation.Statuses() {
				rdb.ZRem(ctx, prefix+"esc:status:"+st, id)
			}
			if keys, _ := rdb.Keys(ctx, prefix+"esc:*"+id).Result(); len(keys) > 0 {
				rdb.Del(ctx, keys...)
			}
		}
	})
	out := cli("escalations", "list", "--search", key)
	if i, j := strings.Index(out, sec), strings.Index(out, pw); i < 0 || j < 0 || i > j || !strings.Contains(out, "SECURITY") {
		t.Errorf("list --search: want the security escalation first and flagged:\n%s", out)
	}
	if out := cli("escalations", "list", "--reason", "security", "--search", key, "--json"); !strings.Contains(out, sec) || strings.Contains(out, pw) || !strings.Contains(out, `"security":true`) {
		t.Errorf("list --reason security:\n%s", out)
	}
	if out, err := run(t, "", "escalations", "list", "--sort", "random", "--config", cfgPath); err == nil {
		t.Errorf("an unknown order was accepted:\n%s", out)
	}
	// done on the password escalation posts the password message, never
	// the MFA one
	out = cli("escalations", "done", pw, "--actor", "alice")
	comments := fake.Comments(key)
	if !strings.Contains(out, "Password reset done") || len(comments) != 2 || !strings.Contains(comments[1].Body, "reset the password") || strings.Contains(comments[1].Body, "(MFA)") {
		t.Errorf("done on the password escalation: %s, comments %+v", out, comments)
	}
	if labels := strings.Join(fake.Labels(key), " "); !strings.Contains(labels, triage.LabelPasswordResetDone) {
		t.Errorf("labels %s lack %s", labels, triage.LabelPasswordResetDone)
	}
}

// cliEscalation files a ticket of alice's in a new fake Jira and an
// MFA-reset escalation of it in the test Redis under its site's prefix
// (removed after the test), and writes the CLI's configuration file for
// them, with extra YAML lines; it returns the fake, the ticket's key (made
// of prefix and a number) and the file's path.
func cliEscalation(t *testing.T, prefix, extra string) (*jiratest.Server, string, string) {
	t.Helper()
	rdb := redistest.Client(t)
	ctx := context.Background()
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot), jiratest.WithUsers(e2eAlice))
	t.Cleanup(fake.Close)
	key := fmt.Sprintf("%s%d-1", prefix, time.Now().UnixNano()%100000)
	fake.AddIssue(jiratest.Issue{Key: key, Summary: "passkey", Reporter: e2eAlice})
	id := key + ":mfa-reset"
	// the commands read the escalations of their site
	site := redisstore.SitePrefix(fake.URL())
	if _, err := escalation.New(rdb, site).Create(ctx, triage.Escalation{Key: key, ReporterName: "Alice Reporter", Reason: "mfa-reset", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, st := range escalation.Statuses() {
			rdb.ZRem(ctx, site+"esc:status:"+st, id)
		}
		if keys, _ := rdb.Keys(ctx, site+"esc:*"+id).Result(); len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	cfgPath := filepath.Join(t.TempDir(), "triage.yaml")
	cfgText := fmt.Sprintf("redis_url: %s\njira_base_url: %s\njira_email: bot@example.com\njira_api_token: tok\nbot_account_id: %s\n%s", redistest.URL(), fake.URL(), e2eBot.AccountID, extra)
	if err := os.WriteFile(cfgPath, []byte(cfgText), 0o600); err != nil {
		t.Fatal(err)
	}
	return fake, key, cfgPath
}
