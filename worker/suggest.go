package worker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/templates"
)

// suggestionMarkerPrefix starts the anchor of a suggestion note: it finds
// the note after a crash, and keeps it out of what the classifier reads
// (the reporter never saw it).
const suggestionMarkerPrefix = "triage-suggestion-"

func suggestionMarker(key string, version int) string {
	return fmt.Sprintf("%s%s-%d", suggestionMarkerPrefix, strings.ToLower(key), version)
}

// suggest handles a verdict the bot is not sure enough of to act alone
// (mode suggest): one internal note for the agents with the action, the
// exact text the reporter would get, the evidence, the confidence and the
// commands, the label triage-suggested, and the suggestion in the state
// for a later /triage send. The reporter sees nothing.
func (h *TriageHandler) suggest(ctx context.Context, r *run, is triage.Issue, v classifier.Verdict) error {
	sg := triage.Suggestion{Action: v.Action, Categories: slices.Clone(v.Categories), Platform: v.Platform, Language: v.Language,
		Confidence: v.Confidence, At: h.d.Now().UTC()}
	switch v.Action {
	case classifier.ActionReply:
		for _, c := range v.Reply {
			if !contains(r.state.Replied, c) {
				sg.Reply = append(sg.Reply, c)
			}
		}
		if r.state.Escalated != "" {
			r.writes = append(r.writes, "nothing: escalated ("+r.state.Escalated+"); the admins have the ticket")
			return nil
		}
		if len(sg.Reply) == 0 {
			r.writes = append(r.writes, "nothing: every category was already replied to")
			return nil
		}
	case classifier.ActionEscalateMFA, classifier.ActionEscalatePassword:
		if r.state.Escalated != "" {
			r.writes = append(r.writes, "nothing: already escalated ("+r.state.Escalated+")")
			return nil
		}
		sg.Reason = escalationReason(v)
	case classifier.ActionResolve:
		if r.state.Resolved {
			r.writes = append(r.writes, "nothing: already resolved")
			return nil
		}
	default:
		return h.act(ctx, r, is, v, "")
	}
	if old := r.state.Suggestion; old.Pending() && sameSuggestion(*old, sg) {
		r.writes = append(r.writes, "nothing: the same suggestion is already waiting for the agents")
		return nil
	}

	note, err := h.suggestionNote(is, v, sg)
	if err != nil {
		return fmt.Errorf("render the suggestion note for %s: %v: %w", r.key, err, asynq.SkipRetry)
	}
	next := r.state
	next.Version++
	next.Suggestion = &sg
	marker := suggestionMarker(r.key, next.Version)
	w := triage.Write{Comment: note.Wiki + "\n\n{anchor:" + marker + "}", Internal: true, AddLabels: []string{triage.LabelSuggested}, State: &next}
	if postedByBot(is, h.cfg.BotAccountID, marker) {
		// a previous attempt posted the note and died before the rest
		w.Comment, w.Internal = "", false
		r.writes = append(r.writes, "suggestion note was already posted")
	}
	if err := h.write(ctx, r, w); err != nil {
		return err
	}
	if w.Comment != "" {
		r.writes = append(r.writes, "internal suggestion note ("+describe(sg)+")")
	}
	r.writes = append(r.writes, "labels "+triage.LabelSuggested)
	h.keepText(ctx, r, is)
	return nil
}

// sameSuggestion reports whether two suggestions propose the same thing.
func sameSuggestion(a, b triage.Suggestion) bool {
	return a.Action == b.Action && slices.Equal(a.Categories, b.Categories) && slices.Equal(a.Reply, b.Reply) && a.Reason == b.Reason
}

// describe is a suggestion in the audit's words: "reply passkey-setup".
func describe(s triage.Suggestion) string {
	switch {
	case len(s.Reply) > 0:
		return string(s.Action) + " " + strings.Join(s.Reply, ",")
	case s.Reason != "":
		return string(s.Action) + " (" + s.Reason + ")"
	}
	return string(s.Action)
}

// postedByBot reports whether one of the bot's own comments carries marker
// (a reporter could paste it: theirs never count).
func postedByBot(is triage.Issue, bot, marker string) bool {
	for _, c := range is.Comments {
		if triage.SameAccount(c.AuthorID, bot) && strings.Contains(c.Body, marker) {
			return true
		}
	}
	return false
}

