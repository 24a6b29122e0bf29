package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/escalation"
)

// mustContain fails for every wanted text the page lacks.
func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
	if t.Failed() {
		t.Logf("%s:\n%s", what, body)
	}
}

func TestLoginQueueDetailDone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-7", "mfa-reset", 3*time.Hour+12*time.Minute)
	b := e.browser()
	b.login("Ada Admin")

	queue := b.get("/")
	mustContain(t, "the queue", queue.Body,
		`href="/escalations/HD-7:mfa-reset"`, ">HD-7<", "Alice Reporter", "MFA reset", "3h 12m",
		"I lost my phone on the train", "lost_device", "please reset my MFA", "+1 more",
		`Open <span class="count">1</span>`, `Done <span class="count">0</span>`, "Signed in as <strong>Ada Admin</strong>")

	detail := b.get("/escalations/" + id)
	mustContain(t, "the detail page", detail.Body,
		"I lost my phone on the train", "please reset my MFA", "comment 2", "signature", "reset_mfa",
		"new-device", "ios", "I have no other phone, I cannot sign in at all",
		"escalated by the bot", "triage", `href="`+e.jira.URL()+`/browse/HD-7"`,
		`action="/escalations/HD-7:mfa-reset/ack"`, `action="/escalations/HD-7:mfa-reset/done"`,
		`action="/escalations/HD-7:mfa-reset/return"`, "MFA reset done", "Return to agents", `<textarea id="note" name="note"`)
	if n := strings.Count(detail.Body, `name="csrf"`); n != 4 { // logout, ack, done, return
		t.Errorf("the detail page has %d forms with a CSRF token, want 4", n)
	}
	tok := csrf(t, detail.Body)

	p := b.post("/escalations/"+id+"/done", url.Values{"csrf": {tok}})
	if p.Status != http.StatusSeeOther || p.Location != "/escalations/HD-7:mfa-reset?flash=done" {
		t.Fatalf("done: %d %q, want 303 back to the detail page", p.Status, p.Location)
	}
	after := b.get(p.Location)
	mustContain(t, "the page after done", after.Body, "MFA reset done: the reporter was told", `status-done`, "Ada Admin")
	public, internal := e.comments("HD-7")
	if len(public) != 1 || len(internal) != 0 || !strings.Contains(public[0].Body, "Hi Alice") {
		t.Fatalf("comments: public %+v, internal %+v; want one reporter comment", public, internal)
	}
	if r := e.record(id); r.Status != escalation.StatusDone || r.History[len(r.History)-1].Actor != "Ada Admin" {
		t.Errorf("record: %s, history %+v", r.Status, r.History)
	}

	// pressing it again posts nothing
	p = b.post("/escalations/"+id+"/done", url.Values{"csrf": {tok}})
	if p.Location != "/escalations/HD-7:mfa-reset?flash=done-noop" {
		t.Errorf("second done: %d %q", p.Status, p.Location)
	}
	mustContain(t, "the page after a second done", b.get(p.Location).Body, "Already done: nothing posted")
	if public, _ := e.comments("HD-7"); len(public) != 1 {
		t.Errorf("%d reporter comments after a second done, want 1", len(public))
	}
	mustContain(t, "the done tab", b.get("/?status=done").Body, "HD-7", `Done <span class="count">1</span>`, `Open <span class="count">0</span>`)

	// signing out ends the session in this browser
	if p := b.post("/logout", url.Values{"csrf": {tok}}); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Errorf("logout: %d %q", p.Status, p.Location)
	}
	if p := b.get("/"); p.Status != http.StatusSeeOther {
		t.Errorf("after logout GET / = %d, want 303", p.Status)
	}
}

