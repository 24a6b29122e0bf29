package worker_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

const botSteps = "Hi Alice,\n\nthe passkey on your phone no longer matches your account.\n# In Authenticator on your phone, remove any passkeys that no longer apply.\n# Set up a new passkey.\n\n_This is an automated reply from the IT helpdesk assistant._"

func TestReplyOnANewTicket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "Passkey problem", Description: "Defender says my passkey can no longer be used. iPhone 15.", Reporter: alice})
	h.wait(h.enqueue(created(is, "d-1")))

	comments := h.botComments("HD-1")
	if len(comments) != 1 {
		t.Fatalf("%d bot comments, want 1", len(comments))
	}
	if c := comments[0]; c.Internal || !strings.Contains(c.Body, "remove any passkeys that no longer apply") || !strings.Contains(c.Body, "Hi Alice") {
		t.Errorf("reply = internal %v, body:\n%s", c.Internal, c.Body)
	}
	if diff := cmp.Diff([]string{"triage-passkey-invalid", "triage-replied"}, h.jira.Labels("HD-1"), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	st := h.state("HD-1")
	if st.Version != 1 || !cmp.Equal(st.Replied, []string{"passkey-invalid"}) {
		t.Errorf("state = %+v", st)
	}
	reads, writes := h.calls("HD-1")
	if reads != 0 || writes != 1 {
		t.Errorf("Jira calls: %d reads, %d writes; the happy path is 0 reads and 1 write", reads, writes)
	}
	if _, err := h.inspector.GetTaskInfo(h.queue, worker.FollowupTaskID("HD-1", 1)); err != nil {
		t.Errorf("follow-up not scheduled: %v", err)
	}
	hist, err := h.store.History(context.Background(), "HD-1")
	if err != nil || len(hist) != 1 || hist[0].Verdict.Action != "reply" {
		t.Errorf("audit = %+v, %v", hist, err)
	}
}

func TestDuplicateDeliveriesPostOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-2", Summary: "Authenticator", Description: "Defender says Authenticator did not complete login", Reporter: alice})
	// The same delivery five times: the task id refuses the repeats.
	first := h.enqueue(created(is, "same"))
	for i := 0; i < 4; i++ {
		task, _ := worker.NewTriageTask(created(is, "same"), asynq.Queue(h.queue))
		if _, err := h.client.Enqueue(task); !errors.Is(err, asynq.ErrTaskIDConflict) {
			t.Fatalf("repeat %d: err = %v, want ErrTaskIDConflict", i, err)
		}
	}
	h.wait(first)
	// Other deliveries of the same event (a poll, a reconciliation): the
	// triage state makes them no-ops.
	h.wait(h.enqueue(created(is, "poll-1")))
	h.wait(h.enqueue(created(is, "reconcile-1")))
	if n := len(h.botComments("HD-2")); n != 1 {
		t.Errorf("%d bot comments, want exactly 1", n)
	}
}

// failingSave makes the first state save after a Jira write fail, as if
// the worker died right after writing to Jira.
type failingSave struct {
	triage.StateStore
	failed atomic.Bool
}

func (f *failingSave) Acquire(ctx context.Context, key string, ttl time.Duration) (triage.Hold, bool, error) {
	h, ok, err := f.StateStore.Acquire(ctx, key, ttl)
	if !ok || err != nil {
		return h, ok, err
	}
	release := h.Release
	h.Release = func(ctx context.Context, s *triage.State, e *triage.AuditEntry) error {
		if s != nil && s.Version > 0 && f.failed.CompareAndSwap(false, true) {
			_ = release(ctx, nil, nil) // the lock expires with the dead worker
			return errors.New("simulated crash after the Jira write")
		}
		return release(ctx, s, e)
	}
	return h, ok, err
}

func (f *failingSave) Save(ctx context.Context, key string, s triage.State) error {
	if !s.Writing && s.Version > 0 && f.failed.CompareAndSwap(false, true) {
		return errors.New("simulated crash after the Jira write")
	}
	return f.StateStore.Save(ctx, key, s)
}

func TestCrashAfterTheJiraWriteDoesNotPostTwice(t *testing.T) {
	t.Parallel()
	crash := &failingSave{}
	h := newHarness(t, withStates(func(s triage.StateStore) triage.StateStore { crash.StateStore = s; return crash }))
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-3", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	h.wait(h.enqueue(created(is, "d-3")))
	if !crash.failed.Load() {
		t.Fatal("the crash was not simulated")
	}
	if n := len(h.botComments("HD-3")); n != 1 {
		t.Errorf("%d bot comments after a crash and a retry, want 1", n)
	}
	st, ok, err := h.store.Load(context.Background(), "HD-3")
	if err != nil || !ok || st.Version != 1 {
		t.Errorf("Redis state after the retry = %+v, %v, %v; want it repaired from Jira", st, ok, err)
	}
}

