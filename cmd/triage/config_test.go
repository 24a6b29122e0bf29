package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
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

// writeConfig writes a YAML configuration file for a test.
func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "triage.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestYAMLTakesTheEnvironmentNames(t *testing.T) {
	t.Parallel()
	path := writeConfig(t, `JIRA_BASE_URL: https://file.example
TRIAGE_CONCURRENCY: 3
TRIAGE_INTERNAL_CATEGORIES: [new-device, passkey-setup]
TRIAGE_SECURITY_ACK: true
queue: fromfile
followup_window: 2h
auto_threshold: 0.75
jira_time_zone: Europe/Berlin
`)
	c, err := loadConfig(path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.JiraBaseURL, c.Concurrency, c.InternalCategories, c.SecurityAck, c.Queue, c.FollowupWindow, *c.AutoThreshold, c.JiraTimeZone}
	want := []any{"https://file.example", 3, []string{"new-device", "passkey-setup"}, true, "fromfile", 2 * time.Hour, 0.75, "Europe/Berlin"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

// TestConfigCheckOutputReadsBack: what config check prints is a
// configuration file that gives the same configuration.
func TestConfigCheckOutputReadsBack(t *testing.T) {
	t.Parallel()
	th := 0.9
	c := config{RedisURL: "redis://r:6379/1", RedisSentinelAddrs: []string{"s1:26379", "s2:26379"}, JiraBaseURL: "https://x.example", JiraEmail: "bot@example.com",
		BotAccountID: "bot", Mode: "shadow", Listen: ":9", MetricsListen: "127.0.0.1:9100", Queue: "q", RedisPrefix: "t:", Concurrency: 4, ShutdownTimeout: time.Second,
		TaskCheckInterval: time.Millisecond, FollowupWindow: time.Hour, InternalCategories: []string{"passkey-setup"}, SecurityAck: true, AllowUnsigned: true,
		WebhookMaxAge: 2 * time.Hour, JQL: "project = HD", JiraTimeZone: "Europe/Berlin", PollInterval: time.Minute, ReconcileWindow: time.Hour, FeedbackTTL: 48 * time.Hour,
		AdminSecure: true, AutoThreshold: &th, LogLevel: "debug", LogFormat: "json"}
	data, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := loadConfig(writeConfig(t, string(data)), func(string) string { return "" })
	if err != nil {
		t.Fatalf("config check's output does not read back: %v\n%s", err, data)
	}
	if diff := cmp.Diff(c, back, cmp.AllowUnexported(config{})); diff != "" {
		t.Errorf("read back (-printed +read):\n%s", diff)
	}
}

func TestYAMLErrorsInPlainWords(t *testing.T) {
	t.Parallel()
	tests := []struct{ yaml, want string }{
		{"concurrency: many\n", `line 1: concurrency: not a whole number: "many"`},
		{"queue: q\nTRIAGE_SHUTDOWN_TIMEOUT: 5\n", `line 2: TRIAGE_SHUTDOWN_TIMEOUT: not a duration like 30s or 24h: "5"`},
		{"security_ack: maybe\n", `line 1: security_ack: not true or false: "maybe"`},
		{"jira_url: https://x\n", `line 1: unknown key "jira_url"`},
		{"internal_categories: {a: b}\n", "line 1: internal_categories: a value or a list is expected, not a mapping"},
		{"- REDIS_URL\n", "line 1: the file must be a mapping"},
		{"queue: [\n", "not valid YAML"},
		{"queue: a\nTRIAGE_QUEUE: b\n", "line 2: TRIAGE_QUEUE is set a second time (first on line 1)"},
	}
	for _, tc := range tests {
		_, err := loadConfig(writeConfig(t, tc.yaml), func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error = %v, want %q", tc.yaml, err, tc.want)
		}
		if err != nil && (strings.Contains(err.Error(), "unmarshal") || strings.Contains(err.Error(), "!!")) {
			t.Errorf("%q: library words in %v", tc.yaml, err)
		}
	}
}

// goodConfig is a valid configuration file for serve, as YAML with the
// environment's names, with changes: a value replaces the good one, ""
// leaves the variable out.
func goodConfig(changes map[string]string) string {
	c := map[string]string{
		"REDIS_URL": "redis://127.0.0.1:1/0", "JIRA_BASE_URL": "https://example.atlassian.net", "JIRA_EMAIL": "bot@example.com",
		"JIRA_API_TOKEN": "jira-api-token", "JIRA_WEBHOOK_SECRET": "3f9a0c1e5b7d2486af3c9e01b5d7f264", "TRIAGE_BOT_ACCOUNT_ID": "bot",
		"TRIAGE_LISTEN": "127.0.0.1:0", "TRIAGE_ADMIN_TOKEN": "9c4e1a7f3b8d2065e1c7a94f0d3b6e28",
	}
	for k, v := range changes {
		c[k] = v
	}
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(c)) {
		if c[k] != "" {
			fmt.Fprintf(&b, "%s: %q\n", k, c[k])
		}
	}
	return b.String()
}

// runFor runs the root command as the binary would, for at most d: a
// command that starts serving is stopped.
func runFor(t *testing.T, d time.Duration, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if ctx.Err() != nil {
		t.Errorf("triage %s was still running after %v", strings.Join(args, " "), d)
	}
	return out.String(), err
}

