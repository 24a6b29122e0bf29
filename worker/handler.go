package worker

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/templates"
)

// ErrBusy is returned at once when another task holds the ticket: asynq
// retries the task after RetryDelay, and IsFailure does not count it as a
// failure, so the retry spends none of the task's retries.
var ErrBusy = errors.New("another task is working on this ticket")

// ErrLockLost is the cause of a task's context cancelled because the
// ticket's lock was lost (it expired, or another task took it): the task
// must not go on writing as if it held the ticket alone.
var ErrLockLost = errors.New("the ticket's lock was lost")

// Deps are the handlers' collaborators.
type Deps struct {
	Classifier  *classifier.Classifier
	Templates   *templates.Set
	Jira        triage.Jira
	States      triage.StateStore
	Escalations triage.EscalationStore
	Followups   triage.Followups
	// Metrics, when set, receives decisions and latencies.
	Metrics triage.Metrics
	// Decisions, when set, counts the decisions acted on by mode and the
	// agents' outcomes per day (the admins' Decisions view).
	Decisions triage.DecisionCounter
	// Feedback, when set, keeps the text of tickets the bot suggested or
	// escalated and the agents' outcomes, for triage feedback export.
	Feedback triage.FeedbackRecorder
	Logger   zerolog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// TriageHandler handles TypeTriageTicket and TypeFollowup tasks.
type TriageHandler struct {
	cfg Config
	d   Deps
}

// NewTriageHandler checks the configuration and the collaborators.
func NewTriageHandler(cfg Config, d Deps) (*TriageHandler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var missing []string
	if d.Classifier == nil {
		missing = append(missing, "classifier")
	}
	if d.Templates == nil {
		missing = append(missing, "templates")
	}
	if d.Jira == nil {
		missing = append(missing, "Jira")
	}
	if d.States == nil {
		missing = append(missing, "state store")
	}
	if d.Escalations == nil {
		missing = append(missing, "escalation store")
	}
	if d.Followups == nil {
		missing = append(missing, "follow-up scheduler")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("triage handler: missing %s", strings.Join(missing, ", "))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &TriageHandler{cfg: cfg.withDefaults(), d: d}, nil
}

// Register puts the handler's task types on a mux.
func (h *TriageHandler) Register(mux *asynq.ServeMux) {
	mux.Handle(TypeTriageTicket, asynq.HandlerFunc(h.ProcessTask))
	mux.Handle(TypeFollowup, asynq.HandlerFunc(h.ProcessFollowup))
}

// run is one task's context: the ticket, what is known of it, and what was
// done, for the audit.
type run struct {
	key      string
	taskID   string
	retried  int
	log      zerolog.Logger
	state    triage.State
	found    bool
	writes   []string
	delivery string
	event    string
	// commented is set once the run wrote a comment to Jira.
	commented bool
	// acted is set once the run wrote to Jira (or would have, in shadow
	// mode): the decision did something new.
	acted bool
	// outcome and actor, when set, are the helpdesk's outcome the run
	// recorded, for the audit entry.
	outcome, actor string
	// skipped is set when the last write left its internal comment out
	// (triage.InternalNoteSkipped): the audit says why instead.
	skipped bool
	// agent is the ticket's agent mark, read with the lock.
	agent bool
	// releaseFn is the lock's Hold.Release.
	releaseFn func(ctx context.Context, s *triage.State, e *triage.AuditEntry) error
	// stop ends the context acquire made, once the lock is let go.
	stop func()
}

// ProcessTask triages a ticket after an event.
func (h *TriageHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p TriagePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode triage payload: %v: %w", err, asynq.SkipRetry)
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("triage payload: %v: %w", err, asynq.SkipRetry)
	}
	if p.Comment != nil && triage.SameAccount(p.Comment.AuthorID, h.cfg.BotAccountID) {
		h.d.Logger.Debug().Str(issueField(p.Issue.Key), p.Issue.Key).Msg("the bot's own comment: nothing to do")
		return nil
	}
	// pre is the issue read to learn its key, kept for the decision when
	// nothing changed on the ticket since (see fresh).
	var pre *triage.Issue
	var preAt time.Time
	if isNumeric(p.Issue.Key) {
		// a Server/DC comment event names the issue by id: the state is
		// kept by key, so learn the key first
		preAt = h.d.Now()
		is, err := h.d.Jira.GetIssue(ctx, p.Issue.Key)
		if err != nil {
			return h.jiraErr(h.newRun(ctx, p.Issue.Key, p.Event, p.DeliveryID), "read", err)
		}
		p.Issue.Key, p.Issue.ID = is.Key, cmp.Or(p.Issue.ID, p.Issue.Key)
		pre = &is
	}
	r := h.newRun(ctx, p.Issue.Key, p.Event, p.DeliveryID)
	if p.Issue.ID != "" && p.Issue.ID != p.Issue.Key {
		r.log = r.log.With().Str("issue_id", p.Issue.ID).Logger()
	}

	ctx, err := h.acquire(ctx, r)
	if err != nil {
		return err
	}
	defer r.release()

	if r.state.Handled(p.DeliveryID) {
		r.log.Info().Msg("delivery already handled")
		return nil
	}
	if p.Comment != nil {
		if cmd, is, err := triage.ParseCommand(p.Comment.Body); is {
			return h.command(ctx, r, p, cmd, err)
		}
		if p.Agent {
			return h.agentComment(ctx, r, p)
		}
	}

	if p.Event == triage.EventCommentUpdated && r.found && botReplied(r.state) {
		return h.editAfterReply(ctx, r, p)
	}
	issue := p.Issue
	switch {
	case pre != nil && fresh(r, preAt):
		// the read that found the key is the ticket as it is: one read
		h.adopt(r, *pre)
		issue = *pre
	case h.needsRead(p, r):
		full, err := h.read(ctx, r)
		if err != nil {
			return err
		}
		issue = full
	}
	if p.Event == triage.EventCommentUpdated && botReplied(r.state) {
		// a reporter fixing a typo before the bot answered deserves an
		// answer; after it, an edit is no new message
		return h.editAfterReply(ctx, r, p)
	}
	if p.Comment != nil && !p.Comment.Internal && isAgent(p.Comment.AuthorID, issue, h.cfg.BotAccountID) {
		// an agent's answer seen only now (intake could not tell the
		// author from the reporter)
		h.otherwise(ctx, r, p.Comment.AuthorID)
	}
	v := h.d.Classifier.Decide(h.ticket(issue, r.state))
	if r.agent && v.Action != classifier.ActionHuman {
		v.Action, v.Reply, v.Reason, v.Mode = classifier.ActionHuman, nil, "a helpdesk agent has commented on the ticket", classifier.ModeNone
	}
	r.log.Info().Str("action", string(v.Action)).Strs("categories", v.Categories).Str("platform", v.Platform).
		Float64("confidence", v.Confidence).Str("reason", v.Reason).Msg("decided")
	r.log.Debug().Str("summary", issue.Summary).Msg("ticket text")

	reason := ""
	if r.state.Escalated != "" && !r.state.NoteDone {
		// A previous attempt announced the escalation (notice, labels,
		// state) and stopped before its note or record: the thread now
		// ends with the bot's notice and reads differently. Finish the
		// escalation that was announced.
		reason = r.state.Escalated
		v.Action, v.Reply = classifier.ActionEscalateMFA, nil
		switch reason {
		case triage.ReasonPasswordReset:
			v.Action = classifier.ActionEscalatePassword
		case triage.ReasonSecurity:
			v.Action, v.Security = classifier.ActionHuman, true
		}
		r.log.Info().Str("reason", reason).Msg("finishing an escalation a previous attempt started")
	}
	if v.Mode == triage.ModeSuggest && reason == "" && !v.Security {
		if err := h.suggest(ctx, r, issue, v); err != nil {
			return err
		}
	} else {
		if v.Action != classifier.ActionHuman && r.state.Suggestion.Pending() {
			// the bot acts alone now: the older suggestion is moot
			r.state.Suggestion = nil
			r.writes = append(r.writes, "pending suggestion dropped: the bot acts alone")
		}
		if err := h.act(ctx, r, issue, v, reason); err != nil {
			return err
		}
	}
	h.countDecision(ctx, r, v)
	if h.d.Metrics != nil {
		h.d.Metrics.Decided(string(v.Action), v.Categories)
		h.d.Metrics.Moded(v.Mode, v.Security)
		if r.commented && h.cfg.Mode == ModeLive {
			h.d.Metrics.Commented(p.ReceivedAt)
		}
	}
	r.state.Remember(p.DeliveryID)
	return h.finish(ctx, r, v)
}

// editAfterReply ends the task of a comment edited after the bot answered
// the reporter: no new message, nothing written to Jira, but the audit
// says why the edit got no answer.
func (h *TriageHandler) editAfterReply(ctx context.Context, r *run, p TriagePayload) error {
	r.log.Info().Msg("a comment edited after the bot's reply: nothing to do")
	r.writes = append(r.writes, "nothing: a comment edited after the bot's reply is no new message")
	r.state.Remember(p.DeliveryID)
	return h.finish(ctx, r, classifier.Verdict{Mode: classifier.ModeNone, Reason: "a comment edited after the bot's reply"})
}

func (h *TriageHandler) newRun(ctx context.Context, key, event, delivery string) *run {
	taskID, _ := asynq.GetTaskID(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	return &run{
		key: key, taskID: taskID, retried: retried, event: event, delivery: delivery,
		log: h.d.Logger.With().Str(issueField(key), key).Str("task_id", taskID).Str("event", event).Int("retried", retried).Logger(),
	}
}

// issueField is the log field that names an issue: issue_key for a key
// (PRJ-14, as the audit names it), issue_id for the numeric id a Server/DC
// comment event carries until the key is read.
func issueField(key string) string {
	if isNumeric(key) {
		return "issue_id"
	}
	return "issue_key"
}

// botReplied reports whether the bot has answered the reporter on the
// ticket: steps, an escalation notice or an acknowledgement.
func botReplied(s triage.State) bool {
	return len(s.Replied) > 0 || s.Escalated != "" || s.Resolved
}

// fresh reports whether an issue read at readAt, before the ticket's lock
// was taken, still shows the ticket: no task saved the ticket's state since
// (its UpdatedAt) and none is in the middle of a write.
func fresh(r *run, readAt time.Time) bool {
	return !r.found || !r.state.Writing && r.state.UpdatedAt.Before(readAt)
}

// acquire takes the ticket's lock, with its state and agent mark, and
// returns the context the rest of the task runs on: it is cancelled, with
// the cause ErrLockLost, when the store finds the lock is no longer ours.
// A ticket another task holds (or a dead worker's lock, until it expires)
// returns ErrBusy at once: asynq's retry delay does the waiting, and the
// retry spends none of the task's retries (IsFailure). A context that
// ended is reported as such, never as a busy ticket.
func (h *TriageHandler) acquire(ctx context.Context, r *run) (context.Context, error) {
	hold, ok, err := h.d.States.Acquire(ctx, r.key, h.cfg.LockTTL)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", r.key, err)
	}
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("lock %s: %w", r.key, err)
		}
		return nil, fmt.Errorf("%s: %w", r.key, ErrBusy)
	}
	r.state, r.found, r.agent, r.releaseFn = hold.State, hold.Found, hold.Agent, hold.Release
	ctx, cancel := context.WithCancelCause(ctx)
	r.stop = func() { cancel(nil) }
	if hold.Lost != nil {
		go func() {
			select {
			case <-hold.Lost:
				r.log.Warn().Msg("the ticket's lock was lost: stopping the task")
				cancel(ErrLockLost)
			case <-ctx.Done():
			}
		}()
	}
	return ctx, nil
}

