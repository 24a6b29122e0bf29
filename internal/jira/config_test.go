package jira

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	ok := Config{BaseURL: "https://example.atlassian.net", Email: "bot@example.com", APIToken: "tok-SECRET-1"}
	tests := []struct {
		name string
		mod  func(*Config)
		want []string // substrings of the error, one per problem; nil for valid
	}{
		{"cloud", func(*Config) {}, nil},
		{"data center", func(c *Config) {
			c.Email, c.APIToken, c.PAT = "", "", "pat"
			c.BaseURL = "https://jira.example.com/jira"
		}, nil},
		{"everything set", func(c *Config) {
			c.BotAccountID, c.RequestTimeout, c.MaxAttempts, c.BaseBackoff, c.MaxBackoff = "acc", time.Second, 3, time.Second, time.Minute
		}, nil},
		{"no URL", func(c *Config) { c.BaseURL = "" }, []string{"jira base URL is empty"}},
		{"no scheme", func(c *Config) { c.BaseURL = "example.atlassian.net" }, []string{"must start with https://"}},
		{"credentials in URL", func(c *Config) { c.BaseURL = "https://u:p@example.atlassian.net" }, []string{"must not carry credentials"}},
		{"query in URL", func(c *Config) { c.BaseURL = "https://example.atlassian.net/?x=1" }, []string{"must not have a query"}},
		{"no credentials", func(c *Config) { c.Email, c.APIToken = "", "" }, []string{"credentials are missing"}},
		{"email without token", func(c *Config) { c.APIToken = "" }, []string{"API token is empty"}},
		{"token without email", func(c *Config) { c.Email = "" }, []string{"e-mail is empty"}},
		{"both kinds", func(c *Config) { c.PAT = "pat" }, []string{"not both"}},
		{"bad email", func(c *Config) { c.Email = "bot" }, []string{"does not look like an e-mail"}},
		{"token with newline", func(c *Config) { c.APIToken = "tok-SECRET-1\n" }, []string{"white space"}},
		{"negative timeout and backoff", func(c *Config) { c.RequestTimeout, c.BaseBackoff = -1, -1 }, []string{"request timeout is negative", "base backoff is negative"}},
		{"cap below base", func(c *Config) { c.BaseBackoff, c.MaxBackoff = time.Minute, time.Second }, []string{"shorter than the base backoff"}},
		{"attempts", func(c *Config) { c.MaxAttempts = 50 }, []string{"max attempts is 50"}},
		{"page size", func(c *Config) { c.SearchPageSize = -1 }, []string{"page size is -1"}},
		{"several at once", func(c *Config) { c.BaseURL, c.APIToken = "", "" }, []string{"base URL is empty", "API token is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := ok
			tt.mod(&c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if got := strings.Count(err.Error(), "\n") + 1; got != len(tt.want) {
				t.Errorf("%d problems reported, want %d: %v", got, len(tt.want), err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error leaks the token: %v", err)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	got := Config{BaseURL: "https://example.atlassian.net/", PAT: "p"}.withDefaults()
	want := Config{
		BaseURL: "https://example.atlassian.net", PAT: "p",
		StateProperty: "triage", RequestTimeout: 30 * time.Second, MaxAttempts: 5,
		BaseBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second,
		MaxRetryAfter: 60 * time.Second, SearchPageSize: 100, Flavor: FlavorAuto,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := New(Config{}); err == nil {
		t.Errorf("New accepted an empty config")
	}
}

func TestConfigStringHidesSecrets(t *testing.T) {
	t.Parallel()
	for _, c := range []Config{
		{BaseURL: "https://x.atlassian.net", Email: "bot@example.com", APIToken: "tok-secret"},
		{BaseURL: "https://jira.example.com", PAT: "pat-secret"},
	} {
		s := c.String()
		if strings.Contains(s, "secret") || !strings.Contains(s, "[redacted]") {
			t.Errorf("String() = %s", s)
		}
		if s2 := mustZerolog(c); strings.Contains(s2, "secret") {
			t.Errorf("zerolog object = %s", s2)
		}
	}
}
