package admin_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/graph"
	"github.com/mfatriage/triage/internal/graph/graphtest"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/logtest"
)

// resetEnv is an env whose service resets MFA through a fake Graph that
// holds alice with the standard methods; graphLogs has the Graph client's
// lines.
type resetEnv struct {
	*env
	graph     *graphtest.Server
	graphLogs *logtest.Buffer
}

func newResetEnv(t *testing.T) *resetEnv {
	t.Helper()
	g := graphtest.Start()
	t.Cleanup(g.Close)
	g.AddUser(graphtest.User{UPN: "alice@example.com", DisplayName: "Alice Reporter", Enabled: true, LastSignIn: time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)}, graphtest.StandardMethods()...)
	logs := &logtest.Buffer{}
	dir, err := graph.New(graph.Config{BaseURL: g.URL(), Tokens: graph.StaticToken(graphtest.Token), Logger: zerolog.New(logs), Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return &resetEnv{env: newEnvWith(t, escalation.ServiceConfig{Directory: dir}), graph: g, graphLogs: logs}
}

// seedReset creates an MFA-reset escalation of alice's, her e-mail
// recorded as Jira gave it; it returns the escalation's id.
func (e *resetEnv) seedReset(key string) string {
	e.t.Helper()
	e.jira.AddIssue(jiratest.Issue{Key: key, Summary: "New phone, cannot sign in", Reporter: alice})
	_, err := e.store.Create(context.Background(), triage.Escalation{
		Key: key, ReporterID: alice.AccountID, ReporterName: alice.DisplayName, ReporterEmail: "alice@example.com",
		Reason: triage.ReasonMFAReset, Categories: []string{classifier.CatNewDevice}, Platform: "ios", Language: "en",
		CreatedAt: e.clock.Now().Add(-time.Hour),
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return key + ":" + triage.ReasonMFAReset
}

func (e *resetEnv) deletes() int {
	n := 0
	for _, c := range e.graph.Calls() {
		if c.Method == http.MethodDelete {
			n++
		}
	}
	return n
}

// noPassAnywhere fails when a pass the fake issued is in the logs, in
// any key or value of the test's Redis data, or in a comment on key.
func (e *resetEnv) noPassAnywhere(key string) {
	e.t.Helper()
	passes := e.graph.IssuedTAPs()
	if len(passes) == 0 {
		e.t.Fatal("the fake issued no pass")
	}
	ctx := context.Background()
	var data strings.Builder
	keys, err := e.rdb.Keys(ctx, e.prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		e.t.Fatalf("the test's Redis data: %v keys, %v", len(keys), err)
	}
	for _, k := range keys {
		data.WriteString(k + "\n")
		switch typ := e.rdb.Type(ctx, k).Val(); typ {
		case "string":
			data.WriteString(e.rdb.Get(ctx, k).Val())
		case "list":
			data.WriteString(strings.Join(e.rdb.LRange(ctx, k, 0, -1).Val(), "\n"))
		case "hash":
			for f, v := range e.rdb.HGetAll(ctx, k).Val() {
				data.WriteString(f + "=" + v + "\n")
			}
		case "zset":
			data.WriteString(strings.Join(e.rdb.ZRange(ctx, k, 0, -1).Val(), "\n"))
		case "set":
			data.WriteString(strings.Join(e.rdb.SMembers(ctx, k).Val(), "\n"))
		default:
			e.t.Errorf("key %s of type %s not read", k, typ)
		}
	}
	if !strings.Contains(data.String(), "esc:mfa-reset:") {
		e.t.Errorf("the Redis data lacks the reset's record:\n%s", data.String())
	}
	for _, p := range passes {
		for where, text := range map[string]string{"the admin logs": e.logs.String(), "the Graph logs": e.graphLogs.String(), "the Redis data": data.String()} {
			if strings.Contains(text, p) {
				e.t.Errorf("the pass %q is in %s", p, where)
			}
		}
		for _, c := range e.jira.Comments(key) {
			if strings.Contains(c.Body, p) {
				e.t.Errorf("the pass is in a Jira comment")
			}
		}
	}
}

func TestAPIResetMFA(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t)
	id := e.seedReset("HD-40")
	path := "/api/escalations/" + url.PathEscape(id) + "/mfa-reset"

	status, body, _ := e.api(http.MethodGet, path+"?user=alice@example.com", testToken, "")
	if status != http.StatusOK {
		t.Fatalf("look-up: %d %s", status, body)
	}
	look := decode[admin.LookUpResponse](t, body)
	if look.User.DisplayName != "Alice Reporter" || !look.User.SignInKnown || len(look.Methods) != 5 {
		t.Errorf("look-up %+v", look)
	}

	req := `{"user": "alice@example.com", "remove": ["authenticator", "fido2"], "tap": true, "actor": "ada"}`
	status, body, _ = e.api(http.MethodPost, path, testToken, req)
	if status != http.StatusOK {
		t.Fatalf("reset: %d %s", status, body)
	}
	first := decode[admin.ResetResponse](t, body)
	if !first.Changed || first.TemporaryAccessPass == nil || first.TemporaryAccessPass.Pass != e.graph.IssuedTAPs()[0] || first.Record.Status != escalation.StatusDone {
		t.Errorf("first reset: %s", body)
	}
	status, body, _ = e.api(http.MethodPost, path, testToken, req)
	again := decode[admin.ResetResponse](t, body)
	if status != http.StatusOK || again.Changed || again.TemporaryAccessPass != nil {
		t.Errorf("the same reset again: %d %s; want a no-op without a pass", status, body)
	}
	if e.deletes() != 2 || len(e.graph.IssuedTAPs()) != 1 {
		t.Errorf("%d DELETEs and %d passes, want 2 and 1", e.deletes(), len(e.graph.IssuedTAPs()))
	}
	want := []string{graphtest.TypePhone, graphtest.TypeSoftwareOath, graphtest.TypePassword, graphtest.TypeTAP}
	if diff := cmp.Diff(want, e.graph.Methods("alice@example.com")); diff != "" {
		t.Errorf("methods left (-want, +got):\n%s", diff)
	}
	if public, internal := e.comments("HD-40"); len(public) != 1 || len(internal) != 0 {
		t.Errorf("%d public and %d internal comments, want one reporter comment", len(public), len(internal))
	}
	e.noPassAnywhere("HD-40")
}

func TestAPIResetMFAErrors(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t)
	id := e.seedReset("HD-41")
	path := "/api/escalations/" + url.PathEscape(id) + "/mfa-reset"
	tests := []struct {
		name       string
		perms      []string
		method     string
		path, body string
		status     int
		want       string
	}{
		{"unknown user", graphtest.DefaultPermissions, http.MethodPost, path, `{"user": "nobody@example.com", "tap": true}`, http.StatusNotFound, "no such user in Entra ID"},
		{"unknown user, look-up", graphtest.DefaultPermissions, http.MethodGet, path + "?user=nobody@example.com", "", http.StatusNotFound, "no such user in Entra ID"},
		{"no permission", []string{graphtest.PermUsers}, http.MethodPost, path, `{"user": "alice@example.com"}`, http.StatusBadGateway, "lacks the application permission UserAuthenticationMethod.ReadWrite.All"},
		{"no permission, look-up", []string{graphtest.PermUsers}, http.MethodGet, path + "?user=alice@example.com", "", http.StatusBadGateway, "UserAuthenticationMethod.ReadWrite.All"},
		{"bad type", graphtest.DefaultPermissions, http.MethodPost, path, `{"user": "alice@example.com", "remove": ["password"]}`, http.StatusBadRequest, `unknown method type \"password\"`},
		{"not MFA", graphtest.DefaultPermissions, http.MethodPost, "/api/escalations/" + url.PathEscape(e.seed("HD-42", "password-reset", time.Hour)) + "/mfa-reset", `{"user": "alice@example.com"}`, http.StatusConflict, "only an MFA-reset escalation"},
	}
	for _, tt := range tests {
		e.graph.Permissions(tt.perms...)
		status, body, _ := e.api(tt.method, tt.path, testToken, tt.body)
		if status != tt.status || !strings.Contains(string(body), tt.want) {
			t.Errorf("%s: %d %s; want %d with %q", tt.name, status, body, tt.status, tt.want)
		}
	}
	if e.deletes() != 0 || len(e.jira.Comments("HD-41")) != 0 {
		t.Errorf("the failures removed %d methods and posted %d comments", e.deletes(), len(e.jira.Comments("HD-41")))
	}
	if r := e.record(id); r.Status != escalation.StatusOpen {
		t.Errorf("status %s after the failures, want open", r.Status)
	}
}

// Without Graph the page offers no reset and the API says why.
func TestResetAbsentWithoutGraph(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-43", "mfa-reset", time.Hour)
	b := e.browser()
	b.login("ada")
	if p := b.get(escalationURL(id)); p.Status != http.StatusOK || strings.Contains(p.Body, "Reset MFA in Entra ID") {
		t.Errorf("detail page %d offers the reset without Graph", p.Status)
	}
	status, body, _ := e.api(http.MethodPost, "/api/escalations/"+url.PathEscape(id)+"/mfa-reset", testToken, `{"user": "a@example.com"}`)
	if status != http.StatusNotImplemented || !strings.Contains(string(body), "GRAPH_TENANT_ID") {
		t.Errorf("API without Graph: %d %s", status, body)
	}
}

// The reset's forms need the CSRF token and the confirmation: without
// either, nothing is removed.
func TestResetFormsNeedCSRFAndConfirmation(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t)
	id := e.seedReset("HD-44")
	b := e.browser()
	token := b.login("ada")
	form := url.Values{"upn": {"alice@example.com"}, "remove": {"authenticator", "passkey"}, "tap": {"on"}, "confirm": {"yes"}}
	if p := b.post(escalationURL(id)+"/mfa-reset", form); p.Status != http.StatusForbidden {
		t.Errorf("without the CSRF token: %d, want 403", p.Status)
	}
	form.Set("csrf", token)
	form.Del("confirm")
	if p := b.post(escalationURL(id)+"/mfa-reset", form); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "not confirmed") {
		t.Errorf("without the confirmation: %d", p.Status)
	}
	if e.deletes() != 0 || len(e.graph.IssuedTAPs()) != 0 {
		t.Errorf("%d DELETEs, %d passes; want none", e.deletes(), len(e.graph.IssuedTAPs()))
	}
	// the double submit: the same confirmed form twice
	form.Set("confirm", "yes")
	first := b.post(escalationURL(id)+"/mfa-reset", form)
	second := b.post(escalationURL(id)+"/mfa-reset", form)
	pass := e.graph.IssuedTAPs()
	if first.Status != http.StatusOK || len(pass) != 1 || strings.Count(first.Body, pass[0]) != 1 {
		t.Fatalf("first submit %d: the pass is not on it once", first.Status)
	}
	if second.Status != http.StatusOK || strings.Contains(second.Body, pass[0]) || !strings.Contains(second.Body, "Already done: nothing removed, nothing posted.") {
		t.Errorf("second submit %d:\n%s", second.Status, second.Body)
	}
	if e.deletes() != 2 || len(e.jira.Comments("HD-44")) != 1 {
		t.Errorf("%d DELETEs, %d comments; want 2 and 1", e.deletes(), len(e.jira.Comments("HD-44")))
	}
}

func escalationURL(id string) string { return "/escalations/" + url.PathEscape(id) }
