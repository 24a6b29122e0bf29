package escalation_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/graph"
	"github.com/mfatriage/triage/internal/graph/graphtest"
	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// resetFixture is the service with a fake Graph holding alice's standard
// methods, and an MFA-reset escalation of hers.
func resetFixture(t *testing.T, key, reason string) (*escalation.Service, *jiratest.Server, *graphtest.Server, string) {
	t.Helper()
	g := graphtest.Start()
	t.Cleanup(g.Close)
	g.AddUser(graphtest.User{UPN: "alice@example.com", DisplayName: "Alice Reporter", Enabled: true}, graphtest.StandardMethods()...)
	dir, err := graph.New(graph.Config{BaseURL: g.URL(), Tokens: graph.StaticToken(graphtest.Token), Sleep: func(context.Context, time.Duration) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	svc, store, fake := newService(t, escalation.ServiceConfig{BotAccountID: bot.AccountID, Directory: dir})
	fake.AddIssue(jiratest.Issue{Key: key, Summary: "new phone", Reporter: alice})
	if _, err := store.Create(context.Background(), triage.Escalation{Key: key, ReporterName: "Alice Reporter", ReporterEmail: "alice@example.com", Reason: reason, Language: "de", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	return svc, fake, g, key + ":" + reason
}

func deletes(g *graphtest.Server) int {
	n := 0
	for _, c := range g.Calls() {
		if c.Method == http.MethodDelete {
			n++
		}
	}
	return n
}

// A reset removes Authenticator and the passkey, keeps the rest, makes one
// pass, posts one comment in the reporter's language and records the
// audit; five clicks at once and one more after remove and post nothing
// more.
func TestResetMFAOnceWhateverTheClicks(t *testing.T) {
	t.Parallel()
	svc, fake, g, id := resetFixture(t, "HD-31", triage.ReasonMFAReset)
	ctx := context.Background()
	req := escalation.ResetRequest{UPN: "alice@example.com", Remove: triage.DefaultRemove, RevokeSessions: true, TAP: true}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		passes []string
		busy   int
	)
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := svc.ResetMFA(ctx, id, "ada", req)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, escalation.ErrBusy) {
				busy++
			} else if err != nil {
				t.Errorf("reset: %v", err)
			}
			if res.TAP != nil {
				passes = append(passes, res.TAP.Pass)
			}
		}()
	}
	wg.Wait()
	again, err := svc.ResetMFA(ctx, id, "ada", req)
	if err != nil || again.Changed || again.TAP != nil {
		t.Errorf("a later reset: changed=%v tap=%v err=%v; want a no-op", again.Changed, again.TAP != nil, err)
	}
	if len(passes) != 1 || len(g.IssuedTAPs()) != 1 {
		t.Errorf("%d passes returned, %d issued; want one", len(passes), len(g.IssuedTAPs()))
	}
	if got := deletes(g); got != 2 {
		t.Errorf("%d DELETEs, want 2 (Authenticator and the passkey)", got)
	}
	want := []string{graphtest.TypePhone, graphtest.TypeSoftwareOath, graphtest.TypePassword, graphtest.TypeTAP}
	if diff := cmp.Diff(want, g.Methods("alice@example.com")); diff != "" {
		t.Errorf("methods left (-want, +got):\n%s", diff)
	}
	if n := g.Revocations("alice@example.com"); n != 1 {
		t.Errorf("%d revocations, want 1", n)
	}
	comments := fake.Comments("HD-31")
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "Hallo Alice") {
		t.Fatalf("comments %+v; want one, in German", comments)
	}
	for _, p := range g.IssuedTAPs() {
		if strings.Contains(comments[0].Body, p) {
			t.Error("the pass is in the Jira comment")
		}
	}
	r, _ := svc.Get(ctx, id)
	last := r.History[len(r.History)-1]
	if r.Status != escalation.StatusDone || last.Actor != "ada" || last.Reset == nil {
		t.Fatalf("status %s, last action %+v", r.Status, last)
	}
	var removed []triage.MethodType
	for _, m := range last.Reset.Removed {
		removed = append(removed, m.Type)
		if m.ID == "" || m.At.IsZero() {
			t.Errorf("removed %+v without its id or time", m)
		}
	}
	if diff := cmp.Diff(triage.DefaultRemove, removed); diff != "" || !last.Reset.SessionsRevoked || last.Reset.TAPID == "" {
		t.Errorf("audit %+v (-want, +got removed):\n%s", last.Reset, diff)
	}
	if !strings.Contains(last.Note, "removed authenticator ") || !strings.Contains(last.Note, "Temporary Access Pass") {
		t.Errorf("history note %q", last.Note)
	}
}

