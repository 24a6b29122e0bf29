package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// queueKeys are the ticket keys of a queue page, in order.
func queueKeys(body string) []string {
	var keys []string
	for _, part := range strings.Split(body, `class="key">`)[1:] {
		keys = append(keys, part[:strings.Index(part, "<")])
	}
	return keys
}

// TestSecurityFirstWithItsOwnFilter: security escalations lead the queue
// whatever the order, carry a flag, have a filter of their own, and the
// API filters by reason=security too. Search and sorting work on the page
// and the API.
func TestSecurityFirstWithItsOwnFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seed("HD-41", "mfa-reset", 50*time.Hour)
	e.seed("HD-42", "password-reset", 30*time.Hour)
	e.seedSecurity("HD-43", 10*time.Minute)
	e.seed("HD-44", "followup-timeout", 20*time.Hour)
	b := e.browser()
	b.login("Ada Admin")
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"HD-43", "HD-41", "HD-42", "HD-44"}},
		{"?sort=newest", []string{"HD-43", "HD-44", "HD-42", "HD-41"}},
		{"?sort=reason", []string{"HD-43", "HD-41", "HD-42", "HD-44"}},
		{"?reason=security", []string{"HD-43"}},
		{"?q=hd-42", []string{"HD-42"}},
		{"?q=ALICE&sort=newest", []string{"HD-43", "HD-44", "HD-42", "HD-41"}},
		{"?q=nobody", nil},
	}
	for _, tt := range tests {
		p := b.get("/" + tt.query)
		if p.Status != http.StatusOK {
			t.Fatalf("%q: %d", tt.query, p.Status)
		}
		if diff := cmp.Diff(tt.want, queueKeys(p.Body)); diff != "" {
			t.Errorf("%q: rows (-want +got)\n%s", tt.query, diff)
		}
	}
	q := b.get("/?sort=newest&q=alice").Body
	mustContain(t, "the queue", q,
		`<tr class="security">`, "⚠ Security", "Security: possible attack",
		`href="/?q=alice&amp;reason=security&amp;sort=newest&amp;status=open"`, // the security filter keeps the search and order
		`<option value="security">Security: possible attack</option>`, `<option value="newest" selected>`, `value="alice"`,
		"newest first (security reports always on top)")
	if strings.Count(q, `class="security"`) != 1 {
		t.Errorf("%d rows flagged, want 1", strings.Count(q, `class="security"`))
	}
	mustContain(t, "the security filter", b.get("/?reason=security").Body, `<option value="security" selected>`, "Clear filters")
	for _, bad := range []string{"?sort=random", "?q=" + strings.Repeat("x", 101)} {
		if p := b.get("/" + bad); p.Status != http.StatusBadRequest {
			t.Errorf("%.40q: %d, want 400", bad, p.Status)
		}
	}

	status, data, _ := e.api("GET", "/api/escalations?reason=security", testToken, "")
	if page := decode[escalation.Page](t, data); status != 200 || page.Total != 1 || !page.Records[0].Security || page.Records[0].Key != "HD-43" {
		t.Errorf("API reason=security: %d %s", status, data)
	}
	status, data, _ = e.api("GET", "/api/escalations?sort=newest&q=alice&limit=2", testToken, "")
	if page := decode[escalation.Page](t, data); status != 200 || page.Total != 4 || len(page.Records) != 2 || page.Records[0].Key != "HD-43" || page.Records[1].Key != "HD-44" {
		t.Errorf("API newest with a search: %d %s", status, data)
	}
	if status, data, _ := e.api("GET", "/api/escalations?sort=random", testToken, ""); status != 400 || !strings.Contains(string(data), "sort") {
		t.Errorf("API bad sort: %d %s", status, data)
	}
}

