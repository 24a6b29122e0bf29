package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

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
	{"TRIAGE_QUEUE", "triage:<site>", "asynq queue name; <site> is JIRA_BASE_URL's host (and path), so that two sites can share one Redis (an existing deployment keeps its queue with triage)", func(c *config, v string) error { c.Queue = v; return nil }},
	{"TRIAGE_REDIS_PREFIX", "triage:<site>:", "start of every Redis key (state copies, audit, escalations, sessions, the poll cursor); <site> as for TRIAGE_QUEUE (an existing deployment keeps its keys with triage:)", func(c *config, v string) error { c.RedisPrefix = v; return nil }},
	{"TRIAGE_CONCURRENCY", "10", "tasks one worker process runs at once", func(c *config, v string) error { return setInt(&c.Concurrency, v) }},
	{"TRIAGE_SHUTDOWN_TIMEOUT", "30s", "how long a stopping worker waits for running tasks", func(c *config, v string) error { return setDuration(&c.ShutdownTimeout, v) }},
	{"TRIAGE_TASK_CHECK_INTERVAL", "20ms", "how often an idle worker looks for new tasks (asynq's default of 1s adds up to a second of latency)", func(c *config, v string) error { return setDuration(&c.TaskCheckInterval, v) }},
	{"TRIAGE_FOLLOWUP_WINDOW", "24h", "how long a replied ticket waits for an answer before it is escalated", func(c *config, v string) error { return setDuration(&c.FollowupWindow, v) }},
	{"TRIAGE_INTERNAL_CATEGORIES", "", "comma-separated categories whose steps go out as internal notes for agents", func(c *config, v string) error { c.InternalCategories = splitList(v); return nil }},
	{"TRIAGE_INTERNAL_VISIBILITY", "", "outside Jira Service Management (whose internal notes need no setting), who may read the bot's internal notes: role:<project role>, group:<group name> or group-id:<group id>, e.g. role:Administrators; unset: no internal note is posted there (the audit says why)", func(c *config, v string) error { c.InternalVisibility = v; return nil }},
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
	{"GRAPH_TENANT_ID", "", "Microsoft Graph, for resetting MFA in Entra ID from an escalation (optional): the app registration's directory (tenant) id", func(c *config, v string) error { c.GraphTenantID = v; return nil }},
	{"GRAPH_CLIENT_ID", "", "the app registration's application (client) id", func(c *config, v string) error { c.GraphClientID = v; return nil }},
	{"GRAPH_CLIENT_SECRET", "", "the app registration's client secret (or GRAPH_CLIENT_CERT)", func(c *config, v string) error { c.GraphClientSecret = v; return nil }},
	{"GRAPH_CLIENT_CERT", "", "path of a PEM file with the app registration's certificate and its unencrypted private key (instead of GRAPH_CLIENT_SECRET)", func(c *config, v string) error { c.GraphClientCert = v; return nil }},
	{"GRAPH_BASE_URL", "https://graph.microsoft.com/v1.0", "Microsoft Graph's root; set alone (no GRAPH_TENANT_ID), it points at a fake Graph (tests, the demo) with a fixed token", func(c *config, v string) error { c.GraphBaseURL = v; return nil }},
	{"GRAPH_TAP_LIFETIME", "1h", "how long a Temporary Access Pass made by the MFA reset is valid (10m to 720h)", func(c *config, v string) error { return setDuration(&c.GraphTAPLifetime, v) }},
	{"TRIAGE_JQL", "", "the tickets to triage, for polling and reconciliation, e.g. project = HD", func(c *config, v string) error { c.JQL = v; return nil }},
	{"TRIAGE_JIRA_TIMEZONE", "asked of Jira", "the zone Jira reads the bot's JQL dates in (its profile's, an IANA name such as America/New_York); by default the poller asks Jira once", func(c *config, v string) error { c.JiraTimeZone = v; return nil }},
	{"TRIAGE_POLL_INTERVAL", "0 (off)", "poll Jira with TRIAGE_JQL this often (sites without webhooks)", func(c *config, v string) error { return setDuration(&c.PollInterval, v) }},
	{"TRIAGE_RECONCILE_INTERVAL", "0 (off)", "re-enqueue tickets with no triage state this often", func(c *config, v string) error { return setDuration(&c.ReconcileInterval, v) }},
	{"TRIAGE_RECONCILE_WINDOW", "24h", "how far back reconciliation looks", func(c *config, v string) error { return setDuration(&c.ReconcileWindow, v) }},
	{"TRIAGE_FEEDBACK_TTL", "720h", "how long the text and the agents' outcome of a ticket the bot suggested or escalated are kept for triage feedback export", func(c *config, v string) error { return setDuration(&c.FeedbackTTL, v) }},
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