// suggestionNote renders the note in the agents' language, showing the
// text for the reporter exactly as the action would send it.
func (h *TriageHandler) suggestionNote(is triage.Issue, v classifier.Verdict, sg triage.Suggestion) (templates.Rendered, error) {
	d := h.evidenceData(is, v, triage.State{}, sg.Reason)
	d.Action, d.Confidence = string(sg.Action), sg.Confidence
	d.StepsSent, d.ReporterReplies = nil, nil
	var out templates.Outgoing
	switch sg.Action {
	case classifier.ActionReply:
		out.Data = h.reporterData(is, v, sg.Reply)
	case classifier.ActionEscalateMFA, classifier.ActionEscalatePassword:
		out.Doc = templates.EscalationMFA
		if sg.Reason == triage.ReasonPasswordReset {
			out.Doc = templates.EscalationPassword
		}
		out.Data = h.reporterData(is, v, v.Categories)
		out.Data.Reason = sg.Reason
	case classifier.ActionResolve:
		out.Doc, out.Data = templates.Resolved, h.reporterData(is, v, nil)
	}
	return h.d.Templates.SuggestionNote(d, out)
}

// command handles an agent's /triage command (a comment whose first line
// is one). The reporter's commands do nothing: only agents' count, and the
// bot's own comments never reach here.
// The run holds the ticket's lock.
func (h *TriageHandler) command(ctx context.Context, r *run, p TriagePayload, cmd triage.Command, parseErr error) error {
	// Jira's copy is read every time: a command is rare, and a second
	// /triage send must see what the first one wrote.
	is, err := h.read(ctx, r)
	if err != nil {
		return err
	}
	author := p.Comment.AuthorID
	v := classifier.Verdict{Categories: []string{}, Action: classifier.ActionHuman, Mode: classifier.ModeNone}
	switch {
	case !isAgent(author, is, h.cfg.BotAccountID):
		v.Reason = "a /triage command from the reporter: only agents' commands count"
		r.writes = append(r.writes, "nothing: "+v.Reason)
	case parseErr != nil:
		v.Reason = "an agent's /triage command that could not be read"
		r.writes = append(r.writes, "nothing: "+parseErr.Error())
		r.log.Warn().Err(parseErr).Str("agent", author).Msg("unreadable /triage command")
		if err := h.unreadable(ctx, r, is, p); err != nil {
			return err
		}
	case cmd.Verb == triage.CommandSend:
		if v, err = h.send(ctx, r, is, author); err != nil {
			return err
		}
	default:
		if v, err = h.wrong(ctx, r, is, author, cmd); err != nil {
			return err
		}
	}
	r.log.Info().Str("command", cmd.String()).Str("agent", author).Strs("writes", r.writes).Msg("agent command")
	r.state.Remember(p.DeliveryID)
	return h.finish(ctx, r, v)
}

// unreadableMarkerPrefix starts the anchor of the note on an unreadable
// command: it finds the note after a crash, and keeps it out of what the
// classifier reads (the reporter never saw it).
const unreadableMarkerPrefix = "triage-unreadable-"

// unreadable tells the agent, in an internal note in the agents'
// language, that their command could not be read and what the commands
// are: once per command comment (its anchor tells a retry it was posted).
func (h *TriageHandler) unreadable(ctx context.Context, r *run, is triage.Issue, p TriagePayload) error {
	id := p.Comment.ID
	if id == "" {
		id = p.DeliveryID
	}
	marker := unreadableMarkerPrefix + strings.ToLower(r.key) + "-" + anchorSafe(id)
	if postedByBot(is, h.cfg.BotAccountID, marker) {
		r.writes = append(r.writes, "the note on the unreadable command was already posted")
		return nil
	}
	line, _, _ := strings.Cut(strings.TrimSpace(p.Comment.Body), "\n")
	note, err := h.d.Templates.Render(templates.CommandUnreadable, templates.Data{TicketKey: is.Key, Language: h.cfg.AgentLanguage, Command: line})
	if err != nil {
		return fmt.Errorf("render the note on an unreadable command for %s: %v: %w", r.key, err, asynq.SkipRetry)
	}
	if err := h.write(ctx, r, triage.Write{Comment: note.Wiki + "\n\n{anchor:" + marker + "}", Internal: true}); err != nil {
		return err
	}
	if !r.skipped {
		r.writes = append(r.writes, "internal note: the command could not be read")
	}
	return nil
}

// anchorSafe keeps the letters, digits and dashes of s (a comment or
// delivery id) for an anchor's name.
func anchorSafe(s string) string {
	return strings.Map(func(c rune) rune {
		if c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			return c
		}
		return -1
	}, s)
}

// isAgent reports whether an account is an agent on the issue: neither its
// reporter nor the bot.
func isAgent(author string, is triage.Issue, bot string) bool {
	return author != "" && !triage.SameAccount(author, bot) && !triage.SameAccount(author, is.ReporterID)
}

