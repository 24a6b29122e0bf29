package worker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

// TestServerCommentReadsTheIssueOnce: a Server/DC comment event names the
// issue by its numeric id; the read that learns the key is the one the
// decision uses, and the task's log lines name the key, as the audit does.
func TestServerCommentReadsTheIssueOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "PRJX-14", Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
		Comments: []jiratest.Comment{{Author: alice, Body: "It is an iPhone 15."}}})
	p := commented(is.ID, alice, "It is an iPhone 15.", "dc-1")
	h.wait(h.enqueue(p))

	var reads int
	for _, c := range h.jira.Calls() {
		if c.Method == "GET" && strings.HasPrefix(c.Path, "/rest/api/2/issue/") {
			reads++
		}
	}
	if reads != 1 {
		t.Errorf("%d reads of the issue, want 1", reads)
	}
	if n := len(h.botComments("PRJX-14")); n != 1 {
		t.Errorf("%d bot comments, want the reply", n)
	}
	logs := h.logs.String()
	if strings.Contains(logs, `"issue_key":"`+is.ID+`"`) || !strings.Contains(logs, `"issue_key":"PRJX-14"`) {
		t.Errorf("log lines name the issue by its id %s as a key:\n%s", is.ID, logs)
	}
}

// TestIssueGoneFromJira: a ticket whose issue Jira answers 404 (deleted)
// after a reply leaves an audit entry saying so, no "writing" mark in the
// state, and no follow-up waiting.
func TestIssueGoneFromJira(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	ctx := context.Background()
	const key = "HD-404"
	// a previous task replied, scheduled the follow-up and died with its
	// next write under way; the issue was deleted since
	if err := h.store.Save(ctx, key, triage.State{Version: 1, Replied: []string{"passkey-invalid"}, Writing: true}); err != nil {
		t.Fatal(err)
	}
	f := &worker.AsynqFollowups{Client: h.client, Inspector: h.inspector, Queue: h.queue}
	for _, v := range []int{1, 2} {
		if err := f.Schedule(ctx, key, v, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	h.wait(h.enqueue(commented(key, alice, "still broken", "gone-1")))

	hist, err := h.store.History(ctx, key)
	if err != nil || len(hist) != 1 || !strings.Contains(strings.Join(hist[0].Writes, "; "), "Jira answered 404") {
		t.Errorf("audit = %+v, %v; want one entry saying Jira answered 404", hist, err)
	}
	st, found, err := h.store.Load(ctx, key)
	if err != nil || !found || st.Writing || st.Version != 1 {
		t.Errorf("state = %+v (found %v, %v); want version 1 without the writing mark", st, found, err)
	}
	for _, v := range []int{1, 2} {
		if _, err := h.inspector.GetTaskInfo(h.queue, worker.FollowupTaskID(key, v)); !errors.Is(err, asynq.ErrTaskNotFound) {
			t.Errorf("follow-up %d still there: %v", v, err)
		}
	}

	// a Server/DC comment event of a deleted issue: only its id is known,
	// and the log says so as an id, not as a key
	h.wait(h.enqueue(commented("99999", alice, "still broken", "gone-2")))
	if logs := h.logs.String(); strings.Contains(logs, `"issue_key":"99999"`) || !strings.Contains(logs, `"issue_id":"99999"`) {
		t.Errorf("the id of an issue whose key is unknown is logged as a key:\n%s", logs)
	}
}

// TestReporterEditsAComment: an edit before the bot has answered is
// triaged (the reporter fixed a typo); after the bot's reply, an edit is
// not a new message.
func TestReporterEditsAComment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	edited := func(key, body, delivery string) worker.TriagePayload {
		p := commented(key, alice, body, delivery)
		p.Event = triage.EventCommentUpdated
		return p
	}
	// no answer yet: the ticket said nothing the bot could act on, the
	// reporter's fixed comment does
	h.jira.AddIssue(jiratest.Issue{Key: "HD-50", Summary: "help", Description: "see below", Reporter: alice,
		Comments: []jiratest.Comment{{Author: alice, Body: "Defender says my passkey can no longer be used. iPhone 15."}}})
	h.wait(h.enqueue(edited("HD-50", "Defender says my passkey can no longer be used. iPhone 15.", "e-1")))
	if n := len(h.botComments("HD-50")); n != 1 {
		t.Errorf("%d bot comments after the reporter's edit before any reply, want 1", n)
	}

	// after the bot's reply: the edit is left alone
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-51", Summary: "Passkey problem", Description: "Defender says my passkey can no longer be used. iPhone 15.", Reporter: alice})
	h.wait(h.enqueue(created(is, "e-2")))
	addComment(h, "HD-51", alice, "It still fails, I did all of that")
	before := len(h.jira.Calls())
	h.wait(h.enqueue(edited("HD-51", "It still fails, I did all of that", "e-3")))
	if n := len(h.botComments("HD-51")); n != 1 {
		t.Errorf("%d bot comments after an edit that followed the reply, want 1 (the reply)", n)
	}
	if calls := h.jira.Calls()[before:]; len(calls) != 0 {
		t.Errorf("an edit after the reply cost %d Jira calls, want none", len(calls))
	}
	// the audit says why the edit got no answer
	hist, err := h.store.History(context.Background(), "HD-51")
	if err != nil || len(hist) != 2 || hist[1].DeliveryID != "e-3" || !strings.Contains(strings.Join(hist[1].Writes, "; "), "edited after the bot's reply") {
		t.Errorf("audit = %+v, %v; want the reply's entry, then one for the edit saying it came after the bot's reply", hist, err)
	}
	// the Redis copy lost: Jira's state says the bot replied
	keys, err := h.rdb.Keys(context.Background(), h.prefix+"state:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no state keys to lose: %v %v", keys, err)
	}
	h.rdb.Del(context.Background(), keys...)
	h.wait(h.enqueue(edited("HD-51", "It still fails, I did all of that", "e-4")))
	if n := len(h.botComments("HD-51")); n != 1 {
		t.Errorf("%d bot comments after an edit that followed the reply, the Redis copy lost, want 1 (the reply)", n)
	}
}
