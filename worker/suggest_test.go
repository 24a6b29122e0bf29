package worker_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

// passkeyTicket is a ticket the bot would answer with the passkey-invalid
// steps (TestReplyOnANewTicket); with the auto threshold at 1.01 it is a
// suggestion.
func passkeyTicket(key string) jiratest.Issue {
	return jiratest.Issue{Key: key, Summary: "Passkey problem", Description: "Defender says my passkey can no longer be used. iPhone 15.", Reporter: alice}
}

// suggested files a ticket on a suggestions-only worker and waits for
// its suggestion.
func suggested(t *testing.T, is jiratest.Issue) *harness {
	t.Helper()
	h := newHarness(t, withSuggestionsOnly())
	h.start()
	h.wait(h.enqueue(created(h.jira.AddIssue(is), "new-"+is.Key)))
	return h
}

// agentSays adds an agent's internal comment to the ticket and runs the
// task its webhook makes, as intake sends it (marked as an agent's).
func (h *harness) agentSays(key, body, delivery string, opts ...asynq.Option) {
	h.t.Helper()
	is, _ := h.jira.Issue(key)
	is.Comments = append(is.Comments, jiratest.Comment{Author: agentUser, Body: body, Internal: true})
	h.jira.AddIssue(is)
	p := commented(key, agentUser, body, delivery)
	p.Comment.Internal, p.Agent = true, true
	h.wait(h.enqueue(p, opts...))
}

// public and internal split the bot's comments.
func (h *harness) public(key string) (public, internal []jiratest.Comment) {
	for _, c := range h.botComments(key) {
		if c.Internal {
			internal = append(internal, c)
		} else {
			public = append(public, c)
		}
	}
	return public, internal
}

// outcomes is the audit's outcomes of a ticket, as "outcome by actor".
func (h *harness) outcomes(key string) []string {
	h.t.Helper()
	hist, err := h.store.History(context.Background(), key)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, e := range hist {
		if e.Outcome != "" {
			out = append(out, e.Outcome+" by "+e.Actor)
		}
	}
	return out
}

// TestSuggestionIsOneInternalNote: a suggest verdict gets exactly one
// internal note (the action, the exact reply, the evidence, the
// confidence, the commands) and the label triage-suggested; the reporter
// sees nothing, and a second event on the ticket adds nothing.
func TestSuggestionIsOneInternalNote(t *testing.T) {
	t.Parallel()
	h := suggested(t, passkeyTicket("SG-1"))
	is, _ := h.jira.Issue("SG-1")
	h.wait(h.enqueue(created(is, "again-SG-1")))

	public, internal := h.public("SG-1")
	if len(public) != 0 || len(internal) != 1 {
		t.Fatalf("%d public and %d internal bot comments, want 0 and 1", len(public), len(internal))
	}
	for _, want := range []string{"Suggestion for the agents", "reply with the steps", "*Confidence:*", "passkey can no longer be used",
		"Hi Alice", "remove any passkeys that no longer apply", "/triage send", "/triage wrong human"} {
		if !strings.Contains(internal[0].Body, want) {
			t.Errorf("the note lacks %q:\n%s", want, internal[0].Body)
		}
	}
	if ls := h.jira.Labels("SG-1"); !contains(ls, triage.LabelSuggested) || contains(ls, triage.LabelReplied) {
		t.Errorf("labels %v, want %s and not %s", ls, triage.LabelSuggested, triage.LabelReplied)
	}
	st := h.state("SG-1")
	if s := st.Suggestion; s == nil || !s.Pending() || s.Action != classifier.ActionReply || !cmp.Equal(s.Reply, []string{"passkey-invalid"}) {
		t.Errorf("state's suggestion %+v", st.Suggestion)
	}
	if len(st.Replied) != 0 {
		t.Errorf("state says replied %v", st.Replied)
	}
	if modes, _ := h.decisions.counts(); !cmp.Equal(modes, map[string]int{triage.ModeSuggest: 1}) {
		t.Errorf("decisions counted %v, want one suggest (the second event did nothing new)", modes)
	}
}