func TestEscalationAfterTheSteps(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *worker.Config) { c.EscalationAssignee = agentUser.AccountID }))
	h.start()
	h.jira.AddIssue(jiratest.Issue{Key: "HD-4", Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
		Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}}})
	p := commented("HD-4", alice, "Did exactly that, removed the old passkey and set up a new one. Defender still says it can no longer be used.", "d-4")
	addComment(h, "HD-4", alice, p.Comment.Body)
	h.wait(h.enqueue(p))

	var public, internal int
	for _, c := range h.botComments("HD-4") {
		if c.Body == botSteps {
			continue
		}
		if c.Internal {
			internal++
			if !strings.Contains(c.Body, "can no longer be used") {
				t.Errorf("evidence note lacks the matched phrase:\n%s", c.Body)
			}
		} else {
			public++
		}
	}
	if public != 1 || internal != 1 {
		t.Errorf("escalation wrote %d public and %d internal comments, want 1 and 1", public, internal)
	}
	labels := h.jira.Labels("HD-4")
	for _, want := range []string{"triage-escalated", "triage-escalate-mfa"} {
		if !contains(labels, want) {
			t.Errorf("labels %v lack %s", labels, want)
		}
	}
	is, _ := h.jira.Issue("HD-4")
	if is.Assignee == nil || is.Assignee.AccountID != agentUser.AccountID {
		t.Errorf("assignee = %+v", is.Assignee)
	}
	page, err := h.esc.List(context.Background(), escalation.Filter{Status: "open"}, time.Now())
	recs := page.Records
	if err != nil || len(recs) != 1 || recs[0].Key != "HD-4" || recs[0].Reason != "mfa-reset" || len(recs[0].Evidence) == 0 {
		t.Fatalf("escalation records = %+v, %v", recs, err)
	}
	// The same answer delivered again: nothing more.
	h.wait(h.enqueue(commented("HD-4", alice, p.Comment.Body, "d-4b")))
	if n := len(h.botComments("HD-4")); n != 3 {
		t.Errorf("%d bot comments after a second delivery, want 3 (steps, notice, note)", n)
	}
	if page, _ := h.esc.List(context.Background(), escalation.Filter{Status: "open"}, time.Now()); len(page.Records) != 1 {
		t.Errorf("%d escalation records, want 1", page.Total)
	}
}

func addComment(h *harness, key string, author jiratest.User, body string) {
	h.t.Helper()
	is, ok := h.jira.Issue(key)
	if !ok {
		h.t.Fatalf("no issue %s", key)
	}
	is.Comments = append(is.Comments, jiratest.Comment{Author: author, Body: body})
	h.jira.AddIssue(is)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestResolveHumanAndLoopGuard(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()

	// works now → resolve: acknowledgement, label, no follow-up escalation
	h.jira.AddIssue(jiratest.Issue{Key: "HD-5", Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
		Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}, {Author: alice, Body: "Removed it and set up a new one, works now, thanks!"}}})
	h.wait(h.enqueue(commented("HD-5", alice, "Removed it and set up a new one, works now, thanks!", "d-5")))
	if !contains(h.jira.Labels("HD-5"), "triage-resolved") || !h.state("HD-5").Resolved {
		t.Errorf("HD-5 not resolved: labels %v, state %+v", h.jira.Labels("HD-5"), h.state("HD-5"))
	}

	// an agent commented → needs-human label, no comment
	h.jira.AddIssue(jiratest.Issue{Key: "HD-6", Summary: "login", Description: "Authenticator did not complete login", Reporter: alice,
		Comments: []jiratest.Comment{{Author: agentUser, Body: "I'll call you in five minutes."}}})
	h.wait(h.enqueue(commented("HD-6", alice, "ok", "d-6")))
	if n := len(h.botComments("HD-6")); n != 0 || !contains(h.jira.Labels("HD-6"), "triage-needs-human") {
		t.Errorf("HD-6: %d bot comments, labels %v; want none and triage-needs-human", n, h.jira.Labels("HD-6"))
	}

	// the bot's own comment → nothing at all
	h.jira.AddIssue(jiratest.Issue{Key: "HD-7", Summary: "login", Description: "Authenticator did not complete login", Reporter: alice})
	h.jira.ClearCalls()
	h.wait(h.enqueue(commented("HD-7", botUser, botSteps, "d-7")))
	if reads, writes := h.calls("HD-7"); reads+writes != 0 {
		t.Errorf("the bot's own comment caused %d reads and %d writes", reads, writes)
	}
}

