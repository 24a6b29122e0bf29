package escalation_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/classifier"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/redistest"
	"github.com/mfatriage/triage/templates"
)

var (
	bot   = jiratest.User{AccountID: "acc-bot", DisplayName: "Triage Bot"}
	alice = jiratest.User{AccountID: "acc-alice", DisplayName: "Alice Reporter"}
)

func newService(t *testing.T, cfg ...escalation.ServiceConfig) (*escalation.Service, *escalation.Store, *jiratest.Server) {
	t.Helper()
	store := newStore(t)
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", bot), jiratest.WithUsers(alice))
	t.Cleanup(fake.Close)
	jc, err := jira.New(jira.Config{BaseURL: fake.URL(), Email: "bot@example.com", APIToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	c := escalation.ServiceConfig{BotAccountID: bot.AccountID}
	if len(cfg) > 0 {
		c = cfg[0]
	}
	return escalation.NewService(store, jira.NewTriage(jc), tmpl, c), store, fake
}

func TestDoneCommentsOnceWhateverTheClicks(t *testing.T) {
	t.Parallel()
	svc, store, fake := newService(t)
	ctx := context.Background()
	fake.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "passkey", Reporter: alice})
	if _, err := store.Create(ctx, triage.Escalation{Key: "HD-1", ReporterName: "Alice Reporter", Reason: "mfa-reset", Platform: "ios", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, _ = svc.Done(ctx, "HD-1:mfa-reset", "admin")
		}()
	}
	wg.Wait()
	// and once more, after the others
	if _, changed, err := svc.Done(ctx, "HD-1:mfa-reset", "admin"); err != nil || changed {
		t.Errorf("a later done: changed=%v err=%v, want a no-op", changed, err)
	}
	comments := fake.Comments("HD-1")
	if len(comments) != 1 || comments[0].Internal || !strings.Contains(comments[0].Body, "Hi Alice") {
		t.Fatalf("comments = %+v; want one public reset-done comment", comments)
	}
	r, _ := svc.Get(ctx, "HD-1:mfa-reset")
	labels := fake.Labels("HD-1")
	if r.Status != escalation.StatusDone || len(labels) != 1 || labels[0] != "triage-mfa-reset-done" {
		t.Errorf("status %s, labels %v", r.Status, labels)
	}
}