// TestSendRepliesExactlyOnce: an agent's /triage send posts the reply the
// bot would have posted alone, once, even when the command comes twice
// and its webhook is delivered twice; the approval is in the state and the
// audit.
func TestSendRepliesExactlyOnce(t *testing.T) {
	t.Parallel()
	h := suggested(t, passkeyTicket("SG-2"))
	h.agentSays("SG-2", "/triage send", "send-1")
	// the same delivery again, past asynq's dedupe of task ids, as Jira's retry
	p := commented("SG-2", agentUser, "/triage send", "send-1")
	p.Comment.Internal, p.Agent, p.Redelivered = true, true, true
	h.wait(h.enqueue(p, asynq.TaskID("send-1-again")))
	h.agentSays("SG-2", "/triage send", "send-2")

	public, internal := h.public("SG-2")
	if len(public) != 1 || len(internal) != 1 {
		t.Fatalf("%d public and %d internal bot comments, want 1 and 1", len(public), len(internal))
	}
	if !strings.Contains(public[0].Body, "remove any passkeys that no longer apply") || !strings.Contains(public[0].Body, "Hi Alice") {
		t.Errorf("the reply:\n%s", public[0].Body)
	}
	st := h.state("SG-2")
	if s := st.Suggestion; s == nil || s.SentBy != agentUser.AccountID || s.Outcome != triage.OutcomeSent {
		t.Errorf("state's suggestion %+v", st.Suggestion)
	}
	if !cmp.Equal(st.Replied, []string{"passkey-invalid"}) || !contains(h.jira.Labels("SG-2"), triage.LabelReplied) {
		t.Errorf("state replied %v, labels %v", st.Replied, h.jira.Labels("SG-2"))
	}
	if diff := cmp.Diff([]string{"sent by " + agentUser.AccountID}, h.outcomes("SG-2")); diff != "" {
		t.Errorf("audit outcomes (-want +got):\n%s", diff)
	}
	if _, outcomes := h.decisions.counts(); !cmp.Equal(outcomes, map[string]int{triage.OutcomeSent: 1}) {
		t.Errorf("outcomes counted %v, want one sent", outcomes)
	}
	if _, err := h.inspector.GetTaskInfo(h.queue, worker.FollowupTaskID("SG-2", st.Version)); err != nil {
		t.Errorf("no follow-up after the sent reply, as the bot alone would have: %v", err)
	}
}

// TestReporterCommandDoesNothing: the same command from the reporter sends
// nothing, records no outcome, and the suggestion still waits.
func TestReporterCommandDoesNothing(t *testing.T) {
	t.Parallel()
	h := suggested(t, passkeyTicket("SG-3"))
	addComment(h, "SG-3", alice, "/triage send")
	h.wait(h.enqueue(commented("SG-3", alice, "/triage send", "rep-1")))

	if public, internal := h.public("SG-3"); len(public) != 0 || len(internal) != 1 {
		t.Errorf("%d public and %d internal bot comments, want 0 and 1", len(public), len(internal))
	}
	if s := h.state("SG-3").Suggestion; s == nil || !s.Pending() || s.Outcome != "" {
		t.Errorf("state's suggestion %+v, want it pending", s)
	}
	if _, outcomes := h.decisions.counts(); len(outcomes) != 0 {
		t.Errorf("outcomes counted %v, want none", outcomes)
	}
}

// TestWrongHuman: /triage wrong human leaves the ticket to a person, says
// nothing to the reporter, and is kept for the feedback export as human;
// a later /triage send does nothing.
func TestWrongHuman(t *testing.T) {
	t.Parallel()
	h := suggested(t, passkeyTicket("SG-4"))
	h.agentSays("SG-4", "/triage wrong human", "wrong-1")
	h.agentSays("SG-4", "/triage send", "send-1")

	if public, _ := h.public("SG-4"); len(public) != 0 {
		t.Errorf("%d public bot comments, want none", len(public))
	}
	if ls := h.jira.Labels("SG-4"); !contains(ls, triage.LabelNeedsHuman) || contains(ls, triage.LabelReplied) {
		t.Errorf("labels %v", ls)
	}
	if s := h.state("SG-4").Suggestion; s == nil || s.Outcome != triage.OutcomeCorrected || s.Corrected == nil || !s.Corrected.Human || s.SentBy != "" {
		t.Errorf("state's suggestion %+v", s)
	}
	if _, outcomes := h.decisions.counts(); !cmp.Equal(outcomes, map[string]int{triage.OutcomeCorrected: 1}) {
		t.Errorf("outcomes counted %v, want one corrected", outcomes)
	}
	got, err := h.store.FeedbackSince(context.Background(), time.Now().Add(-time.Hour))
	if err != nil || len(got) != 1 {
		t.Fatalf("feedback %+v, %v; want SG-4", got, err)
	}
	if f := got[0]; f.Feedback.Key != "SG-4" || f.Feedback.Expect.Action != classifier.ActionHuman || f.Ticket == nil || f.Ticket.Summary != "Passkey problem" {
		t.Errorf("feedback %+v (ticket %+v)", f.Feedback, f.Ticket)
	}
}

// TestWrongCategoriesThenSend: /triage wrong with categories replaces the
// suggestion's; the following /triage send replies with their steps.
func TestWrongCategoriesThenSend(t *testing.T) {
	t.Parallel()
	h := suggested(t, passkeyTicket("SG-5"))
	h.agentSays("SG-5", "/triage wrong passkey-setup,new-device", "wrong-1")
	if public, _ := h.public("SG-5"); len(public) != 0 {
		t.Fatalf("a correction posted %d public comments, want none before /triage send", len(public))
	}
	h.agentSays("SG-5", "/triage send", "send-1")
	public, _ := h.public("SG-5")
	if len(public) != 1 {
		t.Fatalf("%d public bot comments, want 1", len(public))
	}
	if b := public[0].Body; !strings.Contains(b, "Set up a passkey in Microsoft Authenticator") || !strings.Contains(b, "New phone") || strings.Contains(b, "Passkey can no longer be used") {
		t.Errorf("the reply is not the corrected categories' steps:\n%s", b)
	}
	if st := h.state("SG-5"); !cmp.Equal(st.Replied, []string{"passkey-setup", "new-device"}) {
		t.Errorf("state replied %v", st.Replied)
	}
	if _, outcomes := h.decisions.counts(); !cmp.Equal(outcomes, map[string]int{triage.OutcomeCorrected: 1}) {
		t.Errorf("outcomes counted %v, want one corrected (sending the correction is no second outcome)", outcomes)
	}
}

