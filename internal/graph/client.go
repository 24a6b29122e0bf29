package graph

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/httpretry"
)

// The application permissions: PermissionMethods for the methods (list,
// remove, TAP), PermissionUsers for the look-up, PermissionRevoke for
// "revoke sign-in sessions", PermissionSignIns for the last sign-in
// (optional: without it the last sign-in shows as unknown).
const (
	PermissionMethods  = "UserAuthenticationMethod.ReadWrite.All"
	PermissionUsers    = "User.Read.All"
	PermissionRevoke   = "User.RevokeSessions.All"
	PermissionSignIns  = "AuditLog.Read.All"
	maxBody            = 1 << 20
	maxPages           = 20
	selectUser         = "id,displayName,userPrincipalName,accountEnabled"
	selectSignInActivy = "signInActivity"
)

// Client calls Microsoft Graph.
type Client struct {
	cfg    Config
	tokens TokenSource
}

// New builds a client from a valid configuration.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Client{cfg: cfg, tokens: cfg.Tokens}
	if c.tokens == nil {
		var err error
		if c.tokens, err = newCredential(cfg); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// TAPLifetime is the lifetime of the passes this client creates.
func (c *Client) TAPLifetime() time.Duration { return c.cfg.TAPLifetime }

// Error is a non-2xx answer from Graph.
type Error struct {
	Op        string // "DELETE fido2 method", never with the user's name
	Status    int
	Code      string // Graph's error code, e.g. Authorization_RequestDenied
	Message   string
	RequestID string
	// RetryAfter is how long Graph asked to wait, when it did.
	RetryAfter time.Duration
	// Permission names the permission a 403 calls for.
	Permission string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch e.Status {
	case http.StatusForbidden:
		fmt.Fprintf(&b, "Microsoft Graph refused to %s: the app registration lacks the application permission %s (Entra admin center → App registrations → the app → API permissions → Microsoft Graph → Application permissions → add it → Grant admin consent)", e.Op, e.Permission)
	case http.StatusNotFound:
		fmt.Fprintf(&b, "Microsoft Graph found nothing to %s", e.Op)
	default:
		fmt.Fprintf(&b, "Microsoft Graph answered %d %s to %s", e.Status, http.StatusText(e.Status), e.Op)
	}
	if e.Code != "" || e.Message != "" {
		fmt.Fprintf(&b, " (%s: %s)", e.Code, e.Message)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, "; retry after %v", e.RetryAfter)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request-id %s]", e.RequestID)
	}
	return b.String()
}

// Unwrap makes a 403 triage.ErrDirectoryForbidden.
func (e *Error) Unwrap() error {
	if e.Status == http.StatusForbidden {
		return triage.ErrDirectoryForbidden
	}
	return nil
}

// call is one Graph request: its description for logs and errors, the
// permission a 403 means is missing.
type call struct {
	op         string // what it does, for people: "list the methods"
	method     string
	path       string // below BaseURL, escaped; or a full nextLink
	query      url.Values
	body       any
	permission string
}

