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

	"github.com/mfatriage/triage/internal/escalation"
)

// chromiumPath is Debian's chromium package; CI installs it.
const chromiumPath = "/usr/bin/chromium"

// TestBrowserLoginQueueDone drives the pages in headless Chromium: sign in
// through the form, see the seeded escalation and its evidence on the
// queue (and save a screenshot of it), open it, press "MFA reset done",
// and the fake Jira has exactly one reporter comment.
func TestBrowserLoginQueueDone(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("headless Chromium is missing at %s: install it with `apt-get update && apt-get install -y chromium`", chromiumPath)
	}
	e := newEnv(t) // httptest serves on 127.0.0.1
	id := e.seed("HD-7", "mfa-reset", 26*time.Hour)
	e.seed("HD-9", "password-reset", 40*time.Minute)

	profile := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 860),
	)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(alloc, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelTab)

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

	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}

	step("open the queue, which sends us to sign in",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("#token")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != e.srv.URL+"/login" {
		t.Errorf("without a session the browser is at %s, want the login page", loc)
	}
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		t.Logf("screenshot of the login page: %s", saveScreenshot(t, "login.png", shot))
	}
	step("sign in",
		chromedp.SendKeys(chromedp.CSS("#name"), "Ada Admin"),
		chromedp.SendKeys(chromedp.CSS("#token"), testToken),
		chromedp.Click(chromedp.CSS("form[action='/login'] button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("table.queue")),
	)
	queue := text("main")
	for _, want := range []string{"HD-7", "Alice Reporter", "I lost my phone on the train", "please reset my MFA", "1d 2h", "HD-9"} {
		if !strings.Contains(queue, want) {
			t.Errorf("the queue lacks %q:\n%s", want, queue)
		}
	}
	// the stylesheet loaded under the CSP
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("header.top")).backgroundColor`))
	if err != nil || bg != "rgb(36, 41, 47)" {
		t.Errorf("header background %q (%v): the stylesheet did not apply", bg, err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	t.Logf("screenshot of the queue: %s", saveScreenshot(t, "queue.png", shot))

	step("open the escalation",
		chromedp.Click(chromedp.CSS(`a.key[href="/escalations/HD-7:mfa-reset"]`)),
		chromedp.WaitVisible(chromedp.CSS("section.actions")),
	)
	detail := text("main")
	for _, want := range []string{"I lost my phone on the train", "comment 2", "I have no other phone", "escalated by the bot", "Open in Jira"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the detail page lacks %q:\n%s", want, detail)
		}
	}
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		t.Logf("screenshot of the detail page: %s", saveScreenshot(t, "detail.png", shot))
	}
	step(`press "MFA reset done"`,
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

// saveScreenshot writes a PNG to testdata/out (ignored by git), or to the
// test's temporary directory when that is not writable, and returns where.
func saveScreenshot(t *testing.T, name string, png []byte) string {
	t.Helper()
	dir := filepath.Join("testdata", "out")
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