// TestAgentAnswersOtherwise: an agent's ordinary public reply after a
// suggestion is the outcome "otherwise"; the suggestion is then no longer
// sent.
func TestAgentAnswersOtherwise(t *testing.T) {
	t.Parallel()
	h := suggested(t, passkeyTicket("SG-6"))
	p := commented("SG-6", agentUser, "Hi Alice, I will call you in five minutes.", "ans-1")
	p.Agent = true
	addComment(h, "SG-6", agentUser, p.Comment.Body)
	h.wait(h.enqueue(p))
	h.agentSays("SG-6", "/triage send", "send-1")

	if public, _ := h.public("SG-6"); len(public) != 0 {
		t.Errorf("%d public bot comments, want none", len(public))
	}
	if diff := cmp.Diff([]string{"otherwise by " + agentUser.AccountID}, h.outcomes("SG-6")); diff != "" {
		t.Errorf("audit outcomes (-want +got):\n%s", diff)
	}
	if _, outcomes := h.decisions.counts(); !cmp.Equal(outcomes, map[string]int{triage.OutcomeOtherwise: 1}) {
		t.Errorf("outcomes counted %v", outcomes)
	}
}

// TestSuggestedEscalation: an escalation is only suggested (no notice, no
// record) until an agent sends it; then it is carried out as the bot
// alone would.
func TestSuggestedEscalation(t *testing.T) {
	t.Parallel()
	h := suggested(t, jiratest.Issue{Key: "SG-7", Summary: "Please reset my MFA",
		Description: "I lost my phone yesterday and have no other way to sign in. Please reset my MFA.", Reporter: alice})
	if public, internal := h.public("SG-7"); len(public) != 0 || len(internal) != 1 || !strings.Contains(internal[0].Body, "escalate") {
		t.Fatalf("%d public and %d internal bot comments (want 0 and 1, a suggested escalation): %v", len(public), len(internal), internal)
	}
	if n := h.escalations("SG-7"); n != 0 {
		t.Fatalf("%d escalation records before /triage send", n)
	}
	h.agentSays("SG-7", "/triage send", "send-1")
	public, _ := h.public("SG-7")
	if len(public) != 1 || !contains(h.jira.Labels("SG-7"), triage.LabelEscalated) {
		t.Errorf("%d public comments, labels %v: want the escalation notice", len(public), h.jira.Labels("SG-7"))
	}
	if n := h.escalations("SG-7"); n != 1 {
		t.Errorf("%d escalation records after /triage send, want 1", n)
	}
}

// escalations counts a ticket's escalation records, whatever the reason.
func (h *harness) escalations(key string) int {
	h.t.Helper()
	n := 0
	for _, r := range triage.Reasons {
		_, ok, err := h.esc.Get(context.Background(), key+":"+r)
		if err != nil {
			h.t.Fatal(err)
		}
		if ok {
			n++
		}
	}
	return n
}

// TestUnreadableCommand: an agent's command that cannot be read changes
// nothing but gets one internal note in the agents' language that says so
// and lists the commands, once, even when the webhook comes twice (under
// two delivery ids); the reporter sees nothing.
func TestUnreadableCommand(t *testing.T) {
	t.Parallel()
	h := suggested(t, passkeyTicket("SG-9"))
	const body = "/triage wrong pasky-setup"
	is, _ := h.jira.Issue("SG-9")
	is.Comments = append(is.Comments, jiratest.Comment{Author: agentUser, Body: body, Internal: true})
	h.jira.AddIssue(is)
	for _, delivery := range []string{"cmd-1", "cmd-1-again"} {
		p := commented("SG-9", agentUser, body, delivery)
		p.Comment.ID, p.Comment.Internal, p.Agent = "10077", true, true
		h.wait(h.enqueue(p))
	}
	public, internal := h.public("SG-9")
	var notes []string
	for _, c := range internal {
		if strings.Contains(c.Body, "Command not understood") {
			notes = append(notes, c.Body)
		}
	}
	if len(public) != 0 || len(notes) != 1 || !strings.Contains(notes[0], "pasky-setup") {
		t.Errorf("%d public comments and %d notes on the unreadable command (%q); want none and one that quotes it", len(public), len(notes), notes)
	}
	if s := h.state("SG-9").Suggestion; s == nil || s.Outcome != "" {
		t.Errorf("the suggestion %+v changed; an unreadable command must change nothing", s)
	}
	// the note is for the agents: the classifier does not read it as the
	// bot's answer to the reporter
	read, err := h.jiraClient().GetIssue(context.Background(), "SG-9")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range worker.TicketOf(read, botUser.AccountID).Comments {
		if strings.Contains(c.Body, "Command not understood") {
			t.Errorf("the classifier reads the note on the unreadable command: %q", c.Body)
		}
	}
}
