package admin_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfatriage/triage/internal/escalation"
)

// TestBrowserLoginQueueDone drives the pages in headless Chromium: sign in
// through the form; the queue shows the security escalation first and the
// evidence; a ticket shows its summary and the reporter's own words;
// neither page scrolls sideways at a phone's 390 px; "MFA reset done" asks
// for a confirmation, then the fake Jira has exactly one reporter comment.
// Screenshots of the queue and a ticket at 1280 and 390 px go to
// testdata/screenshots (ignored by git).
func TestBrowserLoginQueueDone(t *testing.T) {
	t.Parallel()
	e := newEnv(t) // httptest serves on 127.0.0.1
	id := e.seed("HD-7", "mfa-reset", 26*time.Hour)
	e.seed("HD-9", "password-reset", 40*time.Minute)
	security := e.seedSecurity("HD-12", 10*time.Minute)

	tab := chromium(t)
	ctx := tab.ctx

	// the console of every page: a CSP violation shows there
	var (
		mu      sync.Mutex
		console []string
	)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, string(m.Type)+": "+m.Text)
			mu.Unlock()
		}
	}()

	step, text := tab.step, tab.text
	screenshot := func(name string) {
		t.Helper()
		shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		t.Logf("screenshot: %s", saveScreenshot(t, name, shot))
	}
	// noSideways fails when the page is wider than the window: the phone
	// would scroll sideways.
	noSideways := func(page string) {
		t.Helper()
		widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
		if err != nil {
			t.Fatalf("measure %s: %v", page, err)
		}
		if len(widths) != 2 || widths[1] != 390 || widths[0] > widths[1] {
			t.Errorf("%s at 390 px: scrollWidth, clientWidth = %v; want no horizontal scroll at a 390 px viewport", page, widths)
		}
	}

	step("open the queue, which sends us to sign in",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != e.srv.URL+"/login" {
		t.Errorf("without a session the browser is at %s, want the login page", loc)
	}
	screenshot("login-1280.png")
	step("sign in",
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Admin"),
		chromedp.SendKeys(chromedp.CSS("#token"), testToken),
		chromedp.Click(chromedp.CSS("form[action='/login'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table.queue")),
	)
	queue := text("main")
	for _, want := range []string{"HD-7", "Alice Reporter", "I lost my phone on the train", "please reset my MFA", "1d 2h", "HD-9", "⚠ Security"} {
		if !strings.Contains(queue, want) {
			t.Errorf("the queue lacks %q:\n%s", want, queue)
		}
	}
	if first := text("table.queue tbody tr:first-child a.key"); first != "HD-12" {
		t.Errorf("the first row is %s, want the security escalation HD-12 (the newest, but first)", first)
	}
	// the stylesheet loaded under the CSP
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header.top")).backgroundColor`))
	if err != nil || bg != "rgb(36, 41, 47)" {
		t.Errorf("header background %q (%v): the stylesheet did not apply", bg, err)
	}
	screenshot("queue-1280.png")

	step("open the security escalation",
		chromedp.Click(chromedp.CSS(`a.key[href="/escalations/`+security+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("section.actions")),
	)
	detail := text("main")
	for _, want := range []string{"Possible attack", "Aprovei sem querer", "Não fui eu", "pedidos de aprovação às 3h"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the security page lacks %q:\n%s", want, detail)
		}
	}
	if first := text("section:has(> h2 + table.cards) tbody tr:first-child q"); first != "Não fui eu" {
		t.Errorf("the first evidence is %q, want the deciding signal in the reporter's words, \"Não fui eu\"", first)
	}
	screenshot("detail-security-1280.png")

	step("open an MFA escalation",
		chromedp.Navigate(e.srv.URL+"/escalations/"+id),
		chromedp.WaitVisible(chromedp.CSS("section.actions")),
	)
	detail = text("main")
	for _, want := range []string{"Authenticator on my new phone", "I lost my phone on the train", "comment 2", "I have no other phone", "escalated by the bot", "Open in Jira"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail page lacks %q:\n%s", want, detail)
		}
	}
	screenshot("detail-1280.png")

	step("a phone's width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(1)))
	step("the queue at 390 px", chromedp.Navigate(e.srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS("table.queue")))
	noSideways("the queue")
	screenshot("queue-390.png")
	step("the security ticket at 390 px", chromedp.Navigate(e.srv.URL+"/escalations/"+security), chromedp.WaitVisible(chromedp.CSS("section.actions")))
	noSideways("the security ticket")
	screenshot("detail-security-390.png")
	step("the ticket at 390 px", chromedp.Navigate(e.srv.URL+"/escalations/"+id), chromedp.WaitVisible(chromedp.CSS("section.actions")))
	noSideways("the ticket")
	screenshot("detail-390.png")

	// "MFA reset done" asks first: its real button shows only then
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector('form[action$="/done"] button[type=submit]').checkVisibility()`))
	if err != nil || !hidden {
		t.Errorf("the button that posts is visible before the confirmation (hidden=%v, %v)", hidden, err)
	}
	step(`press "MFA reset done…"`,
		chromedp.Click(chromedp.CSS(`details.confirm > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/done"] button[type=submit]`)),
	)
	screenshot("detail-confirm-390.png")
	if got := text(`details.confirm .confirm-box p`); !strings.Contains(got, "Alice Reporter") || !strings.Contains(got, "Confirm only once") {
		t.Errorf("the confirmation says %q", got)
	}
	step(`confirm`,
		chromedp.Click(chromedp.CSS(`form[action$="/done"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	if got := text("p.flash"); got != "MFA reset done: the reporter was told." {
		t.Errorf("flash message %q", got)
	}
	if got := text("h1 .badge"); got != "Done" {
		t.Errorf("status badge %q, want Done", got)
	}

	public, internal := e.comments("HD-7")
	if len(public) != 1 || len(internal) != 0 || !strings.Contains(public[0].Body, "Hi Alice") {
		t.Errorf("the fake Jira has public %+v, internal %+v; want exactly one reporter comment", public, internal)
	}
	if r := e.record(id); r.Status != escalation.StatusDone || r.History[len(r.History)-1].Actor != "Ada Admin" {
		t.Errorf("record %s, history %+v", r.Status, r.History)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, m := range console {
		if strings.Contains(m, "Content Security Policy") {
			t.Errorf("the browser reported a CSP violation: %s", m)
		}
	}
}

// saveScreenshot writes a PNG to testdata/screenshots (ignored by git), or
// to the test's temporary directory when that is not writable, and returns
// where.
func saveScreenshot(t *testing.T, name string, png []byte) string {
	t.Helper()
	dir := filepath.Join("testdata", "screenshots")
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(dir, 0o755); err == nil {
		if err := os.WriteFile(path, png, 0o644); err == nil {
			abs, _ := filepath.Abs(path)
			return abs
		}
	}
	path = filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Errorf("save the screenshot: %v", err)
	}
	return path
}