// release lets the ticket's lock go without saving (a no-op after
// finish), on a fresh context: the task's may be done.
func (r *run) release() {
	if r.releaseFn == nil {
		return
	}
	defer r.stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.releaseFn(ctx, nil, nil); err != nil {
		r.log.Warn().Err(err).Msg("release the ticket's lock")
	}
}

// needsRead decides whether the ticket must be read from Jira: always but
// on the happy path (a first delivery of a new issue whose fields the
// webhook carried). A retry reads, because the previous attempt may have
// written to Jira and died before saving the state to Redis.
func (h *TriageHandler) needsRead(p TriagePayload, r *run) bool {
	if p.Event != triage.EventIssueCreated || r.retried > 0 || p.Redelivered {
		return true
	}
	if r.found && r.state.Writing {
		return true // a task died in the middle of a write to Jira
	}
	if p.Issue.Summary == "" && p.Issue.Description == "" {
		return true
	}
	if !r.found {
		for _, l := range p.Issue.Labels {
			if strings.HasPrefix(l, triage.LabelPrefix) {
				return true // Jira knows more than Redis
			}
		}
	}
	return false
}

// read reads the issue from Jira and adopts its state when it is newer:
// Jira's copy is written in the same call as the write it describes.
func (h *TriageHandler) read(ctx context.Context, r *run) (triage.Issue, error) {
	is, err := h.d.Jira.GetIssue(ctx, r.key)
	if err != nil {
		return triage.Issue{}, h.jiraErr(r, "read", err)
	}
	h.adopt(r, is)
	return is, nil
}

