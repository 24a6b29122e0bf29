package admin_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/graph/graphtest"
)

// TestBrowserResetMFA drives the MFA reset in headless Chromium: the
// escalation's page offers it with the reporter's e-mail; the look-up
// shows the right person and their methods, Authenticator and passkeys
// ticked; the admin asks for a Temporary Access Pass and confirms. Then
// the fake Graph has those two methods gone and the others kept, the pass
// is on the page once and nowhere in the logs or the Redis data, and the
// reporter has exactly one comment.
func TestBrowserResetMFA(t *testing.T) {
	t.Parallel()
	e := newResetEnv(t)
	id := e.seedReset("HD-45")

	tab := chromium(t)
	ctx := tab.ctx

	step, text := tab.step, tab.text
	checked := func(sel string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("`+sel+`").checked`))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}

	step("sign in",
		chromedp.Navigate(e.srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Admin"),
		chromedp.SendKeys(chromedp.CSS("#token"), testToken),
		chromedp.Click(chromedp.CSS("form[action='/login'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table.queue")),
	)
	step("open the MFA-reset escalation and press the reset",
		chromedp.Navigate(e.srv.URL+escalationURL(id)),
		chromedp.WaitVisible(chromedp.CSS("form.reset-entry button")),
		chromedp.Click(chromedp.CSS("form.reset-entry button")),
		chromedp.WaitVisible(chromedp.CSS("dl.user-facts")),
	)
	if got, _ := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#upn"))); got != "alice@example.com" {
		t.Errorf("the user is prefilled with %q, want the reporter's e-mail", got)
	}
	facts := text("dl.user-facts")
	for _, want := range []string{"Alice Reporter", "enabled", "2026-12-01 08:30 UTC"} {
		if !strings.Contains(facts, want) {
			t.Errorf("the look-up lacks %q:\n%s", want, facts)
		}
	}
	if !checked("#remove-authenticator") || !checked("#remove-passkey") || checked("#remove-phone") || checked("#remove-software-oath") {
		t.Error("the default choice is not Authenticator and passkeys only")
	}
	if methods := text("fieldset.methods"); !strings.Contains(methods, "iPhone 15") || !strings.Contains(methods, "Password (kept)") {
		t.Errorf("the methods list:\n%s", methods)
	}
	step("ask for a pass and continue",
		chromedp.Click(chromedp.CSS("#tap")),
		chromedp.Click(chromedp.CSS("form[action$='/mfa-reset/confirm'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("section.reset-confirm")),
	)
	confirm := text("section.reset-confirm")
	for _, want := range []string{"Alice Reporter", "remove Microsoft Authenticator", "remove Passkey (FIDO2)", "create a Temporary Access Pass"} {
		if !strings.Contains(confirm, want) {
			t.Errorf("the confirmation lacks %q:\n%s", want, confirm)
		}
	}
	if strings.Contains(confirm, "Phone (SMS") || e.deletes() != 0 {
		t.Errorf("before the confirmation: %d DELETEs; the page says:\n%s", e.deletes(), confirm)
	}
	step("confirm",
		chromedp.Click(chromedp.CSS("form[action$='/mfa-reset'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#tap-pass")),
	)
	passes := e.graph.IssuedTAPs()
	if len(passes) != 1 || text("#tap-pass") != passes[0] {
		t.Fatalf("the page shows the pass %q; the fake issued %v", text("#tap-pass"), passes)
	}
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil || strings.Count(html, passes[0]) != 1 {
		t.Errorf("the pass is on the page %d times, want once (%v)", strings.Count(html, passes[0]), err)
	}
	if got := text("p.flash"); got != "MFA reset done in Entra ID: the reporter was told." {
		t.Errorf("flash %q", got)
	}
	t.Logf("screenshot: %s", func() string {
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			return err.Error()
		}
		return saveScreenshot(t, "reset-result-1280.png", shot)
	}())

	want := []string{graphtest.TypePhone, graphtest.TypeSoftwareOath, graphtest.TypePassword, graphtest.TypeTAP}
	if diff := cmp.Diff(want, e.graph.Methods("alice@example.com")); diff != "" {
		t.Errorf("methods left in the fake Graph (-want, +got):\n%s", diff)
	}
	public, internal := e.comments("HD-45")
	if len(public) != 1 || len(internal) != 0 || !strings.Contains(public[0].Body, "Hi Alice") {
		t.Errorf("the fake Jira has public %+v, internal %+v; want exactly one reporter comment", public, internal)
	}
	r := e.record(id)
	if last := r.History[len(r.History)-1]; r.Status != escalation.StatusDone || last.Actor != "Ada Admin" || last.Reset == nil || len(last.Reset.Removed) != 2 {
		t.Errorf("record %s, last action %+v", r.Status, last)
	}
	step("the escalation's page again", chromedp.Navigate(e.srv.URL+escalationURL(id)), chromedp.WaitVisible(chromedp.CSS("section.actions")))
	if page := text("main"); strings.Contains(page, passes[0]) || strings.Contains(page, "Reset MFA in Entra ID…") || !strings.Contains(page, "MFA reset done in Entra ID for alice@example.com") {
		t.Errorf("the page after the reset:\n%s", page)
	}
	e.noPassAnywhere("HD-45")
}
