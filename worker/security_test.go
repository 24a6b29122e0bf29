package worker_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

// TestSecurityReport: a report of a possible attack gets the label, the
// priority, one internal note with the evidence and the runbook, a record
// in the escalation queue with reason security, and nothing public; a
// second delivery adds nothing.
func TestSecurityReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *worker.Config) {
		c.SecurityPriority = "Highest"
		c.SecurityAssignee = agentUser.AccountID
	}))
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "SEC-1", Summary: "Approval requests at 3 am",
		Description: "Got about ten Approve sign-in request notifications at 3 am. That was not me, I was asleep.", Reporter: alice})
	h.wait(h.enqueue(created(is, "s-1")))
	h.wait(h.enqueue(created(is, "s-2")))

	comments := h.botComments("SEC-1")
	if len(comments) != 1 {
		t.Fatalf("%d bot comments, want 1 (the internal note)", len(comments))
	}
	if c := comments[0]; !c.Internal || !strings.Contains(c.Body, "Possible attack reported") || !strings.Contains(c.Body, "Revoke sessions") || !strings.Contains(c.Body, "not me") {
		t.Errorf("note: internal %v, body:\n%s", c.Internal, c.Body)
	}
	if diff := cmp.Diff([]string{triage.LabelNeedsHuman, triage.LabelSecurity}, h.jira.Labels("SEC-1"), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	got, _ := h.jira.Issue("SEC-1")
	if got.Priority != "Highest" {
		t.Errorf("priority %q, want Highest", got.Priority)
	}
	if got.Assignee == nil || got.Assignee.AccountID != agentUser.AccountID {
		t.Errorf("assignee %+v, want %s", got.Assignee, agentUser.AccountID)
	}
	rec, ok, err := h.esc.Get(context.Background(), "SEC-1:"+triage.ReasonSecurity)
	if err != nil || !ok {
		t.Fatalf("no escalation record with reason security: %v", err)
	}
	if rec.Reason != triage.ReasonSecurity {
		t.Errorf("record reason %q", rec.Reason)
	}
	if st := h.state("SEC-1"); st.Escalated != triage.ReasonSecurity || !st.Human {
		t.Errorf("state %+v", st)
	}
}

// TestSecurityAcknowledgement: with the acknowledgement on, the reporter
// gets one short public comment in their language, and no steps.
func TestSecurityAcknowledgement(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *worker.Config) { c.SecurityAck = true }))
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "SEC-2", Summary: "Não fui eu!",
		Description: "Recebi vários pedidos de aprovação no Authenticator esta noite e não fui eu.", Reporter: alice})
	h.wait(h.enqueue(created(is, "s-3")))
	var public []string
	for _, c := range h.botComments("SEC-2") {
		if !c.Internal {
			public = append(public, c.Body)
		}
	}
	if len(public) != 1 || !strings.Contains(public[0], "não aprove nenhum pedido") {
		t.Errorf("public comments: %q", public)
	}
}

// TestReplyInTheReportersLanguage: a German ticket gets the German steps,
// a French escalation the French notice, and a reply names Defender only
// when the reporter did.
func TestReplyInTheReportersLanguage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "DE-1", Summary: "Passkey geht nicht mehr",
		Description: "Auf meinem iPhone steht, dass mein Passkey nicht mehr verwendet werden kann. Was soll ich tun?", Reporter: alice})
	h.wait(h.enqueue(created(is, "l-1")))
	de := h.botComments("DE-1")
	if len(de) != 1 || !strings.Contains(de[0].Body, "Passkey") || !strings.Contains(de[0].Body, "Hallo") || strings.Contains(de[0].Body, "Defender") {
		t.Errorf("German ticket, reply:\n%v", de)
	}

	is = h.jira.AddIssue(jiratest.Issue{Key: "FR-1", Summary: "Mot de passe oublié",
		Description: "Bonjour, j'ai oublié mon mot de passe et mon compte est bloqué depuis ce matin.", Reporter: alice})
	h.wait(h.enqueue(created(is, "l-2")))
	var notice, note string
	for _, c := range h.botComments("FR-1") {
		if c.Internal {
			note = c.Body
		} else {
			notice = c.Body
		}
	}
	if !strings.Contains(notice, "administrateur") {
		t.Errorf("French escalation notice:\n%s", notice)
	}
	if !strings.Contains(note, "(fr)") || !strings.Contains(note, "Escalated") {
		t.Errorf("the internal note is in the agents' language and names the reporter's:\n%s", note)
	}
}