// adopt takes the state of an issue read from Jira when it is newer.
func (h *TriageHandler) adopt(r *run, is triage.Issue) {
	if is.State != nil && (!r.found || is.State.Version > r.state.Version) {
		r.log.Info().Int("version", is.State.Version).Msg("state taken from Jira")
		r.state, r.found = *is.State, true
	}
	r.state.Writing = false // Jira's copy is now known
}

// ticket turns an issue into what the classifier reads.
func (h *TriageHandler) ticket(is triage.Issue, s triage.State) classifier.Ticket {
	t := TicketOf(is, h.cfg.BotAccountID)
	t.Replied = s.Replied
	return t
}

// TicketOf turns an issue into what the classifier reads: comments by the
// bot's account are the bot's, by the reporter the reporter's, by anyone
// else an agent's. The bot's notes for agents only (suggestions, an
// unreadable command: the reporter never saw them) and /triage commands
// (no part of the conversation) are left out.
func TicketOf(is triage.Issue, botAccountID string) classifier.Ticket {
	t := classifier.Ticket{ID: is.Key, Summary: is.Summary, Description: is.Description}
	for _, c := range is.Comments {
		a := classifier.AuthorAgent
		switch {
		case triage.SameAccount(c.AuthorID, botAccountID):
			a = classifier.AuthorBot
			if strings.Contains(c.Body, suggestionMarkerPrefix) || strings.Contains(c.Body, unreadableMarkerPrefix) {
				continue // a note for agents only: the reporter never saw it
			}
		case triage.SameAccount(c.AuthorID, is.ReporterID):
			a = classifier.AuthorReporter
		}
		if _, cmd, _ := triage.ParseCommand(c.Body); cmd && a != classifier.AuthorBot {
			continue // a /triage command is no part of the conversation
		}
		t.Comments = append(t.Comments, classifier.Comment{Author: a, Body: c.Body})
	}
	return t
}

