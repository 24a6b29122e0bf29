package jira

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Defaults for the zero values of Config.
const (
	DefaultStateProperty  = "triage"
	DefaultRequestTimeout = 30 * time.Second
	DefaultMaxAttempts    = 5
	DefaultBaseBackoff    = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
	DefaultMaxRetryAfter  = 60 * time.Second
	DefaultSearchPageSize = 100
)

// Config configures the adapter. Every optional field has a documented default
// for its zero value; Validate says in plain words what is wrong.
type Config struct {
	// BaseURL is the Jira site, e.g. https://example.atlassian.net or
	// https://jira.example.com/jira. Required.
	BaseURL string

	// Email and APIToken authenticate to Jira Cloud (HTTP basic auth with an
	// API token). Set both, or set PAT instead.
	Email    string
	APIToken string

	// PAT is a Jira Data Center personal access token, sent as
	// "Authorization: Bearer". Set it, or Email and APIToken, not both.
	PAT string

	// BotAccountID is the account the adapter acts as; the worker compares
	// event authors with it so the bot never answers itself. Empty: learn it
	// with Client.BotAccountID (one GET /myself, then cached).
	BotAccountID string

	// StateProperty is the issue entity property that holds the triage
	// state. Default "triage".
	StateProperty string

	// RequestTimeout bounds one HTTP attempt, body included. Default 30s. The
	// caller's context bounds the whole call, retries included.
	RequestTimeout time.Duration

	// MaxAttempts is how often one call is tried in all, the first try
	// included. Default 5; 1 turns retries off.
	MaxAttempts int

	// BaseBackoff is the first backoff step after a 5xx or a network error;
	// each further retry doubles it, with full jitter, up to MaxBackoff.
	// Defaults 500ms and 30s.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration

	// MaxRetryAfter is the longest wait asked by Jira (Retry-After or
	// X-RateLimit-Reset) that a call sleeps through; a longer one is returned
	// at once as a rate-limit *Error carrying RetryAfter. Default 60s. The
	// worker's adapter (NewTaskTriage) sleeps through TaskMaxRetryAfter at
	// most, so that a task is rescheduled instead of holding a worker.
	MaxRetryAfter time.Duration

	// SearchPageSize is maxResults of a search page. Default 100 (Jira
	// Cloud's page cap when fields are requested).
	SearchPageSize int

	// Flavor is the Jira edition, for the one call that differs: search.
	// FlavorCloud searches /rest/api/2/search/jql (nextPageToken paging),
	// FlavorDataCenter /rest/api/2/search (startAt paging; Data Center has
	// no /search/jql). FlavorAuto, or empty, the default, tries /search/jql
	// and, when Jira answers it 404, uses /search from then on.
	Flavor string

	// InternalVisibility keeps internal comments from the reporter outside
	// Jira Service Management, whose projects alone honour the
	// sd.public.comment property: "role:<project role>", "group:<group
	// name>" or "group-id:<group id>" (see ParseVisibility), e.g.
	// "role:Administrators". Empty, the default: outside Service
	// Management an internal comment is not posted (NoteSkippedError).
	InternalVisibility string
}

// The flavors of Config.Flavor.
const (
	FlavorAuto       = "auto"
	FlavorCloud      = "cloud"
	FlavorDataCenter = "datacenter"
)