// A reset that fails part way (the revocation is refused: a permission is
// missing) says so by name and closes nothing; the retry, even with other
// choices, removes nothing more, finishes and posts once.
func TestResetMFARetryFinishesThePlan(t *testing.T) {
	t.Parallel()
	svc, fake, g, id := resetFixture(t, "HD-32", triage.ReasonMFAReset)
	ctx := context.Background()
	g.Permissions(graphtest.PermMethods, graphtest.PermUsers)
	_, err := svc.ResetMFA(ctx, id, "ada", escalation.ResetRequest{UPN: "alice@example.com", Remove: triage.DefaultRemove, RevokeSessions: true})
	if !errors.Is(err, triage.ErrDirectoryForbidden) || !strings.Contains(err.Error(), "User.RevokeSessions.All") {
		t.Fatalf("reset without the revoke permission: %v", err)
	}
	if r, _ := svc.Get(ctx, id); r.Status != escalation.StatusOpen || len(fake.Comments("HD-32")) != 0 {
		t.Fatalf("after the failure: status %s, %d comments; want open and none", r.Status, len(fake.Comments("HD-32")))
	}
	g.Permissions(graphtest.DefaultPermissions...)
	res, err := svc.ResetMFA(ctx, id, "bob", escalation.ResetRequest{UPN: "alice@example.com", Remove: []triage.MethodType{triage.MethodPhone}})
	if err != nil || !res.Changed {
		t.Fatalf("retry: changed=%v err=%v", res.Changed, err)
	}
	if got := deletes(g); got != 2 {
		t.Errorf("%d DELETEs in all, want the first plan's 2", got)
	}
	if n := g.Revocations("alice@example.com"); n != 1 || len(fake.Comments("HD-32")) != 1 {
		t.Errorf("%d revocations, %d comments; want 1 and 1", n, len(fake.Comments("HD-32")))
	}
	if res.Audit == nil || res.Audit.StartedBy != "ada" || len(res.Audit.Removed) != 2 {
		t.Errorf("audit %+v", res.Audit)
	}
	if _, err := svc.ResetMFA(ctx, id, "bob", escalation.ResetRequest{UPN: "someone@example.com", Remove: triage.DefaultRemove}); err != nil {
		t.Errorf("a reset of a done escalation: %v; want a no-op", err)
	}
}

func TestResetMFARefusals(t *testing.T) {
	t.Parallel()
	svc, _, g, id := resetFixture(t, "HD-33", triage.ReasonPasswordReset)
	ctx := context.Background()
	if _, err := svc.ResetMFA(ctx, id, "ada", escalation.ResetRequest{UPN: "alice@example.com", Remove: triage.DefaultRemove}); !errors.Is(err, escalation.ErrNotMFAReset) {
		t.Errorf("reset of a password escalation: %v, want ErrNotMFAReset", err)
	}
	if len(g.Calls()) != 0 {
		t.Errorf("Graph was called: %v", g.Calls())
	}
	svc, _, g, id = resetFixture(t, "HD-34", triage.ReasonMFAReset)
	_, err := svc.ResetMFA(ctx, id, "ada", escalation.ResetRequest{UPN: "nobody@example.com", Remove: triage.DefaultRemove})
	if !errors.Is(err, triage.ErrNoSuchUser) {
		t.Errorf("reset of an unknown user: %v, want ErrNoSuchUser", err)
	}
	if _, err := svc.ResetMFA(ctx, id, "ada", escalation.ResetRequest{UPN: "alice@example.com", Remove: triage.DefaultRemove}); err != nil || deletes(g) != 2 {
		t.Errorf("the reset with the right user after a wrong one: %v, %d DELETEs", err, deletes(g))
	}
	none, _, _ := newService(t)
	if _, err := none.ResetMFA(ctx, id, "ada", escalation.ResetRequest{}); !errors.Is(err, escalation.ErrNoDirectory) {
		t.Errorf("without Graph: %v, want ErrNoDirectory", err)
	}
}