// send carries out the pending suggestion as the bot would have alone,
// exactly once, and records who approved it.
func (h *TriageHandler) send(ctx context.Context, r *run, is triage.Issue, agent string) (classifier.Verdict, error) {
	s := r.state.Suggestion
	if s != nil && s.SentBy != "" && r.state.Escalated != "" && !r.state.NoteDone {
		// a previous attempt announced the escalation and died before
		// its note or record: finish it
		v := h.sentVerdict(is, r.state, *s)
		return v, h.act(ctx, r, is, v, r.state.Escalated)
	}
	nothing := func(why string) (classifier.Verdict, error) {
		r.writes = append(r.writes, "nothing: "+why)
		return classifier.Verdict{Categories: []string{}, Action: classifier.ActionHuman, Mode: classifier.ModeNone, Reason: "/triage send: " + why}, nil
	}
	switch {
	case s == nil:
		return nothing("no suggestion on this ticket")
	case s.SentBy != "":
		return nothing(fmt.Sprintf("the suggestion was already sent (approved by %s at %s)", s.SentBy, s.SentAt.Format(time.RFC3339)))
	case s.Outcome == triage.OutcomeOtherwise:
		return nothing("an agent has answered the reporter otherwise")
	case s.Corrected != nil && s.Corrected.Human:
		return nothing("the suggestion was corrected: the ticket is for a person")
	}
	now := h.d.Now().UTC()
	sent := *s
	sent.SentBy, sent.SentAt = agent, now
	first := sent.Outcome == ""
	if first {
		sent.Outcome, sent.By, sent.OutcomeAt = triage.OutcomeSent, agent, now
	}
	v := h.sentVerdict(is, r.state, sent)
	r.state.Suggestion = &sent
	reason := ""
	if sent.Action == classifier.ActionEscalateMFA || sent.Action == classifier.ActionEscalatePassword {
		reason = sent.Reason
	}
	if err := h.act(ctx, r, is, v, reason); err != nil {
		return v, err
	}
	r.writes = append(r.writes, "suggestion sent, approved by "+agent)
	if first {
		h.feedback(ctx, r, triage.OutcomeSent, agent, &sent)
	} else {
		r.actor = agent // the outcome (a correction) was counted then
	}
	return v, nil
}

// sentVerdict is the verdict a sent suggestion is carried out with: its
// action, categories and platform, with the evidence of the thread as it
// reads now.
func (h *TriageHandler) sentVerdict(is triage.Issue, st triage.State, s triage.Suggestion) classifier.Verdict {
	v := h.d.Classifier.Decide(h.ticket(is, st))
	v.Action, v.Categories, v.Reply, v.Platform, v.Language = s.Action, slices.Clone(s.Categories), slices.Clone(s.Reply), s.Platform, s.Language
	v.Security, v.Mode, v.Confidence = false, classifier.ModeSuggest, s.Confidence
	v.Reason = "a suggestion sent by an agent (" + s.SentBy + ")"
	if v.Categories == nil {
		v.Categories = []string{}
	}
	return v
}

// wrong records an agent's correction of the pending suggestion: with
// categories, they replace the suggestion's (a following /triage send
// replies with their steps); otherwise the ticket stays with a person.
func (h *TriageHandler) wrong(ctx context.Context, r *run, is triage.Issue, agent string, cmd triage.Command) (classifier.Verdict, error) {
	v := classifier.Verdict{Categories: []string{}, Action: classifier.ActionHuman, Mode: classifier.ModeNone, Reason: cmd.String() + " from an agent"}
	s := r.state.Suggestion
	switch {
	case s == nil:
		r.writes = append(r.writes, "nothing: no suggestion on this ticket to correct")
		return v, nil
	case s.SentBy != "":
		r.writes = append(r.writes, "nothing: the suggestion was already sent")
		return v, nil
	}
	now := h.d.Now().UTC()
	c := *s
	c.Corrected = &triage.Correction{Categories: slices.Clone(cmd.Categories)}
	first := c.Outcome == ""
	c.Outcome, c.By, c.OutcomeAt = triage.OutcomeCorrected, agent, now
	if len(cmd.Categories) > 0 {
		c.Action, c.Categories, c.Reply, c.Reason = classifier.ActionReply, slices.Clone(cmd.Categories), nil, ""
		for _, cat := range cmd.Categories {
			if !contains(r.state.Replied, cat) {
				c.Reply = append(c.Reply, cat)
			}
		}
		v.Action, v.Categories, v.Reply, v.Platform, v.Language = classifier.ActionReply, c.Categories, c.Reply, c.Platform, c.Language
		v.Mode = classifier.ModeSuggest
	} else {
		c.Corrected.Human, c.Corrected.Unknown = true, !cmd.Human
		c.Action = classifier.ActionHuman
	}
	r.state.Suggestion = &c
	if c.Corrected.Human {
		if err := h.human(ctx, r); err != nil {
			return v, err
		}
	} else {
		next := r.state
		next.Version++
		if err := h.write(ctx, r, triage.Write{State: &next}); err != nil {
			return v, err
		}
		r.writes = append(r.writes, "suggestion corrected to reply "+strings.Join(c.Categories, ",")+"; /triage send sends it")
	}
	if first {
		h.feedback(ctx, r, triage.OutcomeCorrected, agent, &c)
	} else {
		r.outcome, r.actor = triage.OutcomeCorrected, agent
		h.recordFeedback(ctx, r, triage.OutcomeCorrected, agent, &c)
	}
	return v, nil
}