// Validate reports every problem in the configuration at once.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch u, err := url.Parse(c.BaseURL); {
	case strings.TrimSpace(c.BaseURL) == "":
		add("jira base URL is empty: set it to your site, e.g. https://example.atlassian.net")
	case err != nil:
		add("jira base URL %q is not a URL: %v", c.BaseURL, err)
	case u.Scheme != "https" && u.Scheme != "http":
		add("jira base URL %q must start with https:// (or http:// for a local test server)", c.BaseURL)
	case u.Host == "":
		add("jira base URL %q has no host name", c.BaseURL)
	case u.User != nil:
		add("jira base URL must not carry credentials; use the e-mail and API token (or PAT) settings")
	case u.RawQuery != "" || u.Fragment != "":
		add("jira base URL %q must not have a query or fragment", c.BaseURL)
	}

	cloud := c.Email != "" || c.APIToken != ""
	switch {
	case cloud && c.PAT != "":
		add("jira credentials: set either an e-mail and API token (Jira Cloud) or a personal access token (Data Center), not both")
	case c.Email != "" && c.APIToken == "":
		add("jira API token is empty: Jira Cloud needs the e-mail and an API token together")
	case c.APIToken != "" && c.Email == "":
		add("jira e-mail is empty: Jira Cloud needs the e-mail and an API token together")
	case !cloud && c.PAT == "":
		add("jira credentials are missing: set an e-mail and API token (Jira Cloud) or a personal access token (Data Center)")
	}
	if c.Email != "" && !strings.Contains(c.Email, "@") {
		add("jira e-mail %q does not look like an e-mail address", c.Email)
	}
	if strings.ContainsAny(c.APIToken+c.PAT, " \t\r\n") {
		add("jira token contains white space; copy it again without spaces or line breaks")
	}
	if strings.ContainsAny(c.BotAccountID, " \t\r\n") {
		add("jira bot account id %q contains white space", c.BotAccountID)
	}
	if len(c.StateProperty) > 255 {
		add("jira state property key is %d characters long; Jira allows at most 255", len(c.StateProperty))
	}

	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"request timeout", c.RequestTimeout},
		{"base backoff", c.BaseBackoff},
		{"max backoff", c.MaxBackoff},
		{"max Retry-After", c.MaxRetryAfter},
	} {
		if d.v < 0 {
			add("jira %s is negative (%v); use 0 for the default", d.name, d.v)
		}
	}
	if c.BaseBackoff > 0 && c.MaxBackoff > 0 && c.MaxBackoff < c.BaseBackoff {
		add("jira max backoff (%v) is shorter than the base backoff (%v)", c.MaxBackoff, c.BaseBackoff)
	}
	if c.MaxAttempts < 0 || c.MaxAttempts > 20 {
		add("jira max attempts is %d; use 1 to 20, or 0 for the default %d", c.MaxAttempts, DefaultMaxAttempts)
	}
	switch c.Flavor {
	case "", FlavorAuto, FlavorCloud, FlavorDataCenter:
	default:
		add("jira flavor %q is not %s, %s or %s", c.Flavor, FlavorCloud, FlavorDataCenter, FlavorAuto)
	}
	if _, err := ParseVisibility(c.InternalVisibility); err != nil {
		add("jira %v", err)
	}
	if c.SearchPageSize < 0 || c.SearchPageSize > 5000 {
		add("jira search page size is %d; use 1 to 5000, or 0 for the default %d", c.SearchPageSize, DefaultSearchPageSize)
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero values.
func (c Config) withDefaults() Config {
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.StateProperty == "" {
		c.StateProperty = DefaultStateProperty
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.BaseBackoff == 0 {
		c.BaseBackoff = DefaultBaseBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = max(DefaultMaxBackoff, c.BaseBackoff)
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.SearchPageSize == 0 {
		c.SearchPageSize = DefaultSearchPageSize
	}
	if c.Flavor == "" {
		c.Flavor = FlavorAuto
	}
	return c
}

// dataCenter reports whether the configuration uses a Data Center PAT.
func (c Config) dataCenter() bool { return c.PAT != "" }

// String describes the configuration without its secrets.
func (c Config) String() string {
	auth := "none"
	switch {
	case c.PAT != "":
		auth = "personal access token [redacted]"
	case c.Email != "":
		auth = "basic " + c.Email + " with API token [redacted]"
	}
	return fmt.Sprintf("jira.Config{BaseURL: %q, Auth: %s, BotAccountID: %q}", c.BaseURL, auth, c.BotAccountID)
}

// MarshalZerologObject logs the configuration without its secrets.
func (c Config) MarshalZerologObject(e *zerolog.Event) {
	d := c.withDefaults()
	auth := "cloud-basic"
	if c.PAT != "" {
		auth = "datacenter-pat"
	}
	e.Str("base_url", d.BaseURL).
		Str("auth", auth).
		Str("email", c.Email).
		Str("bot_account_id", c.BotAccountID).
		Str("state_property", d.StateProperty).
		Dur("request_timeout", d.RequestTimeout).
		Int("max_attempts", d.MaxAttempts).
		Str("flavor", d.Flavor).
		Str("internal_visibility", d.InternalVisibility).
		Dur("max_retry_after", d.MaxRetryAfter)
}

var (
	_ fmt.Stringer               = Config{}
	_ zerolog.LogObjectMarshaler = Config{}
)