func TestReturnPostsAnInternalNote(t *testing.T) {
	t.Parallel()
	svc, store, fake := newService(t)
	ctx := context.Background()
	fake.AddIssue(jiratest.Issue{Key: "HD-2", Summary: "passkey", Reporter: alice})
	if _, err := store.Create(ctx, triage.Escalation{Key: "HD-2", Reason: "mfa-reset", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Return(ctx, "HD-2:mfa-reset", "admin", ""); err == nil {
		t.Error("a return without a note was accepted")
	}
	if _, changed, err := svc.Return(ctx, "HD-2:mfa-reset", "admin", "Not an MFA issue: *check* the licence"); err != nil || !changed {
		t.Fatalf("return: %v %v", changed, err)
	}
	if _, changed, _ := svc.Return(ctx, "HD-2:mfa-reset", "admin", "again"); changed {
		t.Error("a second return changed something")
	}
	comments := fake.Comments("HD-2")
	if len(comments) != 1 || !comments[0].Internal || !strings.Contains(comments[0].Body, `\*check\*`) {
		t.Errorf("comments = %+v; want one internal note with the admin's text escaped", comments)
	}
}

// TestPasswordEscalationClosesWithThePasswordMessage: "done" on a password
// escalation posts the password message with its own label, never the MFA
// one, once.
func TestPasswordEscalationClosesWithThePasswordMessage(t *testing.T) {
	t.Parallel()
	svc, store, fake := newService(t)
	ctx := context.Background()
	fake.AddIssue(jiratest.Issue{Key: "HD-5", Summary: "olvidé mi contraseña", Reporter: alice})
	if _, err := store.Create(ctx, triage.Escalation{Key: "HD-5", ReporterName: "Alice Reporter", Reason: triage.ReasonPasswordReset, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		_, changed, err := svc.Done(ctx, "HD-5:password-reset", "admin")
		if err != nil || changed != (i == 0) {
			t.Fatalf("done %d: changed=%v err=%v", i, changed, err)
		}
	}
	comments := fake.Comments("HD-5")
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "reset the password") || strings.Contains(comments[0].Body, "(MFA)") {
		t.Fatalf("comments = %+v; want one password-reset-done comment", comments)
	}
	if labels := fake.Labels("HD-5"); len(labels) != 1 || labels[0] != triage.LabelPasswordResetDone {
		t.Errorf("labels %v, want only %s", labels, triage.LabelPasswordResetDone)
	}
	r, _ := svc.Get(ctx, "HD-5:password-reset")
	if last := r.History[len(r.History)-1]; last.Note != "Password reset done" {
		t.Errorf("history note %q", last.Note)
	}
	if escalation.DoneName(triage.ReasonPasswordReset) != "Password reset done" || escalation.DoneName(triage.ReasonMFAReset) != "MFA reset done" {
		t.Error("DoneName")
	}
}

// TestDoneSpeaksTheReportersLanguage: the closing message goes out in the
// language recorded with the escalation.
func TestDoneSpeaksTheReportersLanguage(t *testing.T) {
	t.Parallel()
	svc, store, fake := newService(t)
	ctx := context.Background()
	tests := []struct {
		key, reason, lang, want string
	}{
		{"HD-21", triage.ReasonPasswordReset, "es", "ha restablecido la contraseña"},
		{"HD-22", triage.ReasonMFAReset, "de", "Anmeldemethoden (MFA)"},
		{"HD-23", triage.ReasonMFAReset, "", "sign-in (MFA) methods"},
	}
	for _, tt := range tests {
		fake.AddIssue(jiratest.Issue{Key: tt.key, Summary: "x", Reporter: alice})
		if _, err := store.Create(ctx, triage.Escalation{Key: tt.key, ReporterName: "Alice Reporter", Reason: tt.reason, Language: tt.lang, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := svc.Done(ctx, tt.key+":"+tt.reason, "admin"); err != nil {
			t.Fatal(err)
		}
		if c := fake.Comments(tt.key); len(c) != 1 || !strings.Contains(c[0].Body, tt.want) {
			t.Errorf("%s (%q): comments %+v, want one with %q", tt.key, tt.lang, c, tt.want)
		}
	}
}

// TestSlowJiraWriteKeepsTheLock: a Jira write that waits out a rate limit
// longer than the lock's lifetime keeps the lock (it is renewed), so a
// second click meanwhile is refused as busy, and one comment is posted.
func TestSlowJiraWriteKeepsTheLock(t *testing.T) {
	t.Parallel()
	svc, store, fake := newService(t, escalation.ServiceConfig{BotAccountID: bot.AccountID, LockTTL: 300 * time.Millisecond})
	ctx := context.Background()
	fake.AddIssue(jiratest.Issue{Key: "HD-6", Summary: "passkey", Reporter: alice})
	if _, err := store.Create(ctx, triage.Escalation{Key: "HD-6", ReporterName: "Alice Reporter", Reason: "mfa-reset", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// the comment's write gets a 429 asking for a 2 s wait: 6 lifetimes
	fake.FailNextWith(1, jiratest.Fault{Status: 429, RetryAfter: 2 * time.Second, Method: "PUT", Path: "/issue/HD-6"})
	first := make(chan error, 1)
	go func() {
		_, changed, err := svc.Done(ctx, "HD-6:mfa-reset", "first")
		if err == nil && !changed {
			err = errors.New("the first done changed nothing")
		}
		first <- err
	}()
	time.Sleep(time.Second)
	if _, _, err := svc.Done(ctx, "HD-6:mfa-reset", "second"); !errors.Is(err, escalation.ErrBusy) {
		t.Errorf("a second click during the slow write: %v, want ErrBusy", err)
	}
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if _, changed, err := svc.Done(ctx, "HD-6:mfa-reset", "third"); err != nil || changed {
		t.Errorf("a click after: changed=%v err=%v, want a no-op", changed, err)
	}
	if n := len(fake.Comments("HD-6")); n != 1 {
		t.Errorf("%d comments, want 1", n)
	}
}

// TestLostLockStopsTheAction: when the lock is taken over, the action's
// context ends and it reports ErrLockLost rather than run on unprotected.
func TestLostLockStopsTheAction(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t, rdb)
	store := escalation.New(rdb, prefix)
	slow := &blockingJira{release: make(chan struct{})}
	svc := escalation.NewService(store, slow, mustTemplates(t), escalation.ServiceConfig{LockTTL: 150 * time.Millisecond})
	ctx := context.Background()
	if _, err := store.Create(ctx, triage.Escalation{Key: "HD-9", Reason: "mfa-reset", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, _, err := svc.Done(ctx, "HD-9:mfa-reset", "admin"); done <- err }()
	time.Sleep(100 * time.Millisecond)
	if err := rdb.Set(ctx, prefix+"esc:lock:HD-9:mfa-reset", "someone else", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, escalation.ErrLockLost) {
			t.Errorf("done: %v, want ErrLockLost", err)
		}
	case <-time.After(5 * time.Second):
		close(slow.release)
		t.Fatal("the action kept running after its lock was lost")
	}
	if v, _ := rdb.Get(ctx, prefix+"esc:lock:HD-9:mfa-reset").Result(); v != "someone else" {
		t.Errorf("the lock of another holder was touched: %q", v)
	}
}

// blockingJira's writes wait for release or the context.
type blockingJira struct {
	triage.Jira
	release chan struct{}
}

func (b *blockingJira) Write(ctx context.Context, _ string, _ triage.Write) error {
	select {
	case <-b.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func mustTemplates(t *testing.T) *templates.Set {
	t.Helper()
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return tmpl
}

// TestReporterMarkerDoesNotCount: a reporter's comment that carries the
// markers of the "done" comment and of the return note does not stop the
// bot from posting them when it recovers from a failed write.
func TestReporterMarkerDoesNotCount(t *testing.T) {
	t.Parallel()
	svc, store, fake := newService(t)
	ctx := context.Background()
	fake.AddIssue(jiratest.Issue{Key: "HD-7", Summary: "passkey", Reporter: alice, Comments: []jiratest.Comment{
		{Author: alice, Body: "{anchor:triage-reset-done-hd-7-mfa-reset} triage-reset-done-hd-7-mfa-reset"},
	}})
	fake.AddIssue(jiratest.Issue{Key: "HD-8", Summary: "passkey", Reporter: alice, Comments: []jiratest.Comment{
		{Author: alice, Body: "{anchor:triage-returned-hd-8-mfa-reset-2}"},
	}})
	for _, key := range []string{"HD-7", "HD-8"} {
		if _, err := store.Create(ctx, triage.Escalation{Key: key, ReporterName: "Alice Reporter", Reason: "mfa-reset", CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// done: the first write fails after the status changed
	fake.FailNextWith(1, jiratest.Fault{Status: 500, Method: "PUT", Path: "/issue/HD-7"})
	if _, _, err := svc.Done(ctx, "HD-7:mfa-reset", "admin"); err == nil {
		t.Fatal("the failed write was not reported")
	}
	if _, changed, err := svc.Done(ctx, "HD-7:mfa-reset", "admin"); err != nil || !changed {
		t.Fatalf("the retry: changed=%v err=%v, want it to post", changed, err)
	}
	if _, changed, _ := svc.Done(ctx, "HD-7:mfa-reset", "admin"); changed {
		t.Error("a third done changed something")
	}
	// return: the same for the internal note
	fake.FailNextWith(1, jiratest.Fault{Status: 500, Method: "POST", Path: "/issue/HD-8/comment"})
	if _, _, err := svc.Return(ctx, "HD-8:mfa-reset", "admin", "licence expired"); err == nil {
		t.Fatal("the failed write was not reported")
	}
	if _, changed, err := svc.Return(ctx, "HD-8:mfa-reset", "admin", "a retry's words are not posted"); err != nil || !changed {
		t.Fatalf("the retry: changed=%v err=%v, want it to post", changed, err)
	}
	if _, changed, _ := svc.Return(ctx, "HD-8:mfa-reset", "admin", "again"); changed {
		t.Error("a third return changed something")
	}
	for key, want := range map[string]string{"HD-7": "Hi Alice", "HD-8": "licence expired"} {
		var mine []jiratest.Comment
		for _, c := range fake.Comments(key) {
			if c.Author.AccountID == bot.AccountID {
				mine = append(mine, c)
			}
		}
		if len(mine) != 1 || !strings.Contains(mine[0].Body, want) {
			t.Errorf("%s: the bot's comments %+v; want one with %q", key, mine, want)
		}
	}
}

// TestReturnedIsNotClosed: "done" on a returned escalation is refused
// until an admin takes it back.
func TestReturnedIsNotClosed(t *testing.T) {
	t.Parallel()
	svc, store, fake := newService(t)
	ctx := context.Background()
	fake.AddIssue(jiratest.Issue{Key: "HD-10", Summary: "passkey", Reporter: alice})
	if _, err := store.Create(ctx, triage.Escalation{Key: "HD-10", Reason: "mfa-reset", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Return(ctx, "HD-10:mfa-reset", "admin", "not MFA"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Done(ctx, "HD-10:mfa-reset", "admin"); !errors.Is(err, escalation.ErrReturned) {
		t.Errorf("done on a returned escalation: %v, want ErrReturned", err)
	}
	if _, _, err := svc.Acknowledge(ctx, "HD-10:mfa-reset", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, changed, err := svc.Done(ctx, "HD-10:mfa-reset", "admin"); err != nil || !changed {
		t.Errorf("done after taking it back: changed=%v err=%v", changed, err)
	}
	if n := len(fake.Comments("HD-10")); n != 2 {
		t.Errorf("%d comments, want the note and the reset-done comment", n)
	}
}

// outcomes is a hand-written fake of everything the "returned" outcome
// goes to: the per-day counter, the feedback store, the audit and the
// metrics.
type outcomes struct {
	mu       sync.Mutex
	counted  []string
	feedback []triage.Feedback
	audit    []triage.AuditEntry
	metrics  []string
}

func (o *outcomes) CountDecision(context.Context, time.Time, string) error { return nil }
func (o *outcomes) CountFeedback(_ context.Context, _ time.Time, outcome string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counted = append(o.counted, outcome)
	return nil
}
func (o *outcomes) KeepText(context.Context, string, classifier.Ticket) error { return nil }
func (o *outcomes) RecordFeedback(_ context.Context, f triage.Feedback) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.feedback = append(o.feedback, f)
	return nil
}
func (o *outcomes) Record(_ context.Context, e triage.AuditEntry) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.audit = append(o.audit, e)
	return nil
}
func (o *outcomes) Feedback(outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.metrics = append(o.metrics, outcome)
}

// TestReturnIsAnOutcome: an escalation returned to the agents (not an MFA
// problem) is counted, kept for the feedback export as human, audited and
// measured, once however often it is returned.
func TestReturnIsAnOutcome(t *testing.T) {
	t.Parallel()
	o := &outcomes{}
	svc, store, fake := newService(t, escalation.ServiceConfig{BotAccountID: bot.AccountID, Decisions: o, Feedback: o, Audit: o, Metrics: o})
	ctx := context.Background()
	fake.AddIssue(jiratest.Issue{Key: "HD-40", Summary: "licence", Reporter: alice})
	if _, err := store.Create(ctx, triage.Escalation{Key: "HD-40", Reason: triage.ReasonMFAReset, Platform: "android", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, _, err := svc.Return(ctx, "HD-40:mfa-reset", "admin:bob", "not MFA: the licence expired"); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{triage.OutcomeReturned}
	if diff := cmp.Diff([]any{want, want}, []any{o.counted, o.metrics}); diff != "" {
		t.Errorf("counted and measured (-want +got):\n%s", diff)
	}
	if len(o.feedback) != 1 || o.feedback[0].Key != "HD-40" || o.feedback[0].Actor != "admin:bob" ||
		!cmp.Equal(o.feedback[0].Expect, classifier.Expect{Categories: []string{}, Platform: "android", Action: classifier.ActionHuman}) {
		t.Errorf("feedback %+v", o.feedback)
	}
	if len(o.audit) != 1 || o.audit[0].Outcome != triage.OutcomeReturned || o.audit[0].Key != "HD-40" || o.audit[0].Actor != "admin:bob" {
		t.Errorf("audit %+v", o.audit)
	}
}

// TestReturnOutsideServiceManagement: on a software project without a
// visibility for private notes, the return goes through (the label, the
// status) with its note kept in the escalation's history, and nothing is
// left pending: nothing public is posted, and a retry does not fail again.
func TestReturnOutsideServiceManagement(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", bot), jiratest.WithUsers(alice), jiratest.WithProject("SW", jiratest.ProjectSoftware))
	t.Cleanup(fake.Close)
	jc, err := jira.New(jira.Config{BaseURL: fake.URL(), Email: "bot@example.com", APIToken: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	svc := escalation.NewService(store, jira.NewTriage(jc), mustTemplates(t), escalation.ServiceConfig{BotAccountID: bot.AccountID})
	ctx := context.Background()
	fake.AddIssue(jiratest.Issue{Key: "SW-1", Summary: "passkey", Reporter: alice})
	if _, err := store.Create(ctx, triage.Escalation{Key: "SW-1", Reason: "mfa-reset", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, changed, err := svc.Return(ctx, "SW-1:mfa-reset", "admin", "Not an MFA issue"); err != nil || !changed {
		t.Fatalf("return: changed=%v err=%v, want it done", changed, err)
	}
	if _, changed, err := svc.Return(ctx, "SW-1:mfa-reset", "admin", "again"); err != nil || changed {
		t.Errorf("a retry: changed=%v err=%v, want a no-op", changed, err)
	}
	if c := fake.Comments("SW-1"); len(c) != 0 {
		t.Errorf("comments %+v on a software project without a private visibility, want none", c)
	}
	r, _ := svc.Get(ctx, "SW-1:mfa-reset")
	if r.Status != escalation.StatusReturned || !strings.Contains(r.History[len(r.History)-1].Note, "Not an MFA issue") {
		t.Errorf("status %s, history %+v: want returned, the note kept", r.Status, r.History)
	}
}
