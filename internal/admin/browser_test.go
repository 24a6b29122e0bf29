package admin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/internal/redistest"
)

// TestBrowserLoginQueueDone drives the pages in headless Chromium: sign in
// through the form; the queue shows the security escalation first and the
// evidence; a ticket shows its summary and the reporter's own words; the
// Decisions view (counts in the real Redis store) draws its charts with
// the stylesheet's colours; no page scrolls sideways at a phone's 390 px;
// "MFA reset done" asks for a confirmation, then the fake Jira has exactly
// one reporter comment. Screenshots of the queue, a ticket and the
// Decisions view at 1280 and 390 px go to testdata/screenshots (ignored by
// git).
func TestBrowserLoginQueueDone(t *testing.T) {
	t.Parallel()
	decisions := browserDecisions(t)
	e := newEnv(t, func(c *admin.Config) { c.Decisions = decisions }) // httptest serves on 127.0.0.1
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
			// the first elements that reach past the window, to say where
			wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > 390).slice(0, 6).map(e => e.tagName.toLowerCase() + (e.className && typeof e.className == "string" ? "." + e.className : "") + " to " + Math.round(e.getBoundingClientRect().right) + " px")`))
			t.Errorf("%s at 390 px: scrollWidth, clientWidth = %v; want no horizontal scroll at a 390 px viewport (too wide: %v)", page, widths, wide)
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

	step("open the Decisions view from the navigation",
		chromedp.Click(chromedp.CSS(`nav.views a[href="/decisions"]`)),
		chromedp.WaitVisible(chromedp.CSS("svg.chart")),
	)
	view := text("main")
	for _, want := range []string{"Tickets per day by mode", "How agents treated the suggestions", "Agents sent 21 of 25 suggestions (84\u00a0%) unchanged in the last 30 days.", "Total"} {
		if !strings.Contains(view, want) {
			t.Errorf("the Decisions view lacks %q:\n%s", want, view)
		}
	}
	// the SVG takes its colours from the stylesheet (no inline styles)
	fill, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("svg.chart rect.s-auto")).fill`))
	if err != nil || fill != "rgb(11, 92, 173)" {
		t.Errorf("an auto bar's fill is %q (%v), want the stylesheet's rgb(11, 92, 173)", fill, err)
	}
	screenshot("decisions-1280.png")

	step("open the security escalation",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("table.queue")),
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
	for _, days := range []string{"30", "365"} {
		step("the Decisions view at 390 px, "+days+" days", chromedp.Navigate(e.srv.URL+"/decisions?days="+days), chromedp.WaitVisible(chromedp.CSS("svg.chart")))
		noSideways("the Decisions view, " + days + " days")
		screenshot("decisions-" + days + "-390.png")
	}
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

// browserDecisions is the real Redis store with a month of counts: a
// suggestion every day, more tickets on weekdays, and the outcomes of 25
// of the suggestions (21 sent, 3 corrected, 1 answered otherwise).
func browserDecisions(t *testing.T) *redisstore.Store {
	t.Helper()
	rdb := redistest.Client(t)
	s := redisstore.New(rdb, redisstore.Config{Prefix: redistest.Prefix(t, rdb)})
	ctx := context.Background()
	now := time.Now().UTC()
	count := func(at time.Time, n int, f func(context.Context, time.Time, string) error, name string) {
		t.Helper()
		for range n {
			if err := f(ctx, at, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 30 {
		at := now.AddDate(0, 0, -i)
		busy := 1 + (i*7)%5
		if at.Weekday() == time.Saturday || at.Weekday() == time.Sunday {
			busy = 0
		}
		count(at, 3*busy, s.CountDecision, triage.ModeAuto)
		count(at, 1, s.CountDecision, triage.ModeSuggest)
		count(at, busy/2, s.CountDecision, triage.ModeNone)
		if i < 21 {
			count(at, 1, s.CountFeedback, triage.OutcomeSent)
		}
	}
	count(now.AddDate(0, 0, -3), 3, s.CountFeedback, triage.OutcomeCorrected)
	count(now.AddDate(0, 0, -8), 1, s.CountFeedback, triage.OutcomeOtherwise)
	count(now.AddDate(0, 0, -8), 2, s.CountFeedback, triage.OutcomeReturned)
	return s
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
