package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/worker"
)

// config is the whole configuration: an optional YAML file, then the
// environment, which wins. Only this package reads either.
type config struct {
	RedisURL           string   `yaml:"redis_url"`
	RedisSentinelAddrs []string `yaml:"redis_sentinel_addrs"`
	RedisMasterName    string   `yaml:"redis_master_name"`

	JiraBaseURL  string `yaml:"jira_base_url"`
	JiraEmail    string `yaml:"jira_email"`
	JiraAPIToken string `yaml:"jira_api_token"`
	JiraPAT      string `yaml:"jira_pat"`
	JiraFlavor   string `yaml:"jira_flavor"`

	WebhookSecret string `yaml:"jira_webhook_secret"`
	// AllowUnsigned lets a live intake run without WebhookSecret.
	AllowUnsigned bool          `yaml:"allow_unsigned_webhooks"`
	WebhookMaxAge time.Duration `yaml:"webhook_max_age"`
	BotAccountID  string        `yaml:"bot_account_id"`
	Mode          string        `yaml:"mode"`

	Listen          string        `yaml:"listen"`
	MetricsListen   string        `yaml:"metrics_listen"`
	MetricsToken    string        `yaml:"metrics_token"`
	Queue           string        `yaml:"queue"`
	Concurrency     int           `yaml:"concurrency"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TaskCheckInterval is how often an idle worker looks for new tasks.
	TaskCheckInterval time.Duration `yaml:"task_check_interval"`

	FollowupWindow     time.Duration `yaml:"followup_window"`
	InternalCategories []string      `yaml:"internal_categories"`
	EscalationAssignee string        `yaml:"escalation_assignee"`
	SecurityPriority   string        `yaml:"security_priority"`
	SecurityAssignee   string        `yaml:"security_assignee"`
	SecurityAck        bool          `yaml:"security_ack"`
	ReplyLanguages     []string      `yaml:"reply_languages"`
	FallbackLanguage   string        `yaml:"fallback_language"`
	AgentLanguage      string        `yaml:"agent_language"`
	ResolveTransition  string        `yaml:"resolve_transition"`

	JQL               string        `yaml:"jql"`
	JiraTimeZone      string        `yaml:"jira_timezone"`
	PollInterval      time.Duration `yaml:"poll_interval"`
	ReconcileInterval time.Duration `yaml:"reconcile_interval"`
	ReconcileWindow   time.Duration `yaml:"reconcile_window"`

	AdminToken     string `yaml:"admin_token"`
	AdminSecure    bool   `yaml:"admin_secure"`
	DoneTransition string `yaml:"done_transition"`

	// TrustedProxies are the CIDRs of the reverse proxies whose
	// X-Forwarded-For the admin page believes.
	TrustedProxies []string `yaml:"trusted_proxies"`

	RulesPath string `yaml:"rules"`
	ModelPath string `yaml:"model"`
	// AutoThreshold, when set, replaces the model's auto threshold.
	AutoThreshold *float64 `yaml:"auto_threshold"`
	TemplatesDir  string   `yaml:"templates_dir"`
	LogLevel      string   `yaml:"log_level"`
	LogFormat     string   `yaml:"log_format"`
}

// envVar is one setting: its environment variable's name, its default and
// meaning (for --help and the README), and how a value is read into the
// configuration.
type envVar struct {
	name, def, meaning string
	set                func(c *config, v string) error
}

// envVars lists the environment variables, for the README and `config
// check`: name, default, meaning, setter.
var envVars = []envVar{
	{"REDIS_URL", "redis://127.0.0.1:6379/0", "Redis for the queue, the state copy and the audit", func(c *config, v string) error { c.RedisURL = v; return nil }},
	{"REDIS_SENTINEL_ADDRS", "", "comma-separated Sentinel addresses (instead of REDIS_URL)", func(c *config, v string) error { c.RedisSentinelAddrs = splitList(v); return nil }},
	{"REDIS_MASTER_NAME", "", "the Sentinel master name", func(c *config, v string) error { c.RedisMasterName = v; return nil }},
	{"JIRA_BASE_URL", "", "Jira site, e.g. https://example.atlassian.net", func(c *config, v string) error { c.JiraBaseURL = v; return nil }},
	{"JIRA_EMAIL", "", "Jira Cloud: the bot account's e-mail (basic auth with JIRA_API_TOKEN)", func(c *config, v string) error { c.JiraEmail = v; return nil }},
	{"JIRA_API_TOKEN", "", "Jira Cloud: API token", func(c *config, v string) error { c.JiraAPIToken = v; return nil }},
	{"JIRA_PAT", "", "Jira Data Center: personal access token (bearer)", func(c *config, v string) error { c.JiraPAT = v; return nil }},
	{"TRIAGE_JIRA_FLAVOR", "auto", "cloud (search with /search/jql), datacenter (/search with startAt), or auto: learn it from the first search", func(c *config, v string) error { c.JiraFlavor = v; return nil }},
	{"JIRA_WEBHOOK_SECRET", "", "secret of the Jira webhook (X-Hub-Signature); required in live mode unless TRIAGE_ALLOW_UNSIGNED_WEBHOOKS", func(c *config, v string) error { c.WebhookSecret = v; return nil }},
	{"TRIAGE_ALLOW_UNSIGNED_WEBHOOKS", "false", "let a live intake run without JIRA_WEBHOOK_SECRET, accepting unsigned webhooks (only where nobody but Jira can reach it)", func(c *config, v string) error { return setBool(&c.AllowUnsigned, v) }},
	{"TRIAGE_WEBHOOK_MAX_AGE", "1h", "a signed webhook whose payload timestamp is older than this is answered 200 and not triaged (a replay)", func(c *config, v string) error { return setDuration(&c.WebhookMaxAge, v) }},
	{"TRIAGE_BOT_ACCOUNT_ID", "", "the bot's Jira account id (required: its own comments are never answered)", func(c *config, v string) error { c.BotAccountID = v; return nil }},
	{"TRIAGE_MODE", "live", "live, or shadow: decide and record, write nothing to Jira", func(c *config, v string) error { c.Mode = v; return nil }},
	{"TRIAGE_LISTEN", ":8080", "address of the webhook intake and health endpoints", func(c *config, v string) error { c.Listen = v; return nil }},
	{"TRIAGE_METRICS_LISTEN", "TRIAGE_LISTEN", "address of /metrics when it should not share TRIAGE_LISTEN (which may be reachable from outside)", func(c *config, v string) error { c.MetricsListen = v; return nil }},
	{"TRIAGE_METRICS_TOKEN", "", "when set, /metrics asks for it as a bearer token (Authorization: Bearer ...)", func(c *config, v string) error { c.MetricsToken = v; return nil }},
	{"TRIAGE_QUEUE", "triage", "asynq queue name", func(c *config, v string) error { c.Queue = v; return nil }},
	{"TRIAGE_CONCURRENCY", "10", "tasks one worker process runs at once", func(c *config, v string) error { return setInt(&c.Concurrency, v) }},
	{"TRIAGE_SHUTDOWN_TIMEOUT", "30s", "how long a stopping worker waits for running tasks", func(c *config, v string) error { return setDuration(&c.ShutdownTimeout, v) }},
	{"TRIAGE_TASK_CHECK_INTERVAL", "20ms", "how often an idle worker looks for new tasks (asynq's default of 1s adds up to a second of latency)", func(c *config, v string) error { return setDuration(&c.TaskCheckInterval, v) }},
	{"TRIAGE_FOLLOWUP_WINDOW", "24h", "how long a replied ticket waits for an answer before it is escalated", func(c *config, v string) error { return setDuration(&c.FollowupWindow, v) }},
	{"TRIAGE_INTERNAL_CATEGORIES", "", "comma-separated categories whose steps go out as internal notes for agents", func(c *config, v string) error { c.InternalCategories = splitList(v); return nil }},
	{"TRIAGE_ESCALATION_ASSIGNEE", "", "account id escalated tickets are assigned to", func(c *config, v string) error { c.EscalationAssignee = v; return nil }},
	{"TRIAGE_REPLY_LANGUAGES", "en,de,fr,es,pt,nl,it", "the languages reporters are answered in (ISO 639-1, comma-separated); others get TRIAGE_FALLBACK_LANGUAGE", func(c *config, v string) error { c.ReplyLanguages = splitList(v); return nil }},
	{"TRIAGE_FALLBACK_LANGUAGE", "en", "the language of tickets in no supported or allowed language", func(c *config, v string) error { c.FallbackLanguage = v; return nil }},
	{"TRIAGE_AGENT_LANGUAGE", "en", "the language of the internal notes for agents and admins", func(c *config, v string) error { c.AgentLanguage = v; return nil }},
	{"TRIAGE_SECURITY_PRIORITY", "", "priority given to a ticket that reports a possible attack, e.g. Highest (empty: unchanged)", func(c *config, v string) error { c.SecurityPriority = v; return nil }},
	{"TRIAGE_SECURITY_ASSIGNEE", "", "account id a ticket that reports a possible attack is assigned to", func(c *config, v string) error { c.SecurityAssignee = v; return nil }},
	{"TRIAGE_SECURITY_ACK", "false", "post the reporter a short acknowledgement of a security report (we are on it; approve nothing you did not start)", func(c *config, v string) error { return setBool(&c.SecurityAck, v) }},
	{"TRIAGE_RESOLVE_TRANSITION", "", "transition run when a ticket is resolved", func(c *config, v string) error { c.ResolveTransition = v; return nil }},
	{"TRIAGE_ADMIN_TOKEN", "", "the admin credential for the admin page and the JSON API (required to serve them; kept only as a hash)", func(c *config, v string) error { c.AdminToken = v; return nil }},
	{"TRIAGE_ADMIN_SECURE", "false", "mark the admin session cookie Secure (set it when TLS ends at a proxy in front)", func(c *config, v string) error { return setBool(&c.AdminSecure, v) }},
	{"TRIAGE_TRUSTED_PROXIES", "", "comma-separated CIDRs of the reverse proxies in front (e.g. the Ingress controller's pods); only from them is X-Forwarded-For believed, for the admin page's per-client login limit", func(c *config, v string) error { c.TrustedProxies = splitList(v); return nil }},
	{"TRIAGE_DONE_TRANSITION", "", "transition run when an admin marks an MFA or password reset done", func(c *config, v string) error { c.DoneTransition = v; return nil }},
	{"TRIAGE_JQL", "", "the tickets to triage, for polling and reconciliation, e.g. project = HD", func(c *config, v string) error { c.JQL = v; return nil }},
	{"TRIAGE_JIRA_TIMEZONE", "asked of Jira", "the zone Jira reads the bot's JQL dates in (its profile's, an IANA name such as America/New_York); by default the poller asks Jira once", func(c *config, v string) error { c.JiraTimeZone = v; return nil }},
	{"TRIAGE_POLL_INTERVAL", "0 (off)", "poll Jira with TRIAGE_JQL this often (sites without webhooks)", func(c *config, v string) error { return setDuration(&c.PollInterval, v) }},
	{"TRIAGE_RECONCILE_INTERVAL", "0 (off)", "re-enqueue tickets with no triage state this often", func(c *config, v string) error { return setDuration(&c.ReconcileInterval, v) }},
	{"TRIAGE_RECONCILE_WINDOW", "24h", "how far back reconciliation looks", func(c *config, v string) error { return setDuration(&c.ReconcileWindow, v) }},
	{"TRIAGE_RULES", "embedded", "classifier rules file (YAML)", func(c *config, v string) error { c.RulesPath = v; return nil }},
	{"TRIAGE_MODEL", "embedded", "learned model file (from triage train)", func(c *config, v string) error { c.ModelPath = v; return nil }},
	{"TRIAGE_AUTO_THRESHOLD", "the model's", "confidence from which the bot acts alone; below it, agents get a suggestion (1.01: suggestions only)", func(c *config, v string) error {
		t, err := strconv.ParseFloat(v, 64)
		if err != nil || t < 0 {
			return fmt.Errorf("not a number from 0 up: %q", v)
		}
		c.AutoThreshold = &t
		return nil
	}},
	{"TRIAGE_TEMPLATES_DIR", "embedded", "directory of reply template overrides", func(c *config, v string) error { c.TemplatesDir = v; return nil }},
	{"TRIAGE_LOG_LEVEL", "info", "debug, info, warn or error (ticket text is logged at debug only)", func(c *config, v string) error { c.LogLevel = v; return nil }},
	{"TRIAGE_LOG_FORMAT", "auto", "json, or console: readable lines; auto: console when standard error is a terminal, JSON otherwise", func(c *config, v string) error { c.LogFormat = v; return nil }},
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func setInt(dst *int, v string) error {
	n, err := strconv.Atoi(v)
	if err != nil {
		return fmt.Errorf("not a whole number: %q", v)
	}
	*dst = n
	return nil
}

func setBool(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return fmt.Errorf("not true or false: %q", v)
	}
	*dst = b
	return nil
}

func setDuration(dst *time.Duration, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("not a duration like 30s or 24h: %q", v)
	}
	*dst = d
	return nil
}