// agentComment handles an ordinary comment intake found to be an
// agent's: after a suggestion nobody acted on yet, a public one is an
// answer given otherwise. Anything else needs no work (intake recorded
// the agent mark). The run holds the ticket's lock.
func (h *TriageHandler) agentComment(ctx context.Context, r *run, p TriagePayload) error {
	if p.Comment.Internal {
		return nil
	}
	if r.state.Writing {
		// a task died in the middle of a write: Jira's copy says what
		// became of the suggestion
		if _, err := h.read(ctx, r); err != nil {
			return err
		}
	}
	if !h.otherwise(ctx, r, p.Comment.AuthorID) {
		return nil
	}
	r.state.Remember(p.DeliveryID)
	return h.finish(ctx, r, classifier.Verdict{Categories: []string{}, Action: classifier.ActionHuman, Mode: classifier.ModeNone,
		Reason: "an agent answered the reporter after the bot's suggestion"})
}

// otherwise records that an agent answered the reporter while a
// suggestion waited with no outcome; it reports whether it did.
func (h *TriageHandler) otherwise(ctx context.Context, r *run, agent string) bool {
	s := r.state.Suggestion
	if s == nil || s.Outcome != "" || s.SentBy != "" {
		return false
	}
	o := *s
	o.Outcome, o.By, o.OutcomeAt = triage.OutcomeOtherwise, agent, h.d.Now().UTC()
	r.state.Suggestion = &o
	r.writes = append(r.writes, "outcome otherwise: an agent answered the reporter instead of the suggestion")
	h.feedback(ctx, r, triage.OutcomeOtherwise, agent, &o)
	return true
}

// feedback counts an outcome (per day and in the metrics) and records it
// for the audit entry and the feedback export. Counting is best effort:
// a failure is logged, the ticket's work goes on.
func (h *TriageHandler) feedback(ctx context.Context, r *run, outcome, actor string, s *triage.Suggestion) {
	r.outcome, r.actor = outcome, actor
	if h.d.Decisions != nil {
		if err := h.d.Decisions.CountFeedback(ctx, h.d.Now().UTC(), outcome); err != nil {
			r.log.Warn().Err(err).Str("outcome", outcome).Msg("count the outcome")
		}
	}
	if h.d.Metrics != nil {
		h.d.Metrics.Feedback(outcome)
	}
	h.recordFeedback(ctx, r, outcome, actor, s)
}

// recordFeedback keeps an outcome for the feedback export, when it says
// what was right.
func (h *TriageHandler) recordFeedback(ctx context.Context, r *run, outcome, actor string, s *triage.Suggestion) {
	e, ok := s.Expect()
	if h.d.Feedback == nil || !ok {
		return
	}
	f := triage.Feedback{Key: r.key, Outcome: outcome, Actor: actor, At: h.d.Now().UTC(), Expect: e}
	if err := h.d.Feedback.RecordFeedback(ctx, f); err != nil {
		r.log.Warn().Err(err).Str("outcome", outcome).Msg("keep the outcome for the feedback export")
	}
}

// keepText keeps the ticket's text as it was triaged, for the feedback
// export (best effort).
func (h *TriageHandler) keepText(ctx context.Context, r *run, is triage.Issue) {
	if h.d.Feedback == nil {
		return
	}
	if err := h.d.Feedback.KeepText(ctx, r.key, h.ticket(is, r.state)); err != nil {
		r.log.Warn().Err(err).Msg("keep the ticket's text for the feedback export")
	}
}

// countDecision counts a decision that did something new, by its mode.
func (h *TriageHandler) countDecision(ctx context.Context, r *run, v classifier.Verdict) {
	if h.d.Decisions == nil || !r.acted || v.Mode == "" {
		return
	}
	if err := h.d.Decisions.CountDecision(ctx, h.d.Now().UTC(), v.Mode); err != nil {
		r.log.Warn().Err(err).Str("mode", v.Mode).Msg("count the decision")
	}
}
