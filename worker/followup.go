package worker

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/classifier"
)

// ProcessFollowup escalates a replied ticket that is still unresolved when
// its follow-up window has passed. Anything that happened on the ticket
// since the reply (an answer, an escalation, an agent) bumped the state's
// version and makes the follow-up a no-op.
func (h *TriageHandler) ProcessFollowup(ctx context.Context, t *asynq.Task) error {
	var p FollowupPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Key == "" {
		return fmt.Errorf("decode follow-up payload: %v: %w", err, asynq.SkipRetry)
	}
	r := h.newRun(ctx, p.Key, TypeFollowup, FollowupTaskID(p.Key, p.Version))
	ctx, err := h.acquire(ctx, r)
	if err != nil {
		return err
	}
	defer r.release()
	// Jira's copy is the authority: read it (a follow-up is rare).
	is, err := h.read(ctx, r)
	if err != nil {
		return err
	}
	s := r.state
	if s.Version != p.Version || s.Escalated != "" || s.Resolved || s.Human {
		r.log.Info().Int("state_version", s.Version).Int("followup_version", p.Version).Msg("follow-up not needed")
		return nil
	}
	if r.agent {
		// an agent took the ticket over: leave it to them
		v := classifier.Verdict{Action: classifier.ActionHuman, Categories: []string{}, Reason: "an agent is working on the ticket; no follow-up escalation"}
		if err := h.human(ctx, r); err != nil {
			return err
		}
		return h.finish(ctx, r, v)
	}
	v := h.d.Classifier.Decide(h.ticket(is, r.state))
	v.Action, v.Reply = classifier.ActionEscalateMFA, nil
	v.Reason = "no answer within the follow-up window after the bot's steps"
	if err := h.act(ctx, r, is, v, triage.ReasonFollowupTimeout); err != nil {
		return err
	}
	r.state.Remember(FollowupTaskID(p.Key, p.Version))
	return h.finish(ctx, r, v)
}