// loadConfig reads the YAML file (if path is set), then the environment.
func loadConfig(path string, getenv func(string) string) (config, error) {
	var c config
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		if err := c.readYAML(data); err != nil {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	var errs []error
	for _, v := range envVars {
		if val := getenv(v.name); val != "" {
			if err := v.set(&c, val); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", v.name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	c.defaults()
	return c, nil
}

// readYAML sets what a YAML file names, each value through its
// variable's own parsing: a key is a variable's name (JIRA_BASE_URL) or
// the lower-case form config check prints (jira_base_url, and for TRIAGE_
// variables without the prefix: queue). A list stands for a
// comma-separated value. Every problem is named with its line.
func (c *config) readYAML(data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil // empty
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the file must be a mapping of keys to values, such as REDIS_URL: redis://127.0.0.1:6379/0", m.Line)
	}
	var errs []error
	seen := map[string]int{} // variable → line
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		ev, ok := envVarFor(k.Value)
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown key %q: the keys are the environment variables' names (REDIS_URL, TRIAGE_QUEUE) or their lower-case forms without TRIAGE_ (redis_url, queue)", k.Line, k.Value))
			continue
		}
		if line, dup := seen[ev.name]; dup {
			errs = append(errs, fmt.Errorf("line %d: %s is set a second time (first on line %d)", k.Line, k.Value, line))
			continue
		}
		seen[ev.name] = k.Line
		val, err := yamlValue(v)
		if err == nil && val != "" {
			err = ev.set(c, val)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %s: %w", v.Line, k.Value, err))
		}
	}
	return errors.Join(errs...)
}