func TestJiraFaults(t *testing.T) {
	t.Parallel()
	t.Run("401 ends the task with Jira's message", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.start()
		is := h.jira.AddIssue(jiratest.Issue{Key: "HD-8", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
		h.jira.FailNextWith(1, jiratest.Fault{Status: 401, Messages: []string{"Client must be authenticated to access this resource."}})
		h.wait(h.enqueue(created(is, "d-8")))
		if n := len(h.botComments("HD-8")); n != 0 {
			t.Errorf("%d comments after a 401", n)
		}
		if !strings.Contains(h.logs.String(), "Client must be authenticated") {
			t.Errorf("Jira's message is not in the log:\n%s", h.logs.String())
		}
		if _, writes := h.calls("HD-8"); writes != 1 {
			t.Errorf("%d write attempts, want 1 (no retry after a 401)", writes)
		}
	})
	t.Run("5xx is retried, then succeeds once", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.start()
		is := h.jira.AddIssue(jiratest.Issue{Key: "HD-9", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
		h.jira.FailNext(2, 502)
		h.wait(h.enqueue(created(is, "d-9")))
		if n := len(h.botComments("HD-9")); n != 1 {
			t.Errorf("%d comments after 5xx and retries, want 1", n)
		}
	})
	t.Run("429 honours Retry-After and is not a failure", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.start()
		is := h.jira.AddIssue(jiratest.Issue{Key: "HD-10", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
		// Two 429s asking for more than a task sleeps through: each is
		// handed back to asynq, whose retry waits; a task allowed one
		// retry still gets through, because a wait spends none.
		h.jira.FailNextWith(2, jiratest.Fault{Status: 429, RetryAfter: 2 * time.Second})
		start := time.Now()
		h.wait(h.enqueue(created(is, "d-10"), asynq.MaxRetry(1)))
		var first, next time.Time
		for _, c := range h.jira.Calls() {
			if c.Issue != "HD-10" {
				continue
			}
			if first.IsZero() {
				first = c.Time
			} else if next.IsZero() {
				next = c.Time
			}
		}
		if next.Sub(first) < 2*time.Second {
			t.Errorf("the call after a 429 with Retry-After: 2 came %v later, want ≥ 2s", next.Sub(first))
		}
		if n := len(h.botComments("HD-10")); n != 1 {
			t.Errorf("%d comments, want 1 (after %v)", n, time.Since(start))
		}
	})
}

// TestEvidenceNoteIsFoundAfterRedisLosesItsMark: the note's "done" mark is
// kept in Redis only. When Redis loses the ticket's copy, the next event
// adopts Jira's copy (escalated, note not marked done) and must find the
// posted note by its anchor instead of posting a second one.
func TestEvidenceNoteIsFoundAfterRedisLosesItsMark(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	h.jira.AddIssue(jiratest.Issue{Key: "HD-30", Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
		Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}}})
	p := commented("HD-30", alice, "Removed the old passkey and set up a new one. Defender still says it can no longer be used.", "d-30")
	addComment(h, "HD-30", alice, p.Comment.Body)
	h.wait(h.enqueue(p))
	internal := func() int {
		n := 0
		for _, c := range h.botComments("HD-30") {
			if c.Internal {
				n++
			}
		}
		return n
	}
	if n := internal(); n != 1 {
		t.Fatalf("%d internal notes after the escalation, want 1", n)
	}
	if err := h.rdb.Del(context.Background(), h.prefix+"state:{HD-30}").Err(); err != nil {
		t.Fatal(err)
	}
	q := commented("HD-30", alice, "Any news? Still can't get in.", "d-30b")
	addComment(h, "HD-30", alice, q.Comment.Body)
	h.wait(h.enqueue(q))
	if n := internal(); n != 1 {
		t.Errorf("%d internal notes after Redis lost the copy and the reporter wrote again, want 1", n)
	}
	if st, ok, err := h.store.Load(context.Background(), "HD-30"); err != nil || !ok || !st.NoteDone {
		t.Errorf("Redis state after the second event = %+v (found %v, %v), want the note marked done again", st, ok, err)
	}
}

func TestFollowupEscalatesAnUnansweredReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *worker.Config) { c.FollowupWindow = 300 * time.Millisecond }))
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-11", Summary: "passkey setup", Description: "How do I set up a passkey in Authenticator?", Reporter: alice})
	h.wait(h.enqueue(created(is, "d-11")))
	h.wait(worker.FollowupTaskID("HD-11", 1))
	if st := h.state("HD-11"); st.Escalated != "followup-timeout" {
		t.Errorf("Jira's state after the follow-up = %+v, want escalated for followup-timeout", st)
	}
	// the note's done mark is kept in the Redis copy only
	if st, ok, err := h.store.Load(context.Background(), "HD-11"); err != nil || !ok || st.Escalated != "followup-timeout" || !st.NoteDone {
		t.Errorf("Redis state after the follow-up = %+v (found %v, %v), want escalated with the note done", st, ok, err)
	}
	if page, _ := h.esc.List(context.Background(), escalation.Filter{Status: "open"}, time.Now()); len(page.Records) != 1 || page.Records[0].Reason != "followup-timeout" {
		t.Errorf("escalation records = %+v", page)
	}
}

