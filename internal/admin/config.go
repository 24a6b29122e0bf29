package admin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// MinTokenLength is the shortest admin token accepted.
const MinTokenLength = 16

// Config configures the admin server. Zero values are defaults, except
// Token, which is required.
type Config struct {
	// Token is the admin credential (TRIAGE_ADMIN_TOKEN): the login
	// form's password and the API's bearer token. The server keeps only
	// its SHA-256.
	Token string
	// Secure marks the cookies Secure even when the request itself came
	// over plain HTTP (TLS ended at a proxy). Requests over TLS always get
	// Secure cookies.
	Secure bool
	// Logger receives the admins' actions and the failed logins; the zero
	// value logs nothing.
	Logger zerolog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// JiraBaseURL, when set, links a record without its own link to
	// <JiraBaseURL>/browse/<key>.
	JiraBaseURL string
	// LoginRate and LoginBurst limit failed logins (and API requests with
	// a wrong token) per client IP; default 5 a minute, burst 5. The right
	// token is never limited.
	LoginRate  rate.Limit
	LoginBurst int
	// SessionTTL is how long a session lasts; default 8 hours.
	SessionTTL time.Duration
	// TrustedProxies lists the reverse proxies in front of the server
	// (TRIAGE_TRUSTED_PROXIES): CIDRs such as 10.0.0.0/8, or single
	// addresses. For a request from one of them the client is read from
	// X-Forwarded-For: the rightmost address that is not itself a trusted
	// proxy. From anywhere else X-Forwarded-For is ignored (it could be
	// forged), and failed logins count against the connection's address.
	TrustedProxies []string
	// ClientIPHeader, when set (for example "X-Real-IP"), names a header
	// the reverse proxy sets to the client's IP; for a list the last
	// address counts. With TrustedProxies it is read only from them;
	// without, always: leave it empty when clients can reach the server
	// directly.
	ClientIPHeader string
	// PageSize is the number of rows on a page of the queue; default 25.
	PageSize int
	// Revocations, when set, remembers signed-out sessions until they
	// would have expired, so that a copy of the cookie stops working at
	// logout (on every replica). Nil: logout clears the browser's cookie
	// only, and a copy stays valid until it expires.
	Revocations Revocations
	// Decisions, when set, reads the per-day counts of decisions and of
	// the helpdesk's outcomes for the Decisions view (/decisions) and
	// GET /api/decisions. Nil: the view says the counts are not read here,
	// and the API answers 404.
	Decisions DecisionDays
}

// Revocations remembers revoked sessions by id (the session's nonce).
// *redisstore.Store implements it.
type Revocations interface {
	// Revoke marks the session revoked until it would have expired.
	Revoke(ctx context.Context, id string, until time.Time) error
	// Revoked reports whether the session was revoked.
	Revoked(ctx context.Context, id string) (bool, error)
}

// Validate explains, in plain English, what is wrong with the
// configuration.
func (c Config) Validate() error {
	var errs []error
	switch {
	case c.Token == "":
		errs = append(errs, errors.New("the admin page needs TRIAGE_ADMIN_TOKEN; it does not run open"))
	case len(c.Token) < MinTokenLength:
		errs = append(errs, fmt.Errorf("TRIAGE_ADMIN_TOKEN is too short: use at least %d characters (for example the output of `openssl rand -hex 32`)", MinTokenLength))
	case strings.TrimSpace(c.Token) != c.Token:
		errs = append(errs, errors.New("TRIAGE_ADMIN_TOKEN starts or ends with white space; remove it"))
	}
	if c.LoginRate < 0 {
		errs = append(errs, errors.New("the login rate cannot be negative"))
	}
	if c.LoginBurst < 0 {
		errs = append(errs, errors.New("the login burst cannot be negative"))
	}
	if c.SessionTTL < 0 {
		errs = append(errs, errors.New("the session lifetime cannot be negative"))
	}
	if c.PageSize < 0 || c.PageSize > 500 {
		errs = append(errs, errors.New("the page size must be between 1 and 500"))
	}
	if _, err := ParseTrustedProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if c.JiraBaseURL != "" {
		u, err := url.Parse(c.JiraBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("the Jira base URL %q is not an http(s) URL", c.JiraBaseURL))
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.LoginRate == 0 {
		c.LoginRate = rate.Every(time.Minute / 5)
	}
	if c.LoginBurst == 0 {
		c.LoginBurst = 5
	}
	if c.SessionTTL == 0 {
		c.SessionTTL = 8 * time.Hour
	}
	if c.PageSize == 0 {
		c.PageSize = 25
	}
	c.JiraBaseURL = strings.TrimRight(c.JiraBaseURL, "/")
	return c
}