// yamlAliases are keys files written before the keys were the variables'
// lower-case names may hold.
var yamlAliases = map[string]string{"jira_time_zone": "TRIAGE_JIRA_TIMEZONE"}

// envVarFor finds the variable a YAML key names.
func envVarFor(key string) (envVar, bool) {
	for _, v := range envVars {
		if key == v.name || key == yamlKey(v.name) || yamlAliases[key] == v.name {
			return v, true
		}
	}
	return envVar{}, false
}

// yamlKey is the lower-case key of a variable: TRIAGE_QUEUE → queue,
// REDIS_URL → redis_url. The config struct's yaml tags are these.
func yamlKey(name string) string { return strings.ToLower(strings.TrimPrefix(name, "TRIAGE_")) }

// yamlValue is a YAML value as the environment would hold it: a scalar as
// written, a list joined with commas, nothing for null.
func yamlValue(n *yaml.Node) (string, error) {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return "", nil
	case n.Kind == yaml.ScalarNode:
		return n.Value, nil
	case n.Kind == yaml.SequenceNode:
		var items []string
		for _, it := range n.Content {
			if it.Kind != yaml.ScalarNode {
				return "", errors.New("a list of plain values is expected, not a list of lists or mappings")
			}
			items = append(items, it.Value)
		}
		return strings.Join(items, ","), nil
	default:
		return "", errors.New("a value or a list is expected, not a mapping")
	}
}