func TestAnsweredTicketsFollowupIsANoop(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *worker.Config) { c.FollowupWindow = 5 * time.Second }))
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-12", Summary: "passkey setup", Description: "How do I set up a passkey in Authenticator?", Reporter: alice})
	h.wait(h.enqueue(created(is, "d-12")))
	addComment(h, "HD-12", alice, "done, all set up. thanks")
	h.wait(h.enqueue(commented("HD-12", alice, "done, all set up. thanks", "d-12b")))
	if !h.state("HD-12").Resolved {
		t.Fatalf("not resolved: %+v", h.state("HD-12"))
	}
	// the follow-up was cancelled; if it still runs it must do nothing
	if _, err := h.inspector.GetTaskInfo(h.queue, worker.FollowupTaskID("HD-12", 1)); !errors.Is(err, asynq.ErrTaskNotFound) {
		t.Errorf("follow-up still scheduled: %v", err)
	}
}

func TestShadowModeWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *worker.Config) { c.Mode = worker.ModeShadow }))
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-13", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	h.wait(h.enqueue(created(is, "d-13")))
	if _, writes := h.calls("HD-13"); writes != 0 {
		t.Errorf("%d Jira writes in shadow mode", writes)
	}
	hist, _ := h.store.History(context.Background(), "HD-13")
	if len(hist) != 1 || hist[0].Mode != "shadow" || len(hist[0].Writes) == 0 || !strings.HasPrefix(hist[0].Writes[0], "shadow") {
		t.Errorf("audit = %+v", hist)
	}
}

// TestJiraCallsPerAction measures, on the fake's call log, what each action
// costs in Jira calls; the README quotes these figures.
func TestJiraCallsPerAction(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *worker.Config) {
		c.EscalationAssignee = agentUser.AccountID
	}))
	h.start()
	type cost struct{ Reads, Writes int }
	measure := func(key string, p worker.TriagePayload) cost {
		h.wait(h.enqueue(p))
		r, w := h.calls(key)
		return cost{r, w}
	}
	got := map[string]cost{}

	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-20", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	got["reply (new ticket, webhook)"] = measure("HD-20", created(is, "c-20"))

	h.jira.AddIssue(jiratest.Issue{Key: "HD-21", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice,
		Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}, {Author: alice, Body: "Did that, still fails."}}})
	got["escalate-mfa (after the steps)"] = measure("HD-21", commented("HD-21", alice, "Did that, still fails.", "c-21"))

	h.jira.AddIssue(jiratest.Issue{Key: "HD-22", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice,
		Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}, {Author: alice, Body: "works now, thanks"}}})
	got["resolve"] = measure("HD-22", commented("HD-22", alice, "works now, thanks", "c-22"))

	is = h.jira.AddIssue(jiratest.Issue{Key: "HD-23", Summary: "printer", Description: "The printer on floor 2 is jammed.", Reporter: alice})
	got["human (new ticket)"] = measure("HD-23", created(is, "c-23"))

	is = h.jira.AddIssue(jiratest.Issue{Key: "HD-24", Summary: "locked", Description: "My account is locked after too many attempts.", Reporter: alice})
	got["escalate-password (new ticket)"] = measure("HD-24", created(is, "c-24"))

	want := map[string]cost{
		"reply (new ticket, webhook)":    {0, 1},
		"escalate-mfa (after the steps)": {1, 3}, // read the thread; notice+labels+state, note, assignee
		"resolve":                        {1, 1},
		"human (new ticket)":             {0, 1},
		"escalate-password (new ticket)": {0, 3},
	}
	for k, c := range got {
		t.Logf("%-32s %d reads, %d writes", k, c.Reads, c.Writes)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Jira calls per action (-want +got):\n%s", diff)
	}
}

// TestRedeliveryAfterRedisLostItsState: Jira retries a webhook whose first
// delivery was handled, and meanwhile Redis lost the state copy and the
// task's id. A retry is marked redelivered, so the worker reads Jira's
// state instead of trusting the empty Redis: no second reply.
func TestRedeliveryAfterRedisLostItsState(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-30", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	h.wait(h.enqueue(created(is, "d-30")))
	keys, err := h.rdb.Keys(context.Background(), h.prefix+"state:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no state keys to lose: %v %v", keys, err)
	}
	h.rdb.Del(context.Background(), keys...)
	again := created(is, "d-30-after-loss")
	again.Redelivered = true
	h.wait(h.enqueue(again))
	if n := len(h.botComments("HD-30")); n != 1 {
		t.Errorf("%d bot comments after a redelivery with the Redis state lost, want 1", n)
	}
}
