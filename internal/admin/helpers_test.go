package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/logtest"
	"github.com/mfatriage/triage/internal/redistest"
	"github.com/mfatriage/triage/templates"
)

// testToken is the admin token of every test server. No test output may
// contain it except where a test sends it.
const testToken = "adm1n-T0ken-for-the-tests-7f3c9a2e"

var (
	botUser = jiratest.User{AccountID: "acc-bot", DisplayName: "Triage Bot"}
	alice   = jiratest.User{AccountID: "acc-alice", DisplayName: "Alice Reporter"}
)

var (
	tmplOnce sync.Once
	tmplSet  *templates.Set
	tmplErr  error
)

func sharedTemplates(t *testing.T) *templates.Set {
	t.Helper()
	tmplOnce.Do(func() { tmplSet, tmplErr = templates.Load("") })
	if tmplErr != nil {
		t.Fatal(tmplErr)
	}
	return tmplSet
}

// clock is a settable clock shared by the admin server and the service.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is an admin server on a real Redis (own key prefix) and the real
// escalation service, writing to a fake Jira over HTTP through the real
// adapter.
type env struct {
	t      *testing.T
	rdb    *redis.Client
	prefix string
	store  *escalation.Store
	svc    *escalation.Service
	jira   *jiratest.Server
	clock  *clock
	logs   *logtest.Buffer
	admin  *admin.Server
	srv    *httptest.Server
}

// newEnv starts an env; cfg adjusts the admin configuration (the token,
// logger and clock are set first).
func newEnv(t *testing.T, cfg ...func(*admin.Config)) *env {
	t.Helper()
	return newEnvWith(t, escalation.ServiceConfig{}, cfg...)
}

// newEnvWith starts an env whose escalation service has svc's
// configuration (the bot's account and the clock are set).
func newEnvWith(t *testing.T, svc escalation.ServiceConfig, cfg ...func(*admin.Config)) *env {
	t.Helper()
	rdb := redistest.Client(t)
	e := &env{
		t:      t,
		rdb:    rdb,
		prefix: redistest.Prefix(t, rdb),
		clock:  &clock{now: time.Now().UTC().Truncate(time.Second)},
		logs:   &logtest.Buffer{},
		jira:   jiratest.New(jiratest.WithBasicAuth("bot@example.com", "jira-tok", botUser), jiratest.WithUsers(alice)),
	}
	t.Cleanup(e.jira.Close)
	jc, err := jira.New(jira.Config{BaseURL: e.jira.URL(), Email: "bot@example.com", APIToken: "jira-tok"})
	if err != nil {
		t.Fatal(err)
	}
	e.store = escalation.New(rdb, e.prefix)
	svc.Now, svc.BotAccountID = e.clock.Now, botUser.AccountID
	e.svc = escalation.NewService(e.store, jira.NewTriage(jc), sharedTemplates(t), svc)
	c := admin.Config{Token: testToken, Logger: zerolog.New(e.logs), Now: e.clock.Now}
	for _, f := range cfg {
		f(&c)
	}
	if e.admin, err = admin.New(c, e.svc); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(e.admin)
	t.Cleanup(e.srv.Close)
	return e
}

