package main

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/admin"
)

// placeholderPrefixes start the values the examples ship
// (deploy/triage.env.example, the Kubernetes Secret) and their kind: a
// token that starts so was never replaced.
var placeholderPrefixes = []string{"change-me", "changeme", "replace-with", "replace-me", "your-", "<", "xxx", "todo", "example"}

// minTokenBits is the least a token must seem to carry by the estimate
// below. 16 random hex digits (the shortest token admitted) carry 64 bits
// and show about 51 by it, rarely below 34, in a million draws never
// below 30.
const minTokenBits = 28

// weakToken says why a credential others must not guess is unfit (a
// placeholder of the examples, too few distinct characters, a repeated
// or sequential pattern), or "" when it is fit.
func weakToken(tok string) string {
	low := strings.ToLower(tok)
	for _, p := range placeholderPrefixes {
		if strings.HasPrefix(low, p) {
			return "is a placeholder from the examples"
		}
	}
	if strings.Contains(low, "placeholder") || strings.Contains(low, "password") || strings.Contains(low, "secret") {
		return "is a word anyone would guess, not a random value"
	}
	if estimatedBits(tok) < minTokenBits || repeats(tok) || sequential(tok) {
		return "is too easy to guess (few distinct characters, or a repeated or sequential pattern)"
	}
	return ""
}

// estimatedBits is the token's length times the entropy of its own
// character frequencies: aaaaaaaaaaaaaaaa carries 0, a random hex token of
// 16 digits about 50.
func estimatedBits(s string) float64 {
	counts := map[rune]float64{}
	n := 0.0
	for _, r := range s {
		counts[r]++
		n++
	}
	h := 0.0
	for _, c := range counts {
		p := c / n
		h -= p * math.Log2(p)
	}
	return h * n
}

// repeats reports whether s is a shorter string over and over
// (abcabcabcabc, passpasspass).
func repeats(s string) bool {
	for l := 1; l <= len(s)/2; l++ {
		if strings.Repeat(s[:l], len(s)/l+1)[:len(s)] == s {
			return true
		}
	}
	return false
}

// sequential reports whether three quarters of the neighbouring
// characters of s follow one another in one direction (1234567890abcdef,
// zyxwvutsrqponmlk).
func sequential(s string) bool {
	up, down := 0, 0
	for i := 1; i < len(s); i++ {
		switch int(s[i]) - int(s[i-1]) {
		case 1:
			up++
		case -1:
			down++
		}
	}
	return len(s) > 1 && 4*max(up, down) >= 3*(len(s)-1)
}

// validateServing checks what serving the intake (runIntake) and the
// admin page (runAdmin) needs beyond validate, in serve, intake, admin and
// config check alike: a webhook secret in live mode, admin and metrics
// tokens nobody can guess.
func (c config) validateServing(runIntake, runAdmin bool) error {
	var errs []error
	if runIntake && c.WebhookSecret == "" && c.Mode != "shadow" && !c.AllowUnsigned {
		errs = append(errs, errors.New("JIRA_WEBHOOK_SECRET is empty: in live mode anyone who reaches the intake could make the bot post, escalate or stay silent; "+
			"set the secret of the Jira webhook, or TRIAGE_ALLOW_UNSIGNED_WEBHOOKS=true where nobody but Jira can reach the intake"))
	}
	if c.WebhookMaxAge < 0 {
		errs = append(errs, fmt.Errorf("TRIAGE_WEBHOOK_MAX_AGE cannot be negative (%v)", c.WebhookMaxAge))
	}
	if runAdmin && c.AdminToken != "" {
		if err := (admin.Config{Token: c.AdminToken}).Validate(); err != nil {
			errs = append(errs, err)
		} else if why := weakToken(c.AdminToken); why != "" {
			errs = append(errs, fmt.Errorf("TRIAGE_ADMIN_TOKEN %s: use a random one, e.g. the output of `openssl rand -hex 32`", why))
		}
	}
	if c.MetricsToken != "" {
		if why := weakToken(c.MetricsToken); why != "" {
			errs = append(errs, fmt.Errorf("TRIAGE_METRICS_TOKEN %s: use a random one, e.g. the output of `openssl rand -hex 32`", why))
		}
	}
	return errors.Join(errs...)
}

// checkRedisURL says in plain words what is wrong with REDIS_URL, without
// showing its password.
func checkRedisURL(u string) error {
	scheme, _, ok := strings.Cut(u, "://")
	if !ok {
		return fmt.Errorf("REDIS_URL %q has no scheme: write redis://%s/0 (or rediss:// for TLS)", redactURL(u), strings.TrimSuffix(redactURL(u), "/"))
	}
	if scheme != "redis" && scheme != "rediss" && scheme != "unix" {
		return fmt.Errorf("REDIS_URL %s starts with %s://: use redis:// (or rediss:// for TLS)", redactURL(u), scheme)
	}
	if _, err := redis.ParseURL(u); err != nil {
		if userinfo, _, hasAt := strings.Cut(afterScheme(u), "@"); hasAt && strings.ContainsAny(userinfo, "@/?#") || strings.Count(afterScheme(u), "@") > 1 {
			return fmt.Errorf("REDIS_URL %s: the password holds @, /, ? or #, which must be percent-encoded (@ as %%40, / as %%2F)", redactURL(u))
		}
		return fmt.Errorf("REDIS_URL %s is not a Redis URL like redis://[user:password@]host:6379/0", redactURL(u))
	}
	return nil
}

func afterScheme(u string) string {
	if _, rest, ok := strings.Cut(u, "://"); ok {
		return rest
	}
	return u
}

// redactURL hides the credentials of a URL, user:password@ (the user
// stays, the password goes). Everything up to the last @ counts as
// credentials, so a password holding @ or / is hidden whole.
func redactURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		scheme, rest = "", u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if strings.ContainsAny(user, "/?#") {
		user = "" // not a user name: part of the credentials
	}
	hidden := user + ":(hidden)"
	if !hasPassword && user != "" {
		hidden = "(hidden)" // a token given as the user name
	}
	if scheme != "" {
		scheme += "://"
	}
	return scheme + hidden + "@" + rest[at+1:]
}