// act carries out a verdict, writing only what the state says is not done.
// reason overrides the escalation reason (the follow-up's timeout).
func (h *TriageHandler) act(ctx context.Context, r *run, is triage.Issue, v classifier.Verdict, reason string) error {
	if v.Security {
		return h.flag(ctx, r, is, v)
	}
	switch v.Action {
	case classifier.ActionReply:
		if r.state.Escalated != "" {
			// the admin has the ticket: new steps would only confuse
			r.writes = append(r.writes, "nothing: escalated ("+r.state.Escalated+"); the admins have the ticket")
			return nil
		}
		return h.reply(ctx, r, is, v)
	case classifier.ActionEscalateMFA, classifier.ActionEscalatePassword:
		if reason == "" {
			reason = escalationReason(v)
		}
		return h.escalate(ctx, r, is, v, reason)
	case classifier.ActionResolve:
		return h.resolve(ctx, r, is, v)
	default:
		if r.state.Resolved && !r.agent && !v.Security {
			// "thanks again" after the fix needs no one
			r.writes = append(r.writes, "nothing: resolved, and nothing new to act on")
			return nil
		}
		return h.human(ctx, r)
	}
}

func escalationReason(v classifier.Verdict) string {
	switch {
	case v.Action == classifier.ActionEscalatePassword:
		return triage.ReasonPasswordReset
	case contains(v.Signals, classifier.SigResetMFA):
		return triage.ReasonRequested
	}
	return triage.ReasonMFAReset
}

func (h *TriageHandler) reply(ctx context.Context, r *run, is triage.Issue, v classifier.Verdict) error {
	var cats []string
	for _, c := range v.Reply {
		if !contains(r.state.Replied, c) {
			cats = append(cats, c)
		}
	}
	if len(cats) == 0 {
		r.writes = append(r.writes, "nothing: every category was already replied to")
		return nil
	}
	rendered, err := h.d.Templates.Reply(h.reporterData(is, v, cats))
	if err != nil {
		return fmt.Errorf("render reply for %s: %v: %w", r.key, err, asynq.SkipRetry)
	}
	internal := false
	labels := []string{triage.LabelReplied}
	for _, c := range cats {
		labels = append(labels, triage.LabelPrefix+c)
		internal = internal || contains(h.cfg.InternalCategories, c)
	}
	next := r.state
	next.Version++
	next.Replied = append(append([]string(nil), r.state.Replied...), cats...)
	next.RepliedAt = h.d.Now().UTC()
	next.Human = false
	// The follow-up goes first: after the reply, a crash or an answer
	// lost on the way back would leave the retry with nothing to reply
	// and no follow-up. One for a version that is never written is a
	// no-op (ProcessFollowup compares versions).
	if err := h.d.Followups.Schedule(ctx, r.key, next.Version, h.cfg.FollowupWindow); err != nil {
		return fmt.Errorf("schedule follow-up of %s: %w", r.key, err)
	}
	if err := h.write(ctx, r, triage.Write{Comment: rendered.Wiki, Internal: internal, AddLabels: labels, State: &next}); err != nil {
		return err
	}
	if !r.skipped {
		r.writes = append(r.writes, visibility(internal)+" reply "+strings.Join(cats, ","))
	}
	r.writes = append(r.writes, "labels "+strings.Join(labels, ","), fmt.Sprintf("follow-up in %s", h.cfg.FollowupWindow))
	return nil
}