// TestTicketPageShowsTheReporterAndTheDecidingEvidence: the ticket page
// shows the summary and the reporter's own text (never the bot's), lists
// each phrase once with the deciding signal first, in the reporter's own
// words.
func TestTicketPageShowsTheReporterAndTheDecidingEvidence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seedSecurity("HD-45", time.Hour)
	b := e.browser()
	b.login("Ada Admin")
	p := b.get("/escalations/" + id)
	mustContain(t, "the security page", p.Body,
		"Possible attack", "Aprovei sem querer um pedido de login", "<dt>Language</dt><dd>pt (Portuguese)</dd>",
		"Recebi uns 10 pedidos de aprovação às 3h da manhã.\nNão fui eu! Estava a dormir.",
		"<q>Não fui eu</q>", "<q>Aprovei sem querer</q>", "<q>pedidos de aprovação às 3h</q>")
	if strings.Contains(p.Body, "quoted by the bot") {
		t.Error("the bot's comment is shown as the reporter's text")
	}
	if n := strings.Count(p.Body, "<q>Não fui eu</q>"); n != 1 {
		t.Errorf("the phrase is listed %d times, want once", n)
	}
	deciding, other := strings.Index(p.Body, "<q>Não fui eu</q>"), strings.Index(p.Body, "<q>pedidos de aprovação")
	if deciding < 0 || other < 0 || deciding > other {
		t.Error("the deciding signal is not listed first")
	}
	// the MFA escalation: "still fails"-style signals before the platform
	mfa := e.seed("HD-46", "mfa-reset", time.Hour)
	body := b.get("/escalations/" + mfa).Body
	if a, c := strings.Index(body, "<q>please reset my MFA</q>"), strings.Index(body, "<q>iPhone</q>"); a < 0 || c < 0 || a > c {
		t.Error("the MFA escalation's deciding signal does not come before the platform")
	}
	// a ticket Jira cannot give still shows its escalation
	if _, err := e.store.Create(t.Context(), escalationWithoutLink("HD-47", e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	mustContain(t, "a ticket missing in Jira", b.get("/escalations/HD-47:requested").Body, "could not be read from Jira", "Actions")
}

// TestPasswordResetDoneFromThePage: a password escalation offers
// "Password reset done" (never the MFA one), and closing it from the page
// posts the password message once, whatever the clicks.
func TestPasswordResetDoneFromThePage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-48", triage.ReasonPasswordReset, time.Hour)
	b := e.browser()
	tok := b.login("Ada Admin")
	detail := b.get("/escalations/" + id).Body
	mustContain(t, "the password escalation", detail, "Password reset done…", "Yes: Password reset done", "their password was reset")
	if strings.Contains(detail, "MFA reset done") {
		t.Error("a password escalation offers \"MFA reset done\"")
	}
	// a double click: two posts at once, then a retry
	var wg sync.WaitGroup
	locations := make([]string, 2)
	for i := range locations {
		wg.Add(1)
		go func() {
			defer wg.Done()
			locations[i] = b.post("/escalations/"+id+"/done", url.Values{"csrf": {tok}}).Location
		}()
	}
	wg.Wait()
	retry := b.post("/escalations/"+id+"/done", url.Values{"csrf": {tok}})
	if retry.Location != "/escalations/HD-48:password-reset?flash=done-noop" {
		t.Errorf("the retry: %d %q", retry.Status, retry.Location)
	}
	dones := 0
	for _, l := range locations {
		switch {
		case strings.HasSuffix(l, "flash=password-done"):
			dones++
		case strings.HasSuffix(l, "flash=done-noop"), strings.HasSuffix(l, "flash=busy"):
		default:
			t.Errorf("a click of the double click went to %q", l)
		}
	}
	if dones != 1 {
		t.Errorf("the double click: %v; want one password-done", locations)
	}
	mustContain(t, "the page after done", b.get("/escalations/"+id+"?flash=password-done").Body, "Password reset done: the reporter was told.")
	public, internal := e.comments("HD-48")
	if len(public) != 1 || len(internal) != 0 || !strings.Contains(public[0].Body, "reset the password") || strings.Contains(public[0].Body, "(MFA)") {
		t.Fatalf("comments: public %+v, internal %+v; want one password-reset-done comment", public, internal)
	}
	if labels := e.jira.Labels("HD-48"); len(labels) != 1 || labels[0] != triage.LabelPasswordResetDone {
		t.Errorf("labels %v, want only %s", labels, triage.LabelPasswordResetDone)
	}
	// the API says the same
	status, data, _ := e.api("POST", "/api/escalations/"+id+"/done", testToken, "")
	if a := decode[admin.ActionResponse](t, data); status != 200 || a.Changed || a.Record.History[len(a.Record.History)-1].Note != "Password reset done" {
		t.Errorf("API done again: %d %s", status, data)
	}
}