func TestAcknowledgeAndReturn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := e.seed("HD-8", "password-reset", time.Hour)
	b := e.browser()
	tok := b.login("Ada Admin")
	steps := []struct {
		action     string
		note       string
		wantFlash  string
		wantStatus string
	}{
		{"ack", "", "ack", escalation.StatusAcknowledged},
		{"ack", "", "ack-noop", escalation.StatusAcknowledged},
		{"return", "   ", "note-required", escalation.StatusAcknowledged},
		{"return", "Not an MFA issue: the licence *expired*", "return", escalation.StatusReturned},
		{"return", "again", "return-noop", escalation.StatusReturned},
		{"ack", "", "ack", escalation.StatusAcknowledged}, // taken back from the agents
	}
	for i, st := range steps {
		p := b.post("/escalations/"+id+"/"+st.action, url.Values{"csrf": {tok}, "note": {st.note}})
		want := "/escalations/HD-8:password-reset?flash=" + st.wantFlash
		if p.Status != http.StatusSeeOther || p.Location != want {
			t.Errorf("step %d %s: %d %q, want 303 %q", i, st.action, p.Status, p.Location, want)
		}
		if got := e.record(id).Status; got != st.wantStatus {
			t.Errorf("step %d %s: status %s, want %s", i, st.action, got, st.wantStatus)
		}
	}
	public, internal := e.comments("HD-8")
	if len(public) != 0 || len(internal) != 1 || !strings.Contains(internal[0].Body, `licence \*expired\*`) || !strings.Contains(internal[0].Body, "Ada Admin") {
		t.Errorf("comments: public %+v, internal %+v; want one internal note", public, internal)
	}
	var hist []string
	for _, a := range e.record(id).History {
		hist = append(hist, a.Status+" by "+a.Actor+": "+a.Note)
	}
	want := []string{
		"open by triage: escalated by the bot",
		"acknowledged by Ada Admin: ",
		"returned by Ada Admin: Not an MFA issue: the licence *expired*",
		"acknowledged by Ada Admin: ",
	}
	if diff := cmp.Diff(want, hist); diff != "" {
		t.Errorf("history (-want +got)\n%s", diff)
	}
	detail := b.get("/escalations/" + id + "?flash=return")
	mustContain(t, "the detail page", detail.Body, "Returned to the agents: an internal note was posted", "Not an MFA issue: the licence *expired*")
}

func TestQueueFiltersAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *admin.Config) { c.PageSize = 2 })
	e.seed("HD-11", "mfa-reset", 50*time.Hour)
	e.seed("HD-12", "password-reset", 30*time.Hour)
	e.seed("HD-13", "mfa-reset", 5*time.Hour)
	e.seed("HD-14", "followup-timeout", 30*time.Minute)
	b := e.browser()
	b.login("Ada Admin")
	rows := func(body string) []string {
		var keys []string
		for _, part := range strings.Split(body, `class="key">`)[1:] {
			keys = append(keys, part[:strings.Index(part, "<")])
		}
		return keys
	}
	tests := []struct {
		query    string
		wantRows []string
		wantText []string
	}{
		{"", []string{"HD-11", "HD-12"}, []string{"1–2 of 4, oldest first", "Next →", `Open <span class="count">4</span>`}},
		{"?status=open&offset=2", []string{"HD-13", "HD-14"}, []string{"3–4 of 4", "← Previous"}},
		{"?reason=mfa-reset", []string{"HD-11", "HD-13"}, []string{"of 2", `<option value="mfa-reset" selected>`}},
		{"?min_age=1d", []string{"HD-11", "HD-12"}, []string{"of 2", `<option value="1d" selected>`, "Clear filters"}},
		{"?min_age=2d&reason=mfa-reset", []string{"HD-11"}, []string{"of 1"}},
		{"?min_age=90m", []string{"HD-11", "HD-12"}, []string{"of 3", `<option value="90m" selected>`}},
		{"?status=done", nil, []string{"No done escalations."}},
		{"?reason=requested", nil, []string{"No open escalations match these filters."}},
	}
	for _, tt := range tests {
		p := b.get("/" + tt.query)
		if p.Status != http.StatusOK {
			t.Errorf("%q: %d", tt.query, p.Status)
			continue
		}
		if diff := cmp.Diff(tt.wantRows, rows(p.Body)); diff != "" {
			t.Errorf("%q: rows (-want +got)\n%s", tt.query, diff)
		}
		mustContain(t, tt.query, p.Body, tt.wantText...)
	}
	for _, q := range []string{"?status=closed", "?reason=other", "?min_age=soon", "?min_age=-1h", "?offset=-1"} {
		if p := b.get("/" + q); p.Status != http.StatusBadRequest {
			t.Errorf("%q: %d, want 400", q, p.Status)
		}
	}
	for _, path := range []string{"/escalations/HD-404:mfa-reset", "/escalations/HD-11:mfa-reset/nothing"} {
		if p := b.get(path); p.Status != http.StatusNotFound && p.Status != http.StatusMethodNotAllowed {
			t.Errorf("%s: %d, want 404", path, p.Status)
		}
	}
}

func TestJiraLinkFromBaseURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *admin.Config) { c.JiraBaseURL = "https://example.atlassian.net/" })
	if _, err := e.store.Create(t.Context(), escalationWithoutLink("HD-21", e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login("Ada Admin")
	mustContain(t, "detail", b.get("/escalations/HD-21:requested").Body, `href="https://example.atlassian.net/browse/HD-21"`, "Reporter asked for an admin", "No evidence recorded.")
}