func (c *config) defaults() {
	if c.RedisURL == "" && len(c.RedisSentinelAddrs) == 0 {
		c.RedisURL = "redis://127.0.0.1:6379/0"
	}
	if c.Listen == "" {
		c.Listen = ":8080"
	}
	if c.Queue == "" {
		c.Queue = worker.DefaultQueue
	}
	if c.Concurrency == 0 {
		c.Concurrency = 10
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.TaskCheckInterval == 0 {
		c.TaskCheckInterval = 20 * time.Millisecond
	}
	if c.ReconcileWindow == 0 {
		c.ReconcileWindow = 24 * time.Hour
	}
	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if c.WebhookMaxAge == 0 {
		c.WebhookMaxAge = time.Hour
	}
	if c.LogFormat == "auto" {
		c.LogFormat = logFormatAuto
	}
}

func (c config) jira() jira.Config {
	return jira.Config{BaseURL: c.JiraBaseURL, Email: c.JiraEmail, APIToken: c.JiraAPIToken, PAT: c.JiraPAT, BotAccountID: c.BotAccountID, Flavor: c.JiraFlavor}
}

func (c config) worker() worker.Config {
	return worker.Config{
		BotAccountID: c.BotAccountID, Mode: c.Mode, InternalCategories: c.InternalCategories,
		FollowupWindow: c.FollowupWindow, EscalationAssignee: c.EscalationAssignee,
		SecurityPriority: c.SecurityPriority, SecurityAssignee: c.SecurityAssignee, SecurityAck: c.SecurityAck,
		ReplyLanguages: c.ReplyLanguages, FallbackLanguage: c.FallbackLanguage, AgentLanguage: c.AgentLanguage,
		ResolveTransition: c.ResolveTransition, JiraBaseURL: c.JiraBaseURL,
	}
}

// validate checks what a role needs, in plain English, every problem at
// once.
func (c config) validate(needJira, needWorker bool) error {
	var errs []error
	if c.RedisURL == "" && (len(c.RedisSentinelAddrs) == 0 || c.RedisMasterName == "") {
		errs = append(errs, errors.New("Redis is not configured: set REDIS_URL, or REDIS_SENTINEL_ADDRS and REDIS_MASTER_NAME"))
	}
	if c.RedisURL != "" && len(c.RedisSentinelAddrs) == 0 {
		if err := checkRedisURL(c.RedisURL); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("TRIAGE_CONCURRENCY must be at least 1, got %d", c.Concurrency))
	}
	if c.PollInterval < 0 || c.ReconcileInterval < 0 || c.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("intervals and timeouts cannot be negative"))
	}
	if (c.PollInterval > 0 || c.ReconcileInterval > 0) && strings.TrimSpace(c.JQL) == "" {
		errs = append(errs, errors.New("polling or reconciliation is on but TRIAGE_JQL is empty: say which tickets to look at, e.g. project = HD"))
	}
	if c.JiraTimeZone != "" {
		if _, err := time.LoadLocation(c.JiraTimeZone); err != nil {
			errs = append(errs, fmt.Errorf("TRIAGE_JIRA_TIMEZONE %q is not a time zone name such as America/New_York or Europe/Berlin", c.JiraTimeZone))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("TRIAGE_LOG_LEVEL %q is not debug, info, warn or error", c.LogLevel))
	}
	if _, err := admin.ParseTrustedProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	switch c.LogFormat {
	case logFormatAuto, logFormatJSON, logFormatConsole:
	default:
		errs = append(errs, fmt.Errorf("TRIAGE_LOG_FORMAT %q is not json, console or auto", c.LogFormat))
	}
	if needJira {
		jc := c.jira()
		jc.BaseURL = redactURL(jc.BaseURL) // its errors quote it
		if err := jc.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	if needWorker {
		if err := c.worker().Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// redacted shows the configuration with secrets hidden: the tokens and
// secrets, and the credentials of the Redis and Jira URLs.
func (c config) redacted() config {
	hide := func(s string) string {
		if s == "" {
			return ""
		}
		return "(set)"
	}
	c.JiraAPIToken, c.JiraPAT, c.WebhookSecret, c.AdminToken, c.MetricsToken = hide(c.JiraAPIToken), hide(c.JiraPAT), hide(c.WebhookSecret), hide(c.AdminToken), hide(c.MetricsToken)
	c.RedisURL, c.JiraBaseURL = redactURL(c.RedisURL), redactURL(c.JiraBaseURL)
	return c
}