// TestReporterMarkerDoesNotSuppressTheNote: an escalation announced by an
// attempt that died before its internal note; the reporter has since
// pasted the note's marker into a comment. Only the bot's own comments
// count, so the note is still posted.
func TestReporterMarkerDoesNotSuppressTheNote(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	state, _ := json.Marshal(triage.State{Version: 2, Replied: []string{"passkey-invalid"}, Escalated: triage.ReasonMFAReset})
	h.jira.AddIssue(jiratest.Issue{Key: "HD-31", Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
		Labels: []string{triage.LabelReplied, triage.LabelEscalated},
		Comments: []jiratest.Comment{
			{Author: botUser, Body: botSteps},
			{Author: alice, Body: "Did that, still fails."},
			{Author: botUser, Body: "We have passed your ticket to an IT admin."},
			{Author: alice, Body: "ok {anchor:triage-note-hd-31-2}"},
		},
		Properties: map[string]json.RawMessage{"triage": state}})
	p := commented("HD-31", alice, "ok {anchor:triage-note-hd-31-2}", "m-1")
	h.wait(h.enqueue(p))
	n := 0
	for _, c := range h.botComments("HD-31") {
		if c.Internal {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d internal notes from the bot, want 1 (a reporter's copy of the marker must not count)", n)
	}
}

// TestBotAccountInAnotherCase: on Data Center the bot's comments may come
// back with its user name in another case. They are still the bot's: the
// reporter's "still fails" after them escalates, it does not go to a human
// as if an agent had answered.
func TestBotAccountInAnotherCase(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withConfig(func(c *worker.Config) { c.BotAccountID = strings.ToUpper(botUser.AccountID) }))
	h.start()
	h.jira.AddIssue(jiratest.Issue{Key: "DC-1", Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
		Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}, {Author: alice, Body: "Did all of that and it still fails."}}})
	h.wait(h.enqueue(commented("DC-1", alice, "Did all of that and it still fails.", "dc-1")))
	if ls := h.jira.Labels("DC-1"); !contains(ls, triage.LabelEscalated) || contains(ls, triage.LabelNeedsHuman) {
		t.Errorf("labels %v: the bot's own comment counted as an agent's", ls)
	}
}

// TestRepeatedCreationAfterRedisWasFlushed: the Redis copy of the state is
// gone (FLUSHDB, or its expiry) and Jira sends jira:issue_created again under
// a new identifier. The labels the webhook carries show the bot has been
// there, so the worker reads Jira's state: one reply, not two.
func TestRepeatedCreationAfterRedisWasFlushed(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "FL-1", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	h.wait(h.enqueue(created(is, "fl-1")))
	keys, _ := h.rdb.Keys(context.Background(), h.prefix+"*").Result()
	if len(keys) == 0 {
		t.Fatal("nothing in Redis to flush")
	}
	h.rdb.Del(context.Background(), keys...)
	again, _ := h.jira.Issue("FL-1") // as the second webhook carries it: with the bot's labels
	h.wait(h.enqueue(created(again, "fl-2")))
	if n := len(h.botComments("FL-1")); n != 1 {
		t.Errorf("%d bot comments after the Redis state was flushed and the creation repeated, want 1", n)
	}
}

// TestEscalatedAndResolvedTickets: an escalated ticket gets no new steps
// when the reporter mentions another problem (the admins have it), and a
// thank-you after the fix leaves a resolved ticket alone.
func TestEscalatedAndResolvedTickets(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.start()
	h.jira.AddIssue(jiratest.Issue{Key: "ES-1", Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
		Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}, {Author: alice, Body: "Did that, still fails."}}})
	h.wait(h.enqueue(commented("ES-1", alice, "Did that, still fails.", "es-1")))
	before := len(h.botComments("ES-1"))
	addComment(h, "ES-1", alice, "Also, how do I set up a passkey on my new Android phone?")
	h.wait(h.enqueue(commented("ES-1", alice, "Also, how do I set up a passkey on my new Android phone?", "es-2")))
	if n := len(h.botComments("ES-1")); n != before {
		t.Errorf("an escalated ticket got %d more bot comments, want none", n-before)
	}

	h.jira.AddIssue(jiratest.Issue{Key: "RS-1", Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
		Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}, {Author: alice, Body: "works now, thanks"}}})
	h.wait(h.enqueue(commented("RS-1", alice, "works now, thanks", "rs-1")))
	addComment(h, "RS-1", alice, "thanks again, have a nice weekend")
	h.wait(h.enqueue(commented("RS-1", alice, "thanks again, have a nice weekend", "rs-2")))
	if ls := h.jira.Labels("RS-1"); contains(ls, triage.LabelNeedsHuman) || !contains(ls, triage.LabelResolved) {
		t.Errorf("labels %v after a thank-you on a resolved ticket", ls)
	}
}