// do sends a call with retries and returns the body of a 2xx answer.
func (c *Client) do(ctx context.Context, k call) ([]byte, error) {
	var payload []byte
	if k.body != nil {
		var err error
		if payload, err = json.Marshal(k.body); err != nil {
			return nil, fmt.Errorf("%s: %w", k.op, err)
		}
	}
	target := k.path
	if !strings.HasPrefix(target, "https://") && !strings.HasPrefix(target, "http://") {
		target = c.cfg.BaseURL + k.path
	}
	if len(k.query) > 0 {
		target += "?" + k.query.Encode()
	}
	replaySafe := k.method != http.MethodPost
	for attempt := 1; ; attempt++ {
		token, err := c.tokens.Token(ctx)
		if err != nil {
			return nil, err
		}
		var rd io.Reader
		if payload != nil {
			rd = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, k.method, target, rd)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.op, err)
		}
		crid := newRequestID()
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		req.Header.Set("client-request-id", crid)
		req.Header.Set("return-client-request-id", "true")
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		started := time.Now()
		resp, err := c.cfg.HTTPClient.Do(req)
		took := time.Since(started)
		if err != nil {
			c.cfg.Logger.Warn().Str("graph_call", k.op).Str("method", k.method).Int("attempt", attempt).
				Str("client_request_id", crid).Dur("took", took).Str("error", scrub(err.Error(), token)).Msg("graph call failed")
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: %w", k.op, ctx.Err())
			}
			if (!replaySafe && !httpretry.NeverSent(err)) || attempt >= c.cfg.MaxAttempts {
				return nil, fmt.Errorf("%s: Microsoft Graph could not be reached: %s", k.op, scrub(err.Error(), token))
			}
			if err := c.sleep(ctx, httpretry.Backoff(attempt, c.cfg.BaseBackoff, c.cfg.MaxBackoff, nil)); err != nil {
				return nil, fmt.Errorf("%s: %w", k.op, err)
			}
			continue
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		rid := resp.Header.Get("request-id")
		c.cfg.Logger.Info().Str("graph_call", k.op).Str("method", k.method).Int("status", resp.StatusCode).Int("attempt", attempt).
			Str("request_id", rid).Str("client_request_id", crid).Dur("took", took).Msg("graph call")
		if rerr != nil {
			return nil, fmt.Errorf("%s: read the answer: %w", k.op, rerr)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return body, nil
		}
		wait, asked := httpretry.RetryAfter(resp.Header, c.cfg.Now())
		retry := false
		switch s := resp.StatusCode; {
		case s == http.StatusTooManyRequests:
			retry = true
		case s == http.StatusServiceUnavailable:
			retry = replaySafe || asked
		case s >= 500 && s != http.StatusNotImplemented:
			retry = replaySafe
		}
		if !asked {
			wait = httpretry.Backoff(attempt, c.cfg.BaseBackoff, c.cfg.MaxBackoff, nil)
		}
		if retry && attempt < c.cfg.MaxAttempts && wait <= c.cfg.MaxRetryAfter && httpretry.FitsDeadline(ctx, wait) {
			c.cfg.Logger.Debug().Str("graph_call", k.op).Int("attempt", attempt).Dur("wait", wait).Int("status", resp.StatusCode).Msg("graph call retried")
			if err := c.sleep(ctx, wait); err != nil {
				return nil, fmt.Errorf("%s: %w", k.op, err)
			}
			continue
		}
		e := &Error{Op: k.op, Status: resp.StatusCode, RequestID: rid, Permission: k.permission}
		e.Code, e.Message = parseError(body)
		if asked {
			e.RetryAfter = wait
		}
		return nil, e
	}
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.cfg.Sleep != nil {
		return c.cfg.Sleep(ctx, d)
	}
	return httpretry.Sleep(ctx, d)
}

// scrub removes the token from an error's text, should a transport ever
// echo a header.
func scrub(s, token string) string {
	if token == "" {
		return s
	}
	return strings.ReplaceAll(s, token, "[token]")
}

// newRequestID is a random UUID (version 4) for client-request-id.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// notFoundIsNoUser turns a 404 into triage.ErrNoSuchUser.
func notFoundIsNoUser(err error, who string) error {
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return fmt.Errorf("%w: %s", triage.ErrNoSuchUser, who)
	}
	return err
}

// User finds a user by user principal name (or object id), with the last
// sign-in when the app may read it (AuditLog.Read.All; Graph gives it only
// by object id, so it is a second call). Without that permission, or on a
// tenant without Entra ID P1, SignInKnown is false and the rest is there.
func (c *Client) User(ctx context.Context, upn string) (triage.DirectoryUser, error) {
	upn = strings.TrimSpace(upn)
	if upn == "" || len(upn) > 256 || strings.ContainsAny(upn, "/\\?#") {
		return triage.DirectoryUser{}, fmt.Errorf("%w: %q is not a user principal name", triage.ErrNoSuchUser, upn)
	}
	body, err := c.do(ctx, call{op: "read the user", method: http.MethodGet, path: "/users/" + url.PathEscape(upn), query: url.Values{"$select": {selectUser}}, permission: PermissionUsers})
	if err != nil {
		return triage.DirectoryUser{}, notFoundIsNoUser(err, upn)
	}
	u, err := parseUser(body)
	if err != nil {
		return triage.DirectoryUser{}, err
	}
	body, err = c.do(ctx, call{op: "read the last sign-in", method: http.MethodGet, path: "/users/" + url.PathEscape(u.ID), query: url.Values{"$select": {selectSignInActivy}}, permission: PermissionSignIns})
	if err != nil {
		var e *Error
		if errors.As(err, &e) && (e.Status == http.StatusForbidden || e.Status == http.StatusBadRequest) {
			c.cfg.Logger.Info().Int("status", e.Status).Msg("graph: last sign-in not readable (AuditLog.Read.All and Entra ID P1 are needed); shown as unknown")
			return u, nil
		}
		return triage.DirectoryUser{}, err
	}
	if u.LastSignIn, u.SignInKnown, err = parseSignIn(body); err != nil {
		return triage.DirectoryUser{}, err
	}
	return u, nil
}