// seed creates an escalation (and its ticket in the fake Jira) created age
// ago, with evidence; it returns the escalation's id.
func (e *env) seed(key, reason string, age time.Duration) string {
	e.t.Helper()
	if _, ok := e.jira.Issue(key); !ok {
		e.jira.AddIssue(jiratest.Issue{Key: key, Summary: "Authenticator on my new phone", Reporter: alice})
	}
	created := e.clock.Now().Add(-age)
	_, err := e.store.Create(context.Background(), triage.Escalation{
		Key: key, Link: e.jira.URL() + "/browse/" + key, ReporterID: alice.AccountID, ReporterName: alice.DisplayName,
		Reason: reason, Categories: []string{classifier.CatNewDevice}, Platform: "ios",
		Evidence: []classifier.Evidence{
			{Kind: "signal", Label: classifier.SigLostDevice, Rule: "lost phone", Text: "I lost my phone on the train", Where: "description"},
			{Kind: "signal", Label: classifier.SigResetMFA, Rule: "reset mfa", Text: "please reset my MFA", Where: "comment", Comment: 2},
			{Kind: "platform", Label: "ios", Rule: "iphone", Text: "iPhone", Where: "signature"},
		},
		StepsSent:       []triage.SentStep{{Category: classifier.CatNewDevice, At: created.Add(-2 * time.Hour)}},
		ReporterReplies: []string{"I have no other phone, I cannot sign in at all"},
		CreatedAt:       created,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return key + ":" + reason
}

func (e *env) record(id string) escalation.Record {
	e.t.Helper()
	r, err := e.svc.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see every 303.
type browser struct {
	e *env
	c *http.Client
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// page is an answer: status, Location, body.
type page struct {
	Status   int
	Location string
	Body     string
	Header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.e.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{Status: res.StatusCode, Location: res.Header.Get("Location"), Body: string(body), Header: res.Header}
}

func (b *browser) get(path string) page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values) page {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of a page's forms.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

// tryLogin fills the login form.
func (b *browser) tryLogin(name, token string) page {
	b.e.t.Helper()
	form := b.get("/login")
	if form.Status != http.StatusOK {
		b.e.t.Fatalf("GET /login: %d", form.Status)
	}
	return b.post("/login", url.Values{"csrf": {csrf(b.e.t, form.Body)}, "name": {name}, "token": {token}})
}

// login signs in as name and returns the session's CSRF token.
func (b *browser) login(name string) string {
	b.e.t.Helper()
	p := b.tryLogin(name, testToken)
	if p.Status != http.StatusSeeOther || p.Location != "/" {
		b.e.t.Fatalf("login: %d %q, want 303 to /:\n%s", p.Status, p.Location, p.Body)
	}
	q := b.get("/")
	if q.Status != http.StatusOK {
		b.e.t.Fatalf("GET / after login: %d", q.Status)
	}
	return csrf(b.e.t, q.Body)
}

func (b *browser) cookie(name string) *http.Cookie {
	u, _ := url.Parse(b.e.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// api calls the JSON API with a bearer token ("" for none).
func (e *env) api(method, path, token, body string) (int, []byte, http.Header) {
	e.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data, res.Header
}

func decode[T any](t *testing.T, data []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return v
}

// publicComments and internalComments split the fake Jira's comments.
func (e *env) comments(key string) (public, internal []jiratest.Comment) {
	for _, c := range e.jira.Comments(key) {
		if c.Internal {
			internal = append(internal, c)
		} else {
			public = append(public, c)
		}
	}
	return public, internal
}

func escalationWithoutLink(key string, at time.Time) triage.Escalation {
	return triage.Escalation{Key: key, Reason: "requested", CreatedAt: at}
}

// seedSecurity creates a security escalation whose ticket is in
// Portuguese, with the reporter's own words (accents and all) in Jira and
// the classifier's folded matching form in the evidence; it returns the
// escalation's id.
func (e *env) seedSecurity(key string, age time.Duration) string {
	e.t.Helper()
	e.jira.AddIssue(jiratest.Issue{
		Key: key, Summary: "Aprovei sem querer um pedido de login", Reporter: alice,
		Description: "Recebi uns 10 pedidos de aprovação às 3h da manhã.\nNão fui eu! Estava a dormir.",
		Comments:    []jiratest.Comment{{Author: botUser, Body: "Não fui eu — quoted by the bot, not the reporter"}},
	})
	_, err := e.store.Create(context.Background(), triage.Escalation{
		Key: key, Link: e.jira.URL() + "/browse/" + key, ReporterID: alice.AccountID, ReporterName: alice.DisplayName,
		Reason: triage.ReasonSecurity, Security: true, Language: "pt", Categories: []string{classifier.CatAuthenticatorSignIn}, Platform: "unknown",
		Evidence: []classifier.Evidence{
			{Kind: "category", Label: classifier.CatAuthenticatorSignIn, Rule: "pedido de aprovacao", Text: "pedidos de aprovacao as 3h", Where: "description"},
			{Kind: "signal", Label: classifier.SigSecurity, Rule: "nao fui eu", Text: "nao fui eu", Where: "description"},
			{Kind: "signal", Label: classifier.SigSecurity, Rule: "aprovei sem querer", Text: "aprovei sem querer", Where: "summary"},
			{Kind: "category", Label: classifier.CatAuthenticatorSignIn, Rule: "nao fui eu", Text: "nao  fui eu", Where: "description"},
		},
		CreatedAt: e.clock.Now().Add(-age),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return key + ":" + triage.ReasonSecurity
}
