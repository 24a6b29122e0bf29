package main

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/redistest"
)

// TestConfigCheckPing: --ping tries Redis and Jira and says what is
// wrong in words a person acts on.
func TestConfigCheckPing(t *testing.T) {
	t.Parallel()
	redistest.Options(t) // fails when the test Redis is missing
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot))
	t.Cleanup(fake.Close)
	fake.AddIssue(jiratest.Issue{Key: "PNG-1", Summary: "passkey", Reporter: e2eAlice})
	gone := httptest.NewServer(nil)
	gone.Close()
	good := config{RedisURL: redistest.URL(), JiraBaseURL: fake.URL(), JiraEmail: "bot@example.com", JiraAPIToken: "tok",
		BotAccountID: e2eBot.AccountID, JQL: "project = PNG"}

	tests := []struct {
		name   string
		change func(*config)
		want   []string // lines of the output
		ok     bool
	}{
		{"all well", nil, []string{"# redis    ok: ", "# jira     ok: ", "accepts the credentials of Triage Bot (accountId e2e-bot)",
			"# bot      ok: ", "# project  ok: TRIAGE_JQL \"project = PNG\" finds tickets the bot may see"}, true},
		{"a wrong token", func(c *config) { c.JiraAPIToken = "wrong" }, []string{"# jira     FAILED: ", "refuses JIRA_EMAIL and JIRA_API_TOKEN (401)"}, false},
		{"another account", func(c *config) { c.BotAccountID = "someone-else" }, []string{"# bot      FAILED: ", "set TRIAGE_BOT_ACCOUNT_ID=e2e-bot"}, false},
		{"a project that has nothing", func(c *config) { c.JQL = "project = NOPE" }, []string{"finds no ticket the bot may see"}, true},
		{"a JQL Jira refuses", func(c *config) { c.JQL = "project = = PNG" }, []string{"# project  FAILED: Jira refuses TRIAGE_JQL"}, false},
		{"nothing listens", func(c *config) { c.RedisURL, c.JiraBaseURL = "redis://127.0.0.1:1/0", gone.URL },
			[]string{"# redis    FAILED: redis://127.0.0.1:1/0: connection refused", "# jira     FAILED: " + gone.URL + ": connection refused"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := good
			if tc.change != nil {
				tc.change(&cfg)
			}
			var out bytes.Buffer
			start := time.Now()
			err := ping(context.Background(), cfg, &out)
			if (err == nil) != tc.ok {
				t.Errorf("ping error = %v, want ok=%v", err, tc.ok)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if took := time.Since(start); took > 8*time.Second {
				t.Errorf("ping took %v", took)
			}
		})
	}

	// through the command
	path := writeConfig(t, goodConfig(map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "JIRA_BASE_URL": gone.URL}))
	out, err := runFor(t, 30*time.Second, "--config", path, "config", "check", "--ping")
	if err == nil || !strings.Contains(out, "# the configuration is valid") || !strings.Contains(out, "FAILED: redis://127.0.0.1:1/0: connection refused") {
		t.Errorf("config check --ping: %v\n%s", err, out)
	}
}