func visibility(internal bool) string {
	if internal {
		return "internal"
	}
	return "public"
}

func (h *TriageHandler) escalate(ctx context.Context, r *run, is triage.Issue, v classifier.Verdict, reason string) error {
	if r.state.Escalated != "" && r.state.NoteDone {
		r.writes = append(r.writes, "nothing: already escalated ("+r.state.Escalated+")")
		return nil
	}
	name, label := templates.EscalationMFA, triage.LabelEscalateMFA
	if reason == triage.ReasonPasswordReset {
		name, label = templates.EscalationPassword, triage.LabelEscalatePassword
	}
	before := r.state.Version
	escalatedBefore := r.state.Escalated != ""
	if r.state.Escalated == "" {
		data := h.reporterData(is, v, v.Categories)
		data.Reason = reason
		notice, err := h.d.Templates.Render(name, data)
		if err != nil {
			return fmt.Errorf("render %s for %s: %v: %w", name, r.key, err, asynq.SkipRetry)
		}
		next := r.state
		next.Version++
		next.Escalated, next.EscalatedAt = reason, h.d.Now().UTC()
		labels := []string{triage.LabelEscalated, label}
		if err := h.write(ctx, r, triage.Write{Comment: notice.Wiki, AddLabels: labels, State: &next}); err != nil {
			return err
		}
		r.writes = append(r.writes, "public escalation notice ("+reason+")", "labels "+strings.Join(labels, ","))
	}
	if err := h.noteAndRecord(ctx, r, is, v, reason, templates.EvidenceNote, escalatedBefore); err != nil {
		return err
	}
	if h.cfg.EscalationAssignee != "" && h.cfg.Mode == ModeLive {
		if err := h.d.Jira.Assign(ctx, r.key, h.cfg.EscalationAssignee); err != nil {
			return h.jiraErr(r, "assign", err)
		}
		r.writes = append(r.writes, "assigned")
	}
	if r.event != TypeFollowup {
		if err := h.d.Followups.Cancel(ctx, r.key, before); err != nil {
			r.log.Warn().Err(err).Msg("cancel follow-up")
		}
	}
	return nil
}

// noteAndRecord posts the internal note of an escalation (unless a
// previous attempt did: its anchor tells) and puts the ticket in the
// escalation queue, then marks the note done.
func (h *TriageHandler) noteAndRecord(ctx context.Context, r *run, is triage.Issue, v classifier.Verdict, reason, noteName string, escalatedBefore bool) error {
	marker := noteMarker(r.key, r.state.Version)
	posted := false
	if escalatedBefore || r.retried > 0 {
		fresh, err := h.d.Jira.GetIssue(ctx, r.key)
		if err != nil {
			return h.jiraErr(r, "read before the evidence note", err)
		}
		for _, c := range fresh.Comments {
			// only the bot's own comment counts: a reporter could paste the marker
			posted = posted || triage.SameAccount(c.AuthorID, h.cfg.BotAccountID) && strings.Contains(c.Body, marker)
		}
	}
	// The record goes before the state that says the note is done, so
	// that NoteDone implies the record (Create is idempotent).
	if created, err := h.d.Escalations.Create(ctx, h.escalation(is, v, r.state, reason)); err != nil {
		return fmt.Errorf("escalation record for %s: %w", r.key, err)
	} else if created {
		r.writes = append(r.writes, "escalation record "+reason)
		h.keepText(ctx, r, is)
	}
	// The note's "done" mark lives in the Redis copy only (saved by
	// finish, or by the next write's mark): writing it to Jira would cost
	// one more call on every escalation. A task that finds Jira's copy
	// escalated without it looks for the note's anchor instead (above).
	next := r.state
	next.NoteDone = true
	if posted {
		r.writes = append(r.writes, "evidence note was already posted")
	} else {
		note, err := h.d.Templates.Render(noteName, h.evidenceData(is, v, r.state, reason))
		if err != nil {
			return fmt.Errorf("render evidence note for %s: %v: %w", r.key, err, asynq.SkipRetry)
		}
		if err := h.write(ctx, r, triage.Write{Comment: note.Wiki + "\n\n{anchor:" + marker + "}", Internal: true}); err != nil {
			return err
		}
		if !r.skipped {
			r.writes = append(r.writes, "internal evidence note")
		}
	}
	r.state, r.found = next, true
	return nil
}

