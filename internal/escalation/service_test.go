package escalation_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/templates"
)

var (
	bot   = jiratest.User{AccountID: "acc-bot", DisplayName: "Triage Bot"}
	alice = jiratest.User{AccountID: "acc-alice", DisplayName: "Alice Reporter"}
)

func newService(t *testing.T) (*escalation.Service, *escalation.Store, *jiratest.Server) {
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
	return escalation.NewService(store, jira.NewTriage(jc), tmpl, escalation.ServiceConfig{}), store, fake
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
