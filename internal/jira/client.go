package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	gojira "github.com/andygrunwald/go-jira"
	"github.com/rs/zerolog"
)

// Client talks to one Jira site through go-jira v1.17.0. It is safe for
// concurrent use.
type Client struct {
	cfg Config
	jc  *gojira.Client
	rt  *RetryTransport
	now func() time.Time
	log zerolog.Logger

	botMu sync.Mutex
	botID string

	// search is the search API in use (searchJQL or searchStartAt), or
	// searchUnknown until the first search of FlavorAuto learns it.
	search atomic.Int32

	// visibility restricts internal comments outside Service Management
	// (Config.InternalVisibility); projects caches the project types.
	visibility *Visibility
	projects   projectTypes
}

// Option adjusts New.
type Option func(*clientOptions)

type clientOptions struct {
	logger zerolog.Logger
	base   http.RoundTripper
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func(time.Duration) time.Duration
}

// WithLogger logs every HTTP attempt at debug level (method, path, status,
// attempt, duration) and every retry. Credentials, headers and bodies are
// never logged. The default zerolog.Logger{} logs nothing.
func WithLogger(l zerolog.Logger) Option { return func(o *clientOptions) { o.logger = l } }

// WithHTTPTransport sets the network transport under the retries and the auth
// (default http.DefaultTransport).
func WithHTTPTransport(rt http.RoundTripper) Option { return func(o *clientOptions) { o.base = rt } }

// WithClock replaces the clock and the sleep used between retries, for tests.
// sleep must return ctx.Err() when the context ends first.
func WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(o *clientOptions) { o.now, o.sleep = now, sleep }
}

// WithJitter replaces the random part of the backoff: f returns a wait in
// [0, n).
func WithJitter(f func(n time.Duration) time.Duration) Option {
	return func(o *clientOptions) { o.jitter = f }
}

// New validates cfg and builds a client: go-jira over BasicAuthTransport
// (Cloud) or PATAuthTransport (Data Center) over a RetryTransport.
func New(cfg Config, opts ...Option) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	var o clientOptions
	for _, opt := range opts {
		opt(&o)
	}
	now := o.now
	if now == nil {
		now = time.Now
	}
	rt := &RetryTransport{
		Base:           o.base,
		MaxAttempts:    cfg.MaxAttempts,
		BaseBackoff:    cfg.BaseBackoff,
		MaxBackoff:     cfg.MaxBackoff,
		MaxRetryAfter:  cfg.MaxRetryAfter,
		AttemptTimeout: cfg.RequestTimeout,
		Now:            now,
		Sleep:          o.sleep,
		Jitter:         o.jitter,
		Logger:         o.logger,
	}
	var auth http.RoundTripper
	if cfg.dataCenter() {
		auth = &gojira.PATAuthTransport{Token: cfg.PAT, Transport: rt}
	} else {
		auth = &gojira.BasicAuthTransport{Username: cfg.Email, Password: cfg.APIToken, Transport: rt}
	}
	// No http.Client.Timeout: it would cut through the retries. Each attempt
	// has RequestTimeout; the caller's context bounds the whole call.
	jc, err := gojira.NewClient(&http.Client{Transport: auth}, cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("jira client for %s: %w", cfg.BaseURL, err)
	}
	c := &Client{cfg: cfg, jc: jc, rt: rt, now: now, log: o.logger}
	c.visibility, _ = ParseVisibility(cfg.InternalVisibility) // checked by Validate
	switch cfg.Flavor {
	case FlavorCloud:
		c.search.Store(searchJQL)
	case FlavorDataCenter:
		c.search.Store(searchStartAt)
	}
	return c, nil
}

// Config returns the configuration in use, defaults filled in.
func (c *Client) Config() Config { return c.cfg }

// call sends one request built by go-jira's NewRequestWithContext (which
// JSON-encodes in) and decodes a 2xx answer into out when out is not nil.
func (c *Client) call(ctx context.Context, method, path string, in, out any, replaySafe bool) error {
	if !replaySafe {
		ctx = withNoReplay(ctx)
	}
	ctx, capt := withCapture(ctx)
	req, err := c.jc.NewRequestWithContext(ctx, method, path, in)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	resp, err := c.jc.Do(req, out)
	return c.finish(capt, resp, err)
}

// finish closes the response body on every path (go-jira leaves it open on
// success without a result, and on errors of UpdateIssue, go-jira #197) and
// turns a failure into an *Error carrying Jira's own messages.
func (c *Client) finish(capt *capture, resp *gojira.Response, err error) error {
	if resp != nil && resp.Response != nil && resp.Body != nil {
		drain(resp.Body)
	}
	if err == nil {
		return nil
	}
	if op, status, h, body := capt.get(); status != 0 {
		return &Error{Op: op, Status: status, Messages: parseErrorBody(body), RetryAfter: retryAfterFrom(h, c.now())}
	}
	var e *Error
	if errors.As(err, &e) { // held back by the transport's rate-limit gate
		return e
	}
	if resp != nil && resp.Response != nil && resp.StatusCode >= 300 {
		return &Error{Op: resp.Request.Method + " " + resp.Request.URL.Path, Status: resp.StatusCode, Messages: []string{err.Error()}}
	}
	return err
}

// issueKeyRE matches an issue key (HD-12) or a numeric issue id.
var issueKeyRE = regexp.MustCompile(`^(?:[A-Za-z][A-Za-z0-9_]*-[0-9]+|[0-9]+)$`)

// checkKey refuses what is not an issue key or id, so that no key can change
// the path of a request.
func checkKey(key string) error {
	if !issueKeyRE.MatchString(key) {
		return fmt.Errorf("%w: %q is not an issue key such as HD-12", ErrInvalidInput, key)
	}
	return nil
}

// issuePath is rest/api/2/issue/{key} plus optional parts, escaped.
func issuePath(key string, parts ...string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	p := "rest/api/2/issue/" + key
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p, nil
}