// noteMarker is an invisible anchor in the evidence note that makes it
// findable after a crash.
func noteMarker(key string, version int) string {
	return fmt.Sprintf("triage-note-%s-%d", strings.ToLower(key), version)
}

func (h *TriageHandler) resolve(ctx context.Context, r *run, is triage.Issue, v classifier.Verdict) error {
	if r.state.Resolved {
		r.writes = append(r.writes, "nothing: already resolved")
		return nil
	}
	ack, err := h.d.Templates.Render(templates.Resolved, h.reporterData(is, v, nil))
	if err != nil {
		return fmt.Errorf("render resolved for %s: %v: %w", r.key, err, asynq.SkipRetry)
	}
	next := r.state
	next.Version++
	next.Resolved = true
	if err := h.write(ctx, r, triage.Write{Comment: ack.Wiki, AddLabels: []string{triage.LabelResolved}, State: &next}); err != nil {
		return err
	}
	r.writes = append(r.writes, "public acknowledgement", "labels "+triage.LabelResolved)
	if h.cfg.ResolveTransition != "" && h.cfg.Mode == ModeLive {
		if err := h.d.Jira.Transition(ctx, r.key, h.cfg.ResolveTransition); err != nil {
			return h.jiraErr(r, "transition", err)
		}
		r.writes = append(r.writes, "transition "+h.cfg.ResolveTransition)
	}
	if err := h.d.Followups.Cancel(ctx, r.key, r.state.Version-1); err != nil {
		r.log.Warn().Err(err).Msg("cancel follow-up")
	}
	return nil
}

func (h *TriageHandler) human(ctx context.Context, r *run) error {
	if r.state.Human {
		r.writes = append(r.writes, "nothing: already left to a human")
		return nil
	}
	next := r.state
	next.Version++
	next.Human = true
	if err := h.write(ctx, r, triage.Write{AddLabels: []string{triage.LabelNeedsHuman}, State: &next}); err != nil {
		return err
	}
	r.writes = append(r.writes, "labels "+triage.LabelNeedsHuman)
	return nil
}

// write performs one write (skipped in shadow mode). Redis first gets the
// state marked Writing; the state the write describes is then only taken
// into r.state, saved by finish (or as the next write's mark): until then
// the mark sends any other task to Jira's copy.
func (h *TriageHandler) write(ctx context.Context, r *run, w triage.Write) error {
	if w.State != nil {
		w.State.UpdatedAt = h.d.Now().UTC()
	}
	r.skipped = false
	if h.cfg.Mode == ModeLive {
		// Redis learns that a write is under way before Jira gets it: a
		// crash between the Jira write and the state's save below then
		// sends the next task to Jira's copy, even a first attempt that
		// would not read Jira otherwise.
		mark := r.state
		mark.Writing = true
		if err := h.d.States.Save(ctx, r.key, mark); err != nil {
			return fmt.Errorf("save state of %s: %w", r.key, err)
		}
		var skipped *triage.InternalNoteSkipped
		switch err := h.d.Jira.Write(ctx, r.key, w); {
		case errors.As(err, &skipped):
			// nothing could keep the note from the reporter: none was
			// posted, the rest of the write was made
			r.log.Warn().Str("reason", skipped.Reason).Msg("internal note skipped")
			r.writes = append(r.writes, skipped.Error())
			r.skipped = true
		case err != nil:
			return h.jiraErr(r, "write", err)
		default:
			r.commented = r.commented || w.Comment != ""
		}
	}
	r.acted = true
	if w.State != nil {
		// Saved to Redis by finish, or by the next write's mark: until
		// then the mark sends any other task to Jira's copy.
		r.state, r.found = *w.State, true
	}
	return nil
}

// finish saves the state and records the decision as it lets the lock
// go.
func (h *TriageHandler) finish(ctx context.Context, r *run, v classifier.Verdict) error {
	r.state.UpdatedAt = h.d.Now().UTC()
	if h.cfg.Mode == ModeShadow {
		for i := range r.writes {
			r.writes[i] = "shadow (not written): " + r.writes[i]
		}
	}
	entry := triage.AuditEntry{Key: r.key, TaskID: r.taskID, Event: r.event, DeliveryID: r.delivery, Mode: h.cfg.Mode, Verdict: v, Writes: r.writes,
		Outcome: r.outcome, Actor: r.actor, At: h.d.Now().UTC()}
	if err := r.releaseFn(ctx, &r.state, &entry); err != nil {
		return fmt.Errorf("save state of %s and its audit entry: %w", r.key, err)
	}
	r.log.Info().Strs("writes", r.writes).Msg("done")
	return nil
}