// TestReturnedOffersNoDone: a returned escalation offers no "MFA reset
// done"; a done sent anyway is refused until an admin takes it back.
func TestReturnedOffersNoDone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-49", "mfa-reset", time.Hour)
	b := e.browser()
	tok := b.login("Ada Admin")
	if p := b.post("/escalations/"+id+"/return", url.Values{"csrf": {tok}, "note": {"licence, not MFA"}}); !strings.HasSuffix(p.Location, "flash=return") {
		t.Fatalf("return: %d %q", p.Status, p.Location)
	}
	detail := b.get("/escalations/" + id).Body
	if strings.Contains(detail, `/done"`) || strings.Contains(detail, "MFA reset done") {
		t.Error("a returned escalation offers \"MFA reset done\"")
	}
	mustContain(t, "the returned escalation", detail, "Take it back (acknowledge)", "cannot be closed from here")
	if p := b.post("/escalations/"+id+"/done", url.Values{"csrf": {tok}}); !strings.HasSuffix(p.Location, "flash=returned") {
		t.Errorf("done on a returned escalation: %d %q", p.Status, p.Location)
	}
	if status, data, _ := e.api("POST", "/api/escalations/"+id+"/done", testToken, ""); status != http.StatusConflict || !strings.Contains(string(data), "acknowledge it first") {
		t.Errorf("API done on a returned escalation: %d %s", status, data)
	}
	if public, _ := e.comments("HD-49"); len(public) != 0 {
		t.Errorf("the reporter was told: %+v", public)
	}
}

// TestSlowJiraWriteAndASecondClick: the comment's write waits out a rate
// limit for longer than the action's lock lives; the lock is renewed, so
// a second click meanwhile is told to wait, and one comment is posted.
func TestSlowJiraWriteAndASecondClick(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, escalation.ServiceConfig{LockTTL: 300 * time.Millisecond})
	id := e.seed("HD-50", "mfa-reset", time.Hour)
	b := e.browser()
	tok := b.login("Ada Admin")
	e.jira.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 2 * time.Second, Method: "PUT", Path: "/issue/HD-50"})
	first := make(chan page, 1)
	go func() { first <- b.post("/escalations/"+id+"/done", url.Values{"csrf": {tok}}) }()
	time.Sleep(time.Second)
	if p := b.post("/escalations/"+id+"/done", url.Values{"csrf": {tok}}); !strings.HasSuffix(p.Location, "flash=busy") {
		t.Errorf("the second click: %d %q, want busy", p.Status, p.Location)
	}
	if p := <-first; !strings.HasSuffix(p.Location, "flash=done") {
		t.Errorf("the first click: %d %q", p.Status, p.Location)
	}
	if public, _ := e.comments("HD-50"); len(public) != 1 {
		t.Errorf("%d reporter comments, want 1", len(public))
	}
}

// TestHostileTicketTextIsInert: what reporters wrote (read from Jira and
// from the record) and what a search holds is shown as text, never as
// markup.
func TestHostileTicketTextIsInert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	evil := `<script>alert(1)</script><img src=x onerror=alert(2)>"'`
	e.jira.AddIssue(jiratest.Issue{Key: "HD-51", Summary: "Hi " + evil, Description: "still fails " + evil, Reporter: alice,
		Comments: []jiratest.Comment{{Author: alice, Body: evil + " javascript:alert(3)"}}})
	if _, err := e.store.Create(t.Context(), triage.Escalation{
		Key: "HD-51", ReporterID: alice.AccountID, ReporterName: evil, Reason: triage.ReasonSecurity, CreatedAt: e.clock.Now(),
		Evidence:        []classifier.Evidence{{Kind: "signal", Label: "security" + evil, Text: "still fails " + evil, Where: "description"}},
		ReporterReplies: []string{evil},
	}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("Ada Admin")
	for _, path := range []string{"/", "/?q=" + url.QueryEscape(evil), "/escalations/HD-51:security"} {
		p := b.get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: %d", path, p.Status)
		}
		for _, bad := range []string{"<script", "<img"} {
			if strings.Contains(p.Body, bad) {
				t.Errorf("%s holds %q unescaped", path, bad)
			}
		}
		if !strings.Contains(p.Body, "&lt;script&gt;") && path != "/?q="+url.QueryEscape(evil) {
			t.Errorf("%s does not show the text escaped", path)
		}
	}
}
