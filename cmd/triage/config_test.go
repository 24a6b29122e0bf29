package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLoadConfigFileThenEnvironment(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "triage.yaml")
	if err := os.WriteFile(path, []byte("jira_base_url: https://file.example\nqueue: fromfile\nfollowup_window: 2h\ninternal_categories: [passkey-setup]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JIRA_BASE_URL": "https://env.example", "TRIAGE_CONCURRENCY": "3", "TRIAGE_INTERNAL_CATEGORIES": "new-device, passkey-setup"}
	c, err := loadConfig(path, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.JiraBaseURL, c.Queue, c.FollowupWindow, c.Concurrency, c.InternalCategories, c.Listen}
	want := []any{"https://env.example", "fromfile", 2 * time.Hour, 3, []string{"new-device", "passkey-setup"}, ":8080"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestConfigErrorsArePlainEnglish(t *testing.T) {
	t.Parallel()
	env := map[string]string{"TRIAGE_CONCURRENCY": "many"}
	if _, err := loadConfig("", func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "TRIAGE_CONCURRENCY: not a whole number") {
		t.Errorf("error = %v", err)
	}
	c, err := loadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	c.PollInterval = time.Minute
	err = c.validate(true, true)
	for _, want := range []string{"TRIAGE_JQL is empty", "bot's Jira account id is not set"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate error = %v, want it to say %q", err, want)
		}
	}
}

func TestRedactedHidesSecrets(t *testing.T) {
	t.Parallel()
	c := config{JiraAPIToken: "tok", JiraPAT: "pat", WebhookSecret: "sec", RedisURL: "redis://user:pw@host:6379/0"}
	r := c.redacted()
	for _, s := range []string{r.JiraAPIToken, r.JiraPAT, r.WebhookSecret, r.RedisURL} {
		if strings.Contains(s, "tok") || strings.Contains(s, "pat") || strings.Contains(s, "sec") || strings.Contains(s, "pw") {
			t.Errorf("secret shown: %q", s)
		}
	}
}