// TestConfigCheckAppliesServesRules: what serve (and admin) refuse,
// config check refuses, with the same words.
func TestConfigCheckAppliesServesRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		changes map[string]string
		want    []string
		admin   bool // the admin command refuses it too
	}{
		{"too-short admin token", map[string]string{"TRIAGE_ADMIN_TOKEN": "short-token"}, []string{"TRIAGE_ADMIN_TOKEN is too short"}, true},
		{"the env example's admin token", map[string]string{"TRIAGE_ADMIN_TOKEN": "change-me-admin-token"}, []string{"TRIAGE_ADMIN_TOKEN is a placeholder"}, true},
		{"the Secret example's admin token", map[string]string{"TRIAGE_ADMIN_TOKEN": "replace-with-admin-token"}, []string{"TRIAGE_ADMIN_TOKEN is a placeholder"}, true},
		{"a low-entropy admin token", map[string]string{"TRIAGE_ADMIN_TOKEN": "aaaaaaaaaaaaaaaa"}, []string{"TRIAGE_ADMIN_TOKEN is too easy to guess"}, true},
		{"a sequential admin token", map[string]string{"TRIAGE_ADMIN_TOKEN": "0123456789abcdef"}, []string{"TRIAGE_ADMIN_TOKEN is too easy to guess"}, true},
		{"a weak metrics token", map[string]string{"TRIAGE_METRICS_TOKEN": "abcabcabcabcabcabc"}, []string{"TRIAGE_METRICS_TOKEN is too easy to guess"}, true},
		{"REDIS_URL without a scheme", map[string]string{"REDIS_URL": "localhost:6379"}, []string{`REDIS_URL "localhost:6379" has no scheme: write redis://localhost:6379/0`}, true},
		{"unsigned webhooks in live mode", map[string]string{"JIRA_WEBHOOK_SECRET": ""}, []string{"JIRA_WEBHOOK_SECRET is empty", "TRIAGE_ALLOW_UNSIGNED_WEBHOOKS=true"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := writeConfig(t, goodConfig(tc.changes))
			cmds := [][]string{{"config", "check"}, {"serve"}}
			if tc.admin {
				cmds = append(cmds, []string{"admin"})
			}
			for _, args := range cmds {
				out, err := runFor(t, 20*time.Second, append([]string{"--config", path}, args...)...)
				for _, want := range tc.want {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Errorf("triage %s: error = %v, want it to say %q\n%s", strings.Join(args, " "), err, want, out)
					}
				}
			}
		})
	}
	for _, ok := range []map[string]string{nil, {"TRIAGE_ALLOW_UNSIGNED_WEBHOOKS": "true", "JIRA_WEBHOOK_SECRET": ""}, {"TRIAGE_MODE": "shadow", "JIRA_WEBHOOK_SECRET": ""}} {
		out, err := runFor(t, 20*time.Second, "--config", writeConfig(t, goodConfig(ok)), "config", "check")
		if err != nil || !strings.Contains(out, "# the configuration is valid") {
			t.Errorf("config check of\n%s: %v\n%s", goodConfig(ok), err, out)
		}
	}
}

func TestWeakToken(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{"change-me-admin-token", "replace-with-admin-token", "CHANGE-ME-please-0000", "aaaaaaaaaaaaaaaa", "abababababababab",
		"1234567890123456", "0123456789abcdef", "zyxwvutsrqponmlk", "passwordpassword1", "my-admin-secret-2024"} {
		if weakToken(tok) == "" {
			t.Errorf("%q is accepted", tok)
		}
	}
	// random tokens of the shortest length accepted are never refused
	for i := 0; i < 20000; i++ {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		if tok := hex.EncodeToString(b); weakToken(tok) != "" {
			t.Errorf("the random token %q is refused: %s (%.1f bits)", tok, weakToken(tok), estimatedBits(tok))
		}
	}
}

// TestRedactedHidesURLCredentials: config check shows no part of a Redis
// password holding @ or /, nor credentials in JIRA_BASE_URL, in its
// output or its errors.
func TestRedactedHidesURLCredentials(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ redis, jira, secret string }{
		{"redis://default:p@ss@w0rd@redis.example:6379/0", "https://example.atlassian.net", "ss@w0rd"},
		{"redis://:s3cr/et@redis.example:6379/0", "https://example.atlassian.net", "s3cr"},
		{"rediss://user:hunter2@redis.example:6380", "https://bot@example.com:jira-tok3n@example.atlassian.net", "jira-tok3n"},
		{"redis://127.0.0.1:6379/0", "https://bot:p@ss:w0rd@example.atlassian.net/jira", "w0rd"},
		{":pa55word@localhost:6379", "https://example.atlassian.net", "pa55word"},
	} {
		path := writeConfig(t, goodConfig(map[string]string{"REDIS_URL": tc.redis, "JIRA_BASE_URL": tc.jira}))
		out, err := runFor(t, 20*time.Second, "--config", path, "config", "check")
		if strings.Contains(out, tc.secret) || (err != nil && strings.Contains(err.Error(), tc.secret)) {
			t.Errorf("config check shows %q of %s / %s:\n%s\n%v", tc.secret, tc.redis, tc.jira, out, err)
		}
		if !strings.Contains(out, "(hidden)@") {
			t.Errorf("config check of %s / %s does not say the credentials are hidden:\n%s", tc.redis, tc.jira, out)
		}
	}
	if got, want := redactURL("redis://default:p@ss@host:6379/0"), "redis://default:(hidden)@host:6379/0"; got != want {
		t.Errorf("redactURL = %q, want %q", got, want)
	}
}

// TestConfigCheckListsOverriddenTemplates: config check names the
// templates a directory overrides, per language.
func TestConfigCheckListsOverriddenTemplates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "de"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "de", "footer.tmpl"), []byte("_Automatische Antwort unseres Helpdesks._"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runFor(t, 20*time.Second, "--config", writeConfig(t, goodConfig(map[string]string{"TRIAGE_TEMPLATES_DIR": dir})), "config", "check")
	if err != nil || !strings.Contains(out, "templates overridden from "+dir+": de/footer.tmpl") {
		t.Errorf("config check: %v\n%s", err, out)
	}
}
