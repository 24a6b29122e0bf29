package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/graph"
	"github.com/mfatriage/triage/internal/graph/graphtest"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/redisstore"
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
	RedisPrefix     string        `yaml:"redis_prefix"`
	Concurrency     int           `yaml:"concurrency"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// TaskCheckInterval is how often an idle worker looks for new tasks.
	TaskCheckInterval time.Duration `yaml:"task_check_interval"`

	FollowupWindow     time.Duration `yaml:"followup_window"`
	InternalCategories []string      `yaml:"internal_categories"`
	InternalVisibility string        `yaml:"internal_visibility"`
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

	// FeedbackTTL is how long the text and the agents' outcome of a
	// ticket the bot suggested or escalated are kept for the export.
	FeedbackTTL time.Duration `yaml:"feedback_ttl"`

	AdminToken     string `yaml:"admin_token"`
	AdminSecure    bool   `yaml:"admin_secure"`
	DoneTransition string `yaml:"done_transition"`

	// Microsoft Graph, for the MFA reset in Entra ID (optional).
	GraphTenantID     string        `yaml:"graph_tenant_id"`
	GraphClientID     string        `yaml:"graph_client_id"`
	GraphClientSecret string        `yaml:"graph_client_secret"`
	GraphClientCert   string        `yaml:"graph_client_cert"`
	GraphBaseURL      string        `yaml:"graph_base_url"`
	GraphTAPLifetime  time.Duration `yaml:"graph_tap_lifetime"`

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
	// the site's keys and queue: two sites can share one Redis
	if c.Queue == "" {
		c.Queue = worker.DefaultQueue
		if site := redisstore.SiteID(c.JiraBaseURL); site != "" {
			c.Queue += ":" + site
		}
	}
	if c.RedisPrefix == "" {
		c.RedisPrefix = redisstore.SitePrefix(c.JiraBaseURL)
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
	if c.FeedbackTTL == 0 {
		c.FeedbackTTL = 30 * 24 * time.Hour
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
	return jira.Config{BaseURL: c.JiraBaseURL, Email: c.JiraEmail, APIToken: c.JiraAPIToken, PAT: c.JiraPAT, BotAccountID: c.BotAccountID, Flavor: c.JiraFlavor, InternalVisibility: c.InternalVisibility}
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
	if strings.ContainsAny(c.RedisPrefix, "{} \t\r\n") {
		errs = append(errs, fmt.Errorf("TRIAGE_REDIS_PREFIX %q contains white space or a brace ({ or }), which would break the keys' hash tags", c.RedisPrefix))
	}
	if strings.ContainsAny(c.Queue, "{} \t\r\n") {
		errs = append(errs, fmt.Errorf("TRIAGE_QUEUE %q contains white space or a brace ({ or }), which asynq's keys cannot hold", c.Queue))
	}
	if c.Concurrency < 1 {
		errs = append(errs, fmt.Errorf("TRIAGE_CONCURRENCY must be at least 1, got %d", c.Concurrency))
	}
	if c.PollInterval < 0 || c.ReconcileInterval < 0 || c.ShutdownTimeout < 0 || c.FeedbackTTL < 0 {
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
	if g := c.graph(); g.Configured() {
		if err := g.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("Microsoft Graph: %w", err))
		}
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
	c.GraphClientSecret = hide(c.GraphClientSecret)
	c.RedisURL, c.JiraBaseURL = redactURL(c.RedisURL), redactURL(c.JiraBaseURL)
	return c
}

// graph is the Microsoft Graph configuration. With GRAPH_BASE_URL alone
// (no app registration) it is the fake Graph of tests and the demo, which
// takes a fixed token; with the app registration, tokens come from Entra
// ID through azidentity.
func (c config) graph() graph.Config {
	g := graph.Config{TenantID: c.GraphTenantID, ClientID: c.GraphClientID, ClientSecret: c.GraphClientSecret, ClientCert: c.GraphClientCert, BaseURL: c.GraphBaseURL, TAPLifetime: c.GraphTAPLifetime}
	if g.BaseURL != "" && g.TenantID == "" && g.ClientID == "" && g.ClientSecret == "" && g.ClientCert == "" {
		g.Tokens = graph.StaticToken(graphtest.Token)
	}
	return g
}