// Methods lists a user's authentication methods, following Graph's pages.
func (c *Client) Methods(ctx context.Context, userID string) ([]triage.AuthMethod, error) {
	if !validID(userID) {
		return nil, fmt.Errorf("%w: %q", triage.ErrNoSuchUser, userID)
	}
	var all []triage.AuthMethod
	next := "/users/" + url.PathEscape(userID) + "/authentication/methods"
	for page := 0; next != ""; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("list the authentication methods: more than %d pages", maxPages)
		}
		if page > 0 && !strings.HasPrefix(next, c.cfg.BaseURL+"/") {
			return nil, errors.New("list the authentication methods: Graph's next page is on another site")
		}
		body, err := c.do(ctx, call{op: "list the authentication methods", method: http.MethodGet, path: next, permission: PermissionMethods})
		if err != nil {
			return nil, notFoundIsNoUser(err, userID)
		}
		ms, link, err := parseMethods(body)
		if err != nil {
			return nil, err
		}
		all = append(all, ms...)
		next = link
	}
	return all, nil
}

// RemoveMethod deletes one method. A method already gone (404) counts as
// removed.
func (c *Client) RemoveMethod(ctx context.Context, userID string, m triage.AuthMethod) error {
	seg := collection(m.Type)
	if seg == "" {
		return fmt.Errorf("a %s method cannot be removed by the MFA reset", m.Type)
	}
	if !validID(userID) || !validID(m.ID) {
		return fmt.Errorf("remove a %s method: not a usable id", m.Type)
	}
	_, err := c.do(ctx, call{op: "remove a " + string(m.Type) + " method", method: http.MethodDelete,
		path: "/users/" + url.PathEscape(userID) + "/authentication/" + seg + "/" + url.PathEscape(m.ID), permission: PermissionMethods})
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusNotFound {
		return nil
	}
	return err
}

// RevokeSessions ends the user's sign-in sessions (refresh tokens and
// session cookies), so every device signs in again.
func (c *Client) RevokeSessions(ctx context.Context, userID string) error {
	if !validID(userID) {
		return fmt.Errorf("%w: %q", triage.ErrNoSuchUser, userID)
	}
	_, err := c.do(ctx, call{op: "revoke the sign-in sessions", method: http.MethodPost, path: "/users/" + url.PathEscape(userID) + "/revokeSignInSessions", body: struct{}{}, permission: PermissionRevoke})
	return notFoundIsNoUser(err, userID)
}

// CreateTAP creates a Temporary Access Pass valid for the configured
// lifetime, usable more than once within it (to set up Authenticator and a
// passkey). Entra ID replaces a pass the user already has.
func (c *Client) CreateTAP(ctx context.Context, userID string) (triage.TemporaryAccessPass, error) {
	if !validID(userID) {
		return triage.TemporaryAccessPass{}, fmt.Errorf("%w: %q", triage.ErrNoSuchUser, userID)
	}
	req := map[string]any{"lifetimeInMinutes": int(c.cfg.TAPLifetime / time.Minute), "isUsableOnce": false}
	body, err := c.do(ctx, call{op: "create a Temporary Access Pass", method: http.MethodPost, path: "/users/" + url.PathEscape(userID) + "/authentication/temporaryAccessPassMethods", body: req, permission: PermissionMethods})
	if err != nil {
		return triage.TemporaryAccessPass{}, notFoundIsNoUser(err, userID)
	}
	return parseTAP(body)
}

// String names the client without its credentials.
func (c *Client) String() string {
	return "graph " + c.cfg.BaseURL + " (TAP " + strconv.Itoa(int(c.cfg.TAPLifetime/time.Minute)) + " min)"
}