// jiraErr wraps a Jira error for asynq: permanent errors end the task with
// Jira's message logged; the others are retried.
func (h *TriageHandler) jiraErr(r *run, op string, err error) error {
	wrapped := fmt.Errorf("%s %s: %w", op, r.key, err)
	if isPermanent(err) {
		r.log.Error().Err(err).Str("op", op).Msg("Jira refused; not retrying")
		if isNotFound(err) && op != "assign" && op != "transition" {
			// a read or write of the issue itself: it is gone (a 404 of
			// an assignment can mean the assignee is unknown)
			h.gone(r, op)
		}
		return fmt.Errorf("%w: %w", wrapped, asynq.SkipRetry)
	}
	r.log.Warn().Err(err).Str("op", op).Msg("Jira call failed; will retry")
	return wrapped
}

// gone ends a task whose issue Jira no longer has (404: deleted, or moved
// out of the bot's sight), on a fresh context since the task's may be done:
// it cancels the follow-ups the ticket may have waiting, and saves the
// state without its "writing" mark together with an audit entry that says
// what happened, as it lets the lock go.
func (h *TriageHandler) gone(r *run, op string) {
	if r.releaseFn == nil {
		return // the lock was not taken (the key may not even be known)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// a follow-up waits on the state's version, or on the next one when
	// the reply that scheduled it was not written
	for _, v := range []int{r.state.Version, r.state.Version + 1} {
		if err := h.d.Followups.Cancel(ctx, r.key, v); err != nil {
			r.log.Warn().Err(err).Msg("cancel follow-up")
		}
	}
	r.state.Writing = false
	r.state.UpdatedAt = h.d.Now().UTC()
	r.writes = append(r.writes, "nothing more: Jira answered 404 to the "+op+" (the issue was deleted, or the bot can no longer see it); follow-ups cancelled")
	entry := triage.AuditEntry{Key: r.key, TaskID: r.taskID, Event: r.event, DeliveryID: r.delivery, Mode: h.cfg.Mode,
		Verdict: classifier.Verdict{Mode: classifier.ModeNone, Reason: "the issue is gone from Jira"}, Writes: r.writes, At: h.d.Now().UTC()}
	if err := r.releaseFn(ctx, &r.state, &entry); err != nil {
		r.log.Warn().Err(err).Msg("save the state and audit entry of an issue gone from Jira")
	}
}

// reporterData is what a text for the reporter needs: in their language
// (as far as the replies are allowed in it), naming Defender only when
// they did.
func (h *TriageHandler) reporterData(is triage.Issue, v classifier.Verdict, cats []string) templates.Data {
	lang := v.Language
	if !contains(h.cfg.ReplyLanguages, lang) {
		lang = h.cfg.FallbackLanguage
	}
	return templates.Data{TicketKey: is.Key, ReporterName: firstName(is.ReporterName), Platform: v.Platform, Categories: cats,
		Language: lang, ReporterLanguage: v.Language, MentionsDefender: mentionsDefender(is, h.cfg.BotAccountID)}
}

// mentionsDefender reports whether the reporter's own text names
// Defender.
func mentionsDefender(is triage.Issue, bot string) bool {
	has := func(s string) bool { return strings.Contains(strings.ToLower(s), "defender") }
	if has(is.Summary) || has(is.Description) {
		return true
	}
	for _, c := range is.Comments {
		if !triage.SameAccount(c.AuthorID, bot) && triage.SameAccount(c.AuthorID, is.ReporterID) && has(c.Body) {
			return true
		}
	}
	return false
}

// evidenceData is what an internal note for agents and admins needs, in
// their language, naming the reporter's.
func (h *TriageHandler) evidenceData(is triage.Issue, v classifier.Verdict, s triage.State, reason string) templates.Data {
	d := templates.Data{TicketKey: is.Key, ReporterName: firstName(is.ReporterName), Platform: v.Platform, Categories: v.Categories, Reason: reason,
		Language: h.cfg.AgentLanguage, ReporterLanguage: v.Language}
	for _, e := range v.Evidence {
		if e.Kind == "platform" {
			continue
		}
		where := e.Where
		if e.Comment > 0 {
			where = fmt.Sprintf("%s %d", e.Where, e.Comment)
		}
		d.Evidence = append(d.Evidence, templates.Evidence{Label: e.Label, Phrase: e.Text, Where: where})
	}
	for _, c := range s.Replied {
		d.StepsSent = append(d.StepsSent, templates.Sent{Category: c, At: s.RepliedAt})
	}
	d.ReporterReplies = reporterReplies(is, h.cfg.BotAccountID)
	return d
}

func (h *TriageHandler) escalation(is triage.Issue, v classifier.Verdict, s triage.State, reason string) triage.Escalation {
	e := triage.Escalation{
		Key: is.Key, ReporterID: is.ReporterID, ReporterName: is.ReporterName, ReporterEmail: is.ReporterEmail, Reason: reason,
		Categories: v.Categories, Platform: v.Platform, Evidence: v.Evidence, Language: v.Language, Security: v.Security,
		ReporterReplies: reporterReplies(is, h.cfg.BotAccountID), CreatedAt: h.d.Now().UTC(),
	}
	if h.cfg.JiraBaseURL != "" {
		e.Link = strings.TrimRight(h.cfg.JiraBaseURL, "/") + "/browse/" + is.Key
	}
	for _, c := range s.Replied {
		e.StepsSent = append(e.StepsSent, triage.SentStep{Category: c, At: s.RepliedAt})
	}
	return e
}

// reporterReplies are short excerpts of the reporter's comments after the
// bot's first reply.
func reporterReplies(is triage.Issue, bot string) []string {
	var out []string
	seenBot := false
	for _, c := range is.Comments {
		if triage.SameAccount(c.AuthorID, bot) {
			seenBot = true
			continue
		}
		if seenBot && triage.SameAccount(c.AuthorID, is.ReporterID) {
			out = append(out, excerpt(c.Body, 200))
		}
	}
	return out
}

func excerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func isNumeric(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// firstName is the greeting's name: "Hannah" of "Hannah Schmidt".
func firstName(display string) string {
	f := strings.Fields(display)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// flag handles a ticket that reports a possible attack (MFA fatigue, an
// approval the reporter did not start, phishing): never self-help steps.
// In one write, the labels triage-security and triage-needs-human, the
// configured priority and (only when configured) a short acknowledgement
// in the reporter's language; then an internal note for the agents with
// the evidence and the runbook's first steps, a record in the escalation
// queue with reason security, and the configured assignee.
func (h *TriageHandler) flag(ctx context.Context, r *run, is triage.Issue, v classifier.Verdict) error {
	flaggedBefore := r.state.Escalated == triage.ReasonSecurity
	if flaggedBefore && r.state.NoteDone {
		r.writes = append(r.writes, "nothing: already flagged as a possible attack")
		return nil
	}
	before := r.state.Version
	if !flaggedBefore {
		next := r.state
		next.Version++
		next.Escalated, next.EscalatedAt = triage.ReasonSecurity, h.d.Now().UTC()
		next.NoteDone, next.Human = false, true
		w := triage.Write{AddLabels: []string{triage.LabelSecurity, triage.LabelNeedsHuman}, State: &next, Priority: h.cfg.SecurityPriority}
		if h.cfg.SecurityAck {
			ack, err := h.d.Templates.Render(templates.SecurityAck, h.reporterData(is, v, nil))
			if err != nil {
				return fmt.Errorf("render %s for %s: %v: %w", templates.SecurityAck, r.key, err, asynq.SkipRetry)
			}
			w.Comment = ack.Wiki
		}
		if err := h.write(ctx, r, w); err != nil {
			return err
		}
		if w.Comment != "" {
			r.writes = append(r.writes, "public acknowledgement of a security report")
		}
		r.writes = append(r.writes, "labels "+strings.Join(w.AddLabels, ","))
		if w.Priority != "" {
			r.writes = append(r.writes, "priority "+w.Priority)
		}
	}
	if err := h.noteAndRecord(ctx, r, is, v, triage.ReasonSecurity, templates.SecurityNote, flaggedBefore); err != nil {
		return err
	}
	if h.cfg.SecurityAssignee != "" && h.cfg.Mode == ModeLive {
		if err := h.d.Jira.Assign(ctx, r.key, h.cfg.SecurityAssignee); err != nil {
			return h.jiraErr(r, "assign", err)
		}
		r.writes = append(r.writes, "assigned")
	}
	if err := h.d.Followups.Cancel(ctx, r.key, before); err != nil {
		r.log.Warn().Err(err).Msg("cancel follow-up")
	}
	return nil
}
