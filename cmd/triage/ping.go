package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/jira"
)

// pingTimeout bounds each check of config check --ping.
const pingTimeout = 10 * time.Second

// ping tries what the configuration points at, one line each to out:
// Redis answers (with the credentials given), Jira accepts the
// credentials, they are the bot account's, and TRIAGE_JQL finds the
// project. It returns an error naming the checks that failed.
func ping(ctx context.Context, cfg config, out io.Writer) error {
	var failed []string
	check := func(what string, f func(ctx context.Context) (string, error)) bool {
		ctx, cancel := context.WithTimeout(ctx, pingTimeout)
		defer cancel()
		ok, err := f(ctx)
		if err != nil {
			fmt.Fprintf(out, "# %-8s FAILED: %v\n", what, err)
			failed = append(failed, what)
			return false
		}
		fmt.Fprintf(out, "# %-8s ok: %s\n", what, ok)
		return true
	}
	check("redis", func(ctx context.Context) (string, error) { return pingRedis(ctx, cfg) })
	jc, err := jira.New(pingJiraConfig(cfg))
	if err != nil {
		return fmt.Errorf("jira: %w", err)
	}
	var me jira.User
	if check("jira", func(ctx context.Context) (string, error) {
		me, err = jc.Myself(ctx)
		if err != nil {
			return "", explainJira(cfg, err)
		}
		return fmt.Sprintf("%s accepts the credentials of %s", redactURL(cfg.JiraBaseURL), describeUser(me)), nil
	}) {
		check("bot", func(context.Context) (string, error) { return checkBot(cfg, me) })
		check("project", func(ctx context.Context) (string, error) { return checkProject(ctx, cfg, jc) })
	}
	if len(failed) > 0 {
		return fmt.Errorf("the check of %s failed (see the lines above)", strings.Join(failed, ", "))
	}
	return nil
}

// pingJiraConfig is the Jira configuration for one try each: no retries,
// a short timeout.
func pingJiraConfig(cfg config) jira.Config {
	jc := cfg.jira()
	jc.MaxAttempts, jc.RequestTimeout = 1, pingTimeout
	return jc
}

func pingRedis(ctx context.Context, cfg config) (string, error) {
	var rdb redis.UniversalClient
	where := redactURL(cfg.RedisURL)
	if len(cfg.RedisSentinelAddrs) > 0 {
		where = fmt.Sprintf("master %q of the sentinels %s", cfg.RedisMasterName, strings.Join(cfg.RedisSentinelAddrs, ", "))
		rdb = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: cfg.RedisMasterName, SentinelAddrs: cfg.RedisSentinelAddrs, MaxRetries: -1})
	} else {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return "", checkRedisURL(cfg.RedisURL)
		}
		opt.MaxRetries, opt.DialerRetries = -1, 1
		rdb = redis.NewClient(opt)
	}
	defer rdb.Close()
	if err := rdb.Ping(ctx).Err(); err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "WRONGPASS"), strings.Contains(msg, "invalid password"), strings.Contains(msg, "invalid username-password"):
			return "", fmt.Errorf("%s refuses the user name or password of REDIS_URL", where)
		case strings.Contains(msg, "NOAUTH"):
			return "", fmt.Errorf("%s wants a password: put it in REDIS_URL (redis://:PASSWORD@host:6379/0)", where)
		}
		return "", fmt.Errorf("%s: %w", where, plainNetError(err))
	}
	return where + " answers", nil
}

// explainJira turns the answer of GET /myself into what to change.
func explainJira(cfg config, err error) error {
	var je *jira.Error
	site := redactURL(cfg.JiraBaseURL)
	if errors.As(err, &je) {
		switch je.Status {
		case http.StatusUnauthorized:
			if cfg.JiraPAT != "" {
				return fmt.Errorf("%s refuses JIRA_PAT (401): is the token valid and not expired?", site)
			}
			return fmt.Errorf("%s refuses JIRA_EMAIL and JIRA_API_TOKEN (401): is the token the bot account's, and the e-mail the one it belongs to?", site)
		case http.StatusForbidden:
			return fmt.Errorf("%s knows the credentials but refuses them access (403): %v", site, je)
		case http.StatusNotFound:
			return fmt.Errorf("%s has no Jira REST API (404 on /rest/api/2/myself): is JIRA_BASE_URL the site's address, with its context path if any?", site)
		}
		return fmt.Errorf("%s: %w", site, je)
	}
	return fmt.Errorf("%s: %w", site, plainNetError(err))
}

func describeUser(u jira.User) string {
	id := u.AccountID
	kind := "accountId"
	if id == "" {
		id, kind = u.Name, "user name"
	}
	if u.DisplayName != "" {
		return fmt.Sprintf("%s (%s %s)", u.DisplayName, kind, id)
	}
	return fmt.Sprintf("%s %s", kind, id)
}

// checkBot compares TRIAGE_BOT_ACCOUNT_ID with the account the
// credentials belong to: the bot recognises its own comments by it.
func checkBot(cfg config, me jira.User) (string, error) {
	id := me.AccountID
	if id == "" {
		id = me.Name
	}
	if cfg.BotAccountID != id {
		return "", fmt.Errorf("TRIAGE_BOT_ACCOUNT_ID is %q, but the credentials are those of %s: the bot would answer its own comments; set TRIAGE_BOT_ACCOUNT_ID=%s", cfg.BotAccountID, describeUser(me), id)
	}
	return "TRIAGE_BOT_ACCOUNT_ID is the account of the credentials", nil
}

// checkProject runs TRIAGE_JQL for one page: the project exists, the bot
// may browse it, and the query is valid.
func checkProject(ctx context.Context, cfg config, jc *jira.Client) (string, error) {
	if strings.TrimSpace(cfg.JQL) == "" {
		return "TRIAGE_JQL is empty: no project to check (webhooks name their own tickets)", nil
	}
	n := 0
	err := jc.SearchJQL(ctx, cfg.JQL, []string{"summary"}, func(is []jira.Issue) error {
		n = len(is)
		return jira.ErrStopSearch
	})
	if err != nil {
		var je *jira.Error
		if errors.As(err, &je) && je.Status == http.StatusBadRequest {
			return "", fmt.Errorf("Jira refuses TRIAGE_JQL %q (a project that does not exist, or that the bot may not browse, or a typo): %s", cfg.JQL, strings.Join(je.Messages, "; "))
		}
		return "", err
	}
	if n == 0 {
		return fmt.Sprintf("TRIAGE_JQL %q is valid but finds no ticket the bot may see: is it the right project, and may the bot browse it?", cfg.JQL), nil
	}
	return fmt.Sprintf("TRIAGE_JQL %q finds tickets the bot may see", cfg.JQL), nil
}

// plainNetError puts what a network error means first: a refused
// connection, an unknown host, a timeout.
func plainNetError(err error) error {
	if p := netProblem(err); p != "" {
		return fmt.Errorf("%s (%w)", p, err)
	}
	return err
}
