package admin_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/internal/redistest"
)

func TestNewRefusesToRunOpen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  admin.Config
		want string // in the error; "" for none
	}{
		{"no token", admin.Config{}, "the admin page needs TRIAGE_ADMIN_TOKEN; it does not run open"},
		{"short token", admin.Config{Token: "short"}, "too short"},
		{"token with spaces around", admin.Config{Token: " " + testToken}, "white space"},
		{"bad Jira URL", admin.Config{Token: testToken, JiraBaseURL: "javascript:alert(1)"}, "not an http(s) URL"},
		{"negative rate", admin.Config{Token: testToken, LoginRate: -1}, "cannot be negative"},
		{"good", admin.Config{Token: testToken, JiraBaseURL: "https://example.atlassian.net"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := admin.New(tt.cfg, &escalation.Service{})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("New: error %q, want one containing %q", got, tt.want)
			}
			if strings.Contains(got, testToken) {
				t.Errorf("the error shows the token: %q", got)
			}
		})
	}
}

func TestNoSessionNoAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-1", "mfa-reset", time.Hour)
	type result struct {
		Status   int
		Location string
	}
	tests := []struct {
		method, path, auth string
		want               result
	}{
		{"GET", "/", "", result{303, "/login"}},
		{"GET", "/?status=done", "", result{303, "/login"}},
		{"GET", "/escalations/" + id, "", result{303, "/login"}},
		{"GET", "/decisions", "", result{303, "/login"}},
		{"GET", "/decisions?days=7", "", result{303, "/login"}},
		{"POST", "/escalations/" + id + "/done", "", result{303, "/login"}},
		{"POST", "/escalations/" + id + "/ack", "", result{303, "/login"}},
		{"POST", "/logout", "", result{303, "/login"}},
		{"GET", "/api/escalations", "", result{401, ""}},
		{"GET", "/api/escalations/counts", "", result{401, ""}},
		{"GET", "/api/decisions", "", result{401, ""}},
		{"GET", "/api/decisions?days=7", "Bearer not-the-token", result{401, ""}},
		{"GET", "/api/escalations/" + id, "", result{401, ""}},
		{"POST", "/api/escalations/" + id + "/done", "", result{401, ""}},
		{"GET", "/api/escalations", "Basic " + testToken, result{401, ""}},
		{"GET", "/api/escalations", "Bearer not-the-token", result{401, ""}},
		{"POST", "/api/escalations/" + id + "/done", "Bearer " + testToken + "x", result{401, ""}},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, e.srv.URL+tt.path, nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		p := e.browser().do(req)
		if diff := cmp.Diff(tt.want, result{p.Status, p.Location}); diff != "" {
			t.Errorf("%s %s (%q): (-want +got)\n%s", tt.method, tt.path, tt.auth, diff)
		}
		if p.Status == 401 && !strings.HasPrefix(p.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s %s: 401 as %q, want JSON", tt.method, tt.path, p.Header.Get("Content-Type"))
		}
	}
	if r := e.record(id); r.Status != escalation.StatusOpen || len(e.jira.Comments("HD-1")) != 0 {
		t.Errorf("an unauthenticated request changed something: status %s, comments %v", r.Status, e.jira.Comments("HD-1"))
	}
}

func TestPostWithoutCSRFIsForbidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-2", "mfa-reset", time.Hour)
	b := e.browser()
	b.login("Ada Admin")
	other := e.browser()
	otherCSRF := other.login("Bob Admin") // another session's token
	tests := []struct {
		name string
		path string
		form url.Values
	}{
		{"done without token", "/escalations/" + id + "/done", url.Values{}},
		{"done with an empty token", "/escalations/" + id + "/done", url.Values{"csrf": {""}}},
		{"done with a made-up token", "/escalations/" + id + "/done", url.Values{"csrf": {"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}}},
		{"done with another session's token", "/escalations/" + id + "/done", url.Values{"csrf": {otherCSRF}}},
		{"ack without token", "/escalations/" + id + "/ack", url.Values{}},
		{"return without token", "/escalations/" + id + "/return", url.Values{"note": {"not ours"}}},
		{"logout without token", "/logout", url.Values{}},
	}
	for _, tt := range tests {
		p := b.post(tt.path, tt.form)
		if p.Status != http.StatusForbidden {
			t.Errorf("%s: %d %q, want 403", tt.name, p.Status, p.Location)
		}
	}
	r := e.record(id)
	if r.Status != escalation.StatusOpen || len(r.History) != 1 {
		t.Errorf("the record changed: status %s, history %+v", r.Status, r.History)
	}
	if w := e.jira.Writes(); len(w) != 0 {
		t.Errorf("Jira was written to: %v", w)
	}
	if p := b.get("/"); p.Status != http.StatusOK {
		t.Errorf("the session ended on a refused logout: %d", p.Status)
	}
}

func TestWrongTokenStartsNoSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	tests := []struct {
		name, user, token string
		wantStatus        int
	}{
		{"wrong token", "Ada Admin", "guess-guess-guess-guess", http.StatusUnauthorized},
		{"empty token", "Ada Admin", "", http.StatusUnauthorized},
		{"the token with a character more", "Ada Admin", testToken + "!", http.StatusUnauthorized},
		{"no name", "", testToken, http.StatusBadRequest},
	}
	for _, tt := range tests {
		p := b.tryLogin(tt.user, tt.token)
		if p.Status != tt.wantStatus {
			t.Errorf("%s: %d, want %d", tt.name, p.Status, tt.wantStatus)
		}
		for _, c := range p.Header.Values("Set-Cookie") {
			if strings.HasPrefix(c, "triage_admin_session=") {
				t.Errorf("%s: a session cookie was set: %s", tt.name, c)
			}
		}
		if tt.token != "" && strings.Contains(p.Body, tt.token) {
			t.Errorf("%s: the page repeats the token", tt.name)
		}
		if g := b.get("/"); g.Status != http.StatusSeeOther || g.Location != "/login" {
			t.Errorf("%s: then GET / = %d %q, want 303 /login", tt.name, g.Status, g.Location)
		}
	}
	// a login form from another site (no pre-login cookie, or another
	// one's token) is refused before the token is even looked at
	stranger := e.browser()
	p := stranger.post("/login", url.Values{"csrf": {"x"}, "name": {"Eve"}, "token": {testToken}})
	if p.Status != http.StatusForbidden || stranger.cookie("triage_admin_session") != nil {
		t.Errorf("login without the form's token: %d, cookie %v; want 403 and no session", p.Status, stranger.cookie("triage_admin_session"))
	}
}

func TestFailedLoginsAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *admin.Config) { c.ClientIPHeader = "X-Real-IP" })
	from := func(ip string) *browser {
		b := e.browser()
		b.c.Transport = headerTransport{"X-Real-IP", ip}
		return b
	}
	mallory := from("203.0.113.9")
	for i := 1; i <= 5; i++ {
		if p := mallory.tryLogin("Mallory", "wrong-token-number-"+string(rune('0'+i))); p.Status != http.StatusUnauthorized {
			t.Fatalf("failed login %d: %d, want 401", i, p.Status)
		}
	}
	p := mallory.tryLogin("Mallory", "wrong-token-number-6")
	if p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") != "12" {
		t.Errorf("6th failed login: %d, Retry-After %q; want 429, 12", p.Status, p.Header.Get("Retry-After"))
	}
	// blocked means blocked for wrong tokens, on the API too
	req, _ := http.NewRequest("GET", e.srv.URL+"/api/escalations/counts", nil)
	req.Header.Set("Authorization", "Bearer wrong-token-number-7")
	if p := mallory.do(req); p.Status != http.StatusTooManyRequests || p.Header.Get("Retry-After") == "" {
		t.Errorf("the API with a wrong token while blocked: %d, Retry-After %q; want 429", p.Status, p.Header.Get("Retry-After"))
	}
	// but the right token always gets in (issue 14: an attacker sharing
	// the admin's address must not lock the admin out)
	from("203.0.113.9").login("Ada Admin")
	req.Header.Set("Authorization", "Bearer "+testToken)
	if p := mallory.do(req); p.Status != http.StatusOK {
		t.Errorf("the API with the right token while blocked: %d, want 200", p.Status)
	}
	// another address is not affected
	if p := from("198.51.100.7").tryLogin("Bob", "wrong-token-number-8"); p.Status != http.StatusUnauthorized {
		t.Errorf("a wrong token from another address: %d, want 401", p.Status)
	}
	// and the bucket refills: one attempt every 12 s
	e.clock.Advance(12 * time.Second)
	if p := mallory.tryLogin("Mallory", "wrong-token-number-9"); p.Status != http.StatusUnauthorized {
		t.Errorf("a wrong token 12 s later: %d, want 401", p.Status)
	}
	if !strings.Contains(e.logs.String(), `"client_ip":"203.0.113.9"`) {
		t.Errorf("the failed logins were not logged with the client's IP:\n%s", e.logs)
	}
}

// TestRightTokenAlwaysGetsIn: 50 failed logins and bearer attempts from
// the admin's own address (the connection's: no proxy is trusted), then
// the right token: it gets in, on the page and on the API.
func TestRightTokenAlwaysGetsIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	attacker := e.browser()
	limited := 0
	for i := 0; i < 50; i++ {
		status := 0
		if i%2 == 0 {
			status = attacker.tryLogin("Mallory", fmt.Sprintf("wrong-token-%02d-xxxxxxxx", i)).Status
		} else {
			status, _, _ = e.api("GET", "/api/escalations/counts", fmt.Sprintf("wrong-token-%02d-xxxxxxxx", i), "")
		}
		switch status {
		case http.StatusTooManyRequests:
			limited++
		case http.StatusUnauthorized:
		default:
			t.Fatalf("failed attempt %d: %d, want 401 or 429", i, status)
		}
	}
	if limited < 40 {
		t.Errorf("only %d of 50 failed attempts were limited", limited)
	}
	admin := e.browser()
	if p := admin.tryLogin("Ada Admin", testToken); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("the right token after 50 failures: %d %q, want 303 to /", p.Status, p.Location)
	}
	if p := admin.get("/"); p.Status != http.StatusOK {
		t.Errorf("the queue after signing in: %d", p.Status)
	}
	if status, data, _ := e.api("GET", "/api/escalations/counts", testToken, ""); status != http.StatusOK {
		t.Errorf("the API with the right token after 50 failures: %d %s", status, data)
	}
}

// TestTrustedProxies: X-Forwarded-For names the client only when the
// request comes from a trusted proxy.
func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		proxies []string
		xff     []string // one a request; the 6th failure must be limited, the 7th (last) not
	}{
		{"behind a trusted proxy, per client", []string{"127.0.0.0/8", "10.0.0.0/8"}, []string{
			"198.51.100.1, 203.0.113.9", "203.0.113.9", "192.0.2.1, 203.0.113.9, 10.1.2.3", "203.0.113.9", "203.0.113.9", "203.0.113.9", "203.0.113.10"}},
		{"direct: a forged header counts for nothing", []string{"10.0.0.0/8"}, []string{
			"203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4", "203.0.113.5", "203.0.113.6", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *admin.Config) { c.TrustedProxies = tt.proxies })
			for i, xff := range tt.xff {
				b := e.browser()
				if xff != "" {
					b.c.Transport = headerTransport{"X-Forwarded-For", xff}
				}
				p := b.tryLogin("Mallory", "wrong-token-wrong-token")
				want := http.StatusUnauthorized
				if i == 5 {
					want = http.StatusTooManyRequests
				}
				if i == len(tt.xff)-1 && len(tt.proxies) == 1 {
					want = http.StatusTooManyRequests // still the same connection address
				}
				if p.Status != want {
					t.Errorf("attempt %d (X-Forwarded-For %q): %d, want %d", i, xff, p.Status, want)
				}
			}
		})
	}
	if _, err := admin.New(admin.Config{Token: testToken, TrustedProxies: []string{"10.0.0.0/33"}}, &escalation.Service{}); err == nil || !strings.Contains(err.Error(), "TRIAGE_TRUSTED_PROXIES") {
		t.Errorf("a bad CIDR: %v", err)
	}
}

// headerTransport sets a header on every request.
type headerTransport struct{ name, value string }

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(h.name, h.value)
	return http.DefaultTransport.RoundTrip(r)
}

func TestTamperedOrExpiredCookieIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login("Ada Admin")
	good := b.cookie("triage_admin_session").Value
	parts := strings.Split(good, ".")
	if len(parts) != 5 {
		t.Fatalf("session cookie %q: want 5 dot-separated parts", good)
	}
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, ".")
	}
	// a session signed under another token
	otherSrv, err := admin.New(admin.Config{Token: "another-admin-token-0123456789", Now: e.clock.Now}, e.svc)
	if err != nil {
		t.Fatal(err)
	}
	foreign := sessionFrom(t, otherSrv, e.clock)
	tests := []struct {
		name, value string
	}{
		{"another name", with(1, "TWFsbG9yeQ")}, // "Mallory"
		{"a later expiry", with(3, "9999999999")},
		{"no signature", strings.Join(parts[:4], ".")},
		{"a flipped signature", with(4, flip(parts[4]))},
		{"another version", with(0, "v2")},
		{"garbage", "not-a-cookie"},
		{"empty parts", "...."},
		{"signed with another token", foreign},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("GET", e.srv.URL+"/", nil)
		req.AddCookie(&http.Cookie{Name: "triage_admin_session", Value: tt.value})
		p := e.browser().do(req)
		if p.Status != http.StatusSeeOther || p.Location != "/login" {
			t.Errorf("%s: %d %q, want 303 /login", tt.name, p.Status, p.Location)
		}
	}
	// a replica with the same token accepts the session
	replica, err := admin.New(admin.Config{Token: testToken, Now: e.clock.Now}, e.svc)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.AddCookie(&http.Cookie{Name: "triage_admin_session", Value: good})
	rec := httptest.NewRecorder()
	replica.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Errorf("a replica with the same token: %d, want 200", rec.Code)
	}
	// sessions end after 8 hours
	e.clock.Advance(8*time.Hour - time.Second)
	if p := b.get("/"); p.Status != http.StatusOK {
		t.Errorf("just before expiry: %d, want 200", p.Status)
	}
	e.clock.Advance(time.Second)
	if p := b.get("/"); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Errorf("expired session: %d %q, want 303 /login", p.Status, p.Location)
	}
}

// sessionFrom logs in to a server directly and returns the session cookie.
func sessionFrom(t *testing.T, h http.Handler, c *clock) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/login", nil))
	var login *http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "triage_admin_login" {
			login = ck
		}
	}
	if login == nil {
		t.Fatal("no pre-login cookie")
	}
	form := url.Values{"csrf": {csrf(t, rec.Body.String())}, "name": {"Other"}, "token": {"another-admin-token-0123456789"}}
	req := httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(login)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	for _, ck := range rec.Result().Cookies() {
		if ck.Name == "triage_admin_session" && ck.Value != "" {
			return ck.Value
		}
	}
	t.Fatalf("no session from the other server: %d", rec.Code)
	return ""
}

func flip(s string) string {
	if s == "" {
		return "A"
	}
	c := byte('A')
	if s[0] == 'A' {
		c = 'B'
	}
	return string(c) + s[1:]
}

func TestSessionCookieAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		name       string
		secureCfg  bool
		target     string
		wantSecure bool
	}{
		{"plain HTTP", false, "http://admin.example/login", false},
		{"over TLS", false, "https://admin.example/login", true},
		{"TLS ended at a proxy, Secure configured", true, "http://admin.example/login", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, err := admin.New(admin.Config{Token: testToken, Secure: tt.secureCfg}, e.svc)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, httptest.NewRequest("GET", tt.target, nil))
			login := rec.Result().Cookies()[0]
			form := url.Values{"csrf": {csrf(t, rec.Body.String())}, "name": {"Ada"}, "token": {testToken}}
			req := httptest.NewRequest("POST", tt.target, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(login)
			rec = httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			var got *http.Cookie
			for _, c := range rec.Result().Cookies() {
				if c.Name == "triage_admin_session" {
					got = c
				}
			}
			if got == nil {
				t.Fatalf("no session cookie: %d", rec.Code)
			}
			type attrs struct {
				HttpOnly, Secure bool
				SameSite         http.SameSite
				Path             string
				MaxAge           int
			}
			want := attrs{HttpOnly: true, Secure: tt.wantSecure, SameSite: http.SameSiteLaxMode, Path: "/", MaxAge: 8 * 3600}
			if diff := cmp.Diff(want, attrs{got.HttpOnly, got.Secure, got.SameSite, got.Path, got.MaxAge}); diff != "" {
				t.Errorf("session cookie (-want +got)\n%s", diff)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-3", "mfa-reset", time.Hour)
	b := e.browser()
	b.login("Ada Admin")
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
	tests := []struct {
		name      string
		get       func() http.Header
		wantCache string
	}{
		{"login page", func() http.Header { return e.browser().get("/login").Header }, "no-store"},
		{"redirect to login", func() http.Header { return e.browser().get("/").Header }, "no-store"},
		{"queue", func() http.Header { return b.get("/").Header }, "no-store"},
		{"detail", func() http.Header { return b.get("/escalations/" + id).Header }, "no-store"},
		{"not found page", func() http.Header { return b.get("/escalations/HD-404:mfa-reset").Header }, "no-store"},
		{"API", func() http.Header { _, _, h := e.api("GET", "/api/escalations", testToken, ""); return h }, "no-store"},
		{"API 401", func() http.Header { _, _, h := e.api("GET", "/api/escalations", "", ""); return h }, "no-store"},
		{"stylesheet", func() http.Header { return b.get("/static/admin.css").Header }, "public, max-age=300"},
	}
	for _, tt := range tests {
		h := tt.get()
		got := map[string]string{}
		for k := range want {
			got[k] = h.Get(k)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: headers (-want +got)\n%s", tt.name, diff)
		}
		if h.Get("Cache-Control") != tt.wantCache {
			t.Errorf("%s: Cache-Control %q, want %q", tt.name, h.Get("Cache-Control"), tt.wantCache)
		}
	}
}

// TestNoPageHasInlineScriptOrStyle keeps the pages within the CSP.
func TestNoPageHasInlineScriptOrStyle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *admin.Config) { c.Decisions = &fakeDecisions{days: weekOfDecisions()} })
	id := e.seed("HD-4", "mfa-reset", time.Hour)
	b := e.browser()
	pages := map[string]string{"login": e.browser().get("/login").Body}
	b.login("Ada Admin")
	pages["queue"] = b.get("/").Body
	pages["detail"] = b.get("/escalations/" + id).Body
	pages["decisions"] = b.get("/decisions").Body
	for name, body := range pages {
		for _, bad := range []string{"<script", " style=", "<style", "javascript:", " on"} {
			if bad == " on" {
				// event handler attributes
				for _, ev := range []string{" onclick=", " onload=", " onsubmit=", " onerror="} {
					if strings.Contains(body, ev) {
						t.Errorf("%s page has %q", name, ev)
					}
				}
				continue
			}
			if strings.Contains(body, bad) {
				t.Errorf("%s page has %q", name, bad)
			}
		}
	}
}

func TestTokenNeverInLogsOrPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *admin.Config) { c.Logger = c.Logger.Level(zerolog.DebugLevel) })
	id := e.seed("HD-5", "mfa-reset", time.Hour)
	wrong := "wrong-but-secret-token-55555"
	var bodies []string
	b := e.browser()
	bodies = append(bodies, b.tryLogin("Ada Admin", wrong).Body)
	b.login("Ada Admin")
	session := b.cookie("triage_admin_session").Value
	bodies = append(bodies, b.get("/").Body, b.get("/escalations/"+id).Body)
	tok := csrf(t, bodies[len(bodies)-1])
	bodies = append(bodies, b.post("/escalations/"+id+"/ack", url.Values{"csrf": {tok}}).Body)
	bodies = append(bodies, b.post("/escalations/"+id+"/done", url.Values{}).Body) // refused
	bodies = append(bodies, b.post("/escalations/"+id+"/done", url.Values{"csrf": {tok}}).Body)
	bodies = append(bodies, b.get("/escalations/"+id+"?flash=done").Body)
	for _, tk := range []string{testToken, wrong} {
		_, data, _ := e.api("GET", "/api/escalations?status=done", tk, "")
		bodies = append(bodies, string(data))
		_, data, _ = e.api("POST", "/api/escalations/"+id+"/done", tk, `{"actor":"script"}`)
		bodies = append(bodies, string(data))
	}
	logs := e.logs.String()
	for _, secret := range []string{testToken, wrong, session} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain a secret %.8s…:\n%s", secret, logs)
		}
		for i, body := range bodies {
			if strings.Contains(body, secret) {
				t.Errorf("answer %d contains a secret %.8s…", i, secret)
			}
		}
	}
	// what the logs do say, in snake_case
	for _, want := range []string{`"escalation_id":"HD-5:mfa-reset"`, `"issue_key":"HD-5"`, `"actor":"Ada Admin"`, `"action":"done"`, `"message":"failed admin login: wrong token"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s:\n%s", want, logs)
		}
	}
	if _, err := e.svc.Get(context.Background(), id); err != nil {
		t.Fatal(err)
	}
}

// brokenRevocations fails every call, as a Redis that is down would.
type brokenRevocations struct{}

func (brokenRevocations) Revoke(context.Context, string, time.Time) error {
	return errors.New("redis: connection refused")
}
func (brokenRevocations) Revoked(context.Context, string) (bool, error) {
	return false, errors.New("redis: connection refused")
}

// TestLogoutRevokesCopiesOfTheCookie: a cookie copied before the logout
// (another browser, a stolen laptop's profile) stops working with it.
func TestLogoutRevokesCopiesOfTheCookie(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		revocations bool
		wantCopy    int // GET / with the copied cookie after the logout
	}{
		{"revocations in Redis", true, http.StatusSeeOther},
		{"no revocations: the cookie is only cleared", false, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *admin.Config) {
				if tt.revocations {
					c.Revocations = redisstore.New(redistest.Client(t), redisstore.Config{Prefix: "admin-test:" + redistest.ID(t) + ":"})
				}
			})
			b := e.browser()
			tok := b.login("Ada Admin")
			stolen := e.browser()
			u, _ := url.Parse(e.srv.URL)
			stolen.c.Jar.SetCookies(u, []*http.Cookie{b.cookie("triage_admin_session")})
			if p := stolen.get("/"); p.Status != http.StatusOK {
				t.Fatalf("the copied cookie before the logout: %d, want 200", p.Status)
			}
			if p := b.post("/logout", url.Values{"csrf": {tok}}); p.Status != http.StatusSeeOther || p.Location != "/login" {
				t.Fatalf("logout: %d %q", p.Status, p.Location)
			}
			if p := stolen.get("/"); p.Status != tt.wantCopy {
				t.Errorf("the copied cookie after the logout: GET / = %d %q, want %d", p.Status, p.Location, tt.wantCopy)
			}
		})
	}
}

// TestSessionsFailClosedWhenRevocationsCannotBeRead: with the revocation
// store down, no session is honoured (a signed-out cookie must not work).
func TestSessionsFailClosedWhenRevocationsCannotBeRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *admin.Config) { c.Revocations = brokenRevocations{} })
	b := e.browser()
	if p := b.tryLogin("Ada Admin", testToken); p.Status != http.StatusSeeOther || p.Location != "/" {
		t.Fatalf("login: %d %q, want 303 to /", p.Status, p.Location)
	}
	if p := b.get("/"); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Errorf("GET / with the revocation store down: %d %q, want 303 /login", p.Status, p.Location)
	}
	if !strings.Contains(e.logs.String(), "admin session check failed") {
		t.Errorf("the failure was not logged:\n%s", e.logs.String())
	}
}

// TestHSTSWhenSecure: with secure cookies (TLS at a proxy in front) every
// response asks the browser to stay on HTTPS; without, none does.
func TestHSTSWhenSecure(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{true, false} {
		e := newEnv(t, func(c *admin.Config) { c.Secure = secure })
		got := e.browser().get("/login").Header.Get("Strict-Transport-Security")
		if secure && got != "max-age=31536000" || !secure && got != "" {
			t.Errorf("secure %v: Strict-Transport-Security %q", secure, got)
		}
	}
}

// TestAPIRequiresJSON: a body sent as anything but application/json is
// refused with 415 before it is read.
func TestAPIRequiresJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-7", "mfa-reset", time.Hour)
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/escalations/"+id+"/ack", strings.NewReader(`{"actor":"x"}`))
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain body: %d, want 415", resp.StatusCode)
	}
	if code, body, _ := e.api("POST", "/api/escalations/"+id+"/ack", testToken, `{"actor":"x"}`); code != http.StatusOK {
		t.Errorf("application/json body: %d %s", code, body)
	}
}
