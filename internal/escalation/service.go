package escalation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/templates"
)

// ServiceConfig configures the admin actions. Zero values are defaults.
type ServiceConfig struct {
	// DoneLabel is added to the ticket when its MFA reset is done.
	// Default "triage-mfa-reset-done".
	DoneLabel string
	// PasswordDoneLabel is added instead when the escalation was for a
	// password reset. Default "triage-password-reset-done".
	PasswordDoneLabel string
	// DoneTransition, when set, is the Jira transition run on done.
	DoneTransition string
	// ReturnedLabel is added when an escalation goes back to the agents.
	// Default "triage-returned".
	ReturnedLabel string
	// BotAccountID is the bot's Jira account. A note counts as already
	// posted only when a comment of this account carries its marker, never
	// a reporter's. Empty: any comment by someone other than the reporter
	// counts (set it: the worker needs it anyway).
	BotAccountID string
	// LockTTL is the lifetime of an action's lock, renewed every third of
	// it while the action runs; default DefaultLockTTL.
	LockTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Directory, when set, lets admins reset a reporter's MFA methods in
	// Entra ID from an MFA-reset escalation (ResetMFA); nil: not offered.
	Directory Directory

	// What an escalation returned as "not an MFA problem" teaches (the
	// outcome "returned"), each optional (nil: not recorded there):
	// Decisions counts it per day, Feedback keeps it for triage feedback
	// export, Audit records it in the ticket's audit, Metrics counts it.
	Decisions triage.DecisionCounter
	Feedback  triage.FeedbackRecorder
	Audit     triage.AuditRecorder
	Metrics   triage.FeedbackMetrics
}

// Messages renders the reporter's messages by template name;
// *templates.Set implements it.
type Messages interface {
	Render(name string, d templates.Data) (templates.Rendered, error)
}

// Service performs the admins' actions: the status change in the store and
// the Jira writes that close the loop on the ticket.
type Service struct {
	store *Store
	jira  triage.Jira
	tmpl  Messages
	cfg   ServiceConfig
}

// NewService wires the store, Jira (the worker's adapter) and the
// templates.
func NewService(store *Store, jira triage.Jira, tmpl Messages, cfg ServiceConfig) *Service {
	if cfg.DoneLabel == "" {
		cfg.DoneLabel = triage.LabelMFAResetDone
	}
	if cfg.PasswordDoneLabel == "" {
		cfg.PasswordDoneLabel = triage.LabelPasswordResetDone
	}
	if cfg.ReturnedLabel == "" {
		cfg.ReturnedLabel = triage.LabelReturned
	}
	if cfg.LockTTL <= 0 {
		cfg.LockTTL = DefaultLockTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: store, jira: jira, tmpl: tmpl, cfg: cfg}
}

// List, Get and Counts read the queue.
func (s *Service) List(ctx context.Context, f Filter) (Page, error) {
	return s.store.List(ctx, f, s.cfg.Now())
}

// Get reads one escalation.
func (s *Service) Get(ctx context.Context, id string) (Record, error) {
	r, ok, err := s.store.Get(ctx, id)
	if err != nil {
		return Record{}, err
	}
	if !ok {
		return Record{}, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return r, nil
}

// Counts returns the number of escalations per status.
func (s *Service) Counts(ctx context.Context) (map[string]int, error) { return s.store.Counts(ctx) }

// Ticket reads the escalation's ticket from Jira: its summary, description
// and comments, for the admin's page.
func (s *Service) Ticket(ctx context.Context, key string) (triage.Issue, error) {
	return s.jira.GetIssue(ctx, key)
}

// Acknowledge marks an open escalation as being worked on. Acknowledging
// twice is a no-op.
func (s *Service) Acknowledge(ctx context.Context, id, actor string) (Record, bool, error) {
	return s.store.Move(ctx, id, []string{StatusOpen, StatusReturned}, StatusAcknowledged, actor, "", s.cfg.Now())
}

// ErrBusy is returned while another admin's action on the same escalation
// is running.
var ErrBusy = errors.New("another action on this escalation is running; try again in a moment")

// ErrReturned is returned for "done" on an escalation handed back to the
// agents: an admin takes it back (acknowledges it) first.
var ErrReturned = errors.New("this escalation was returned to the agents; acknowledge it first to close it")

// DoneName is what closing an escalation with reason is called: "Password
// reset done" for a password reset, else "MFA reset done". It is the
// button's label and the note in the history.
func DoneName(reason string) string {
	if reason == triage.ReasonPasswordReset {
		return "Password reset done"
	}
	return "MFA reset done"
}

// closing is the message and label that close an escalation.
func (s *Service) closing(reason string) (template, label string) {
	if reason == triage.ReasonPasswordReset {
		return templates.PasswordResetDone, s.cfg.PasswordDoneLabel
	}
	return templates.MFAResetDone, s.cfg.DoneLabel
}

// messageData is what the reporter's messages are rendered with: in the
// reporter's language (English for records made before it was recorded).
func messageData(r Record) templates.Data {
	return templates.Data{TicketKey: r.Key, ReporterName: firstWord(r.ReporterName), Platform: r.Platform, Language: r.Language}
}

// Done closes an escalation: one comment to the reporter (for a password
// reset, that the password was reset; otherwise that the MFA methods were,
// with the steps to set up Authenticator and a passkey again), its label
// (and transition), and the escalation done. A second "done" posts nothing
// more; if a first one died after the status change, the second posts the
// comment it missed, unless a comment of the bot's carries its marker. A
// returned escalation is not closed (ErrReturned).
func (s *Service) Done(ctx context.Context, id, actor string) (Record, bool, error) {
	ctx, r, unlock, err := s.lockAndGet(ctx, id)
	if err != nil {
		return Record{}, false, err
	}
	defer unlock()
	return s.done(ctx, r, actor, nil)
}

// done is Done under the escalation's lock, with r read under it; reset,
// when set, is recorded with the status change (the MFA reset done in
// Entra ID).
func (s *Service) done(ctx context.Context, r Record, actor string, reset *ResetAudit) (Record, bool, error) {
	id := r.ID
	if r.Status == StatusReturned {
		return r, false, ErrReturned
	}
	posted, err := s.store.rdb.Exists(ctx, s.postedKey(id)).Result()
	if err != nil {
		return Record{}, false, fmt.Errorf("done %s: %w", id, err)
	}
	if r.Status == StatusDone && posted > 0 {
		return r, false, nil
	}
	name, label := s.closing(r.Reason)
	msg, err := s.tmpl.Render(name, messageData(r))
	if err != nil {
		return r, false, fmt.Errorf("render the %q message: %w", name, err)
	}
	moved := false
	if r.Status != StatusDone {
		act := Action{At: s.cfg.Now().UTC(), Actor: actor, Status: StatusDone, Note: DoneName(r.Reason), Reset: reset}
		if reset != nil {
			act.Note = reset.Summary()
		}
		var n int
		if r, n, err = s.store.moveAction(ctx, id, []string{StatusOpen, StatusAcknowledged}, act, ""); err != nil {
			return Record{}, false, err
		}
		moved = n > 0
	}
	wrote, err := s.deliver(ctx, r.Key, "triage-reset-done-"+slug(id), !moved, triage.Write{Comment: msg.Wiki, AddLabels: []string{label}})
	if err != nil {
		return r, moved, err
	}
	if wrote && s.cfg.DoneTransition != "" {
		if err := s.jira.Transition(ctx, r.Key, s.cfg.DoneTransition); err != nil {
			return r, moved, fmt.Errorf("transition %s: %w", r.Key, s.cause(ctx, err))
		}
	}
	if err := s.store.rdb.Set(ctx, s.postedKey(id), "1", 0).Err(); err != nil {
		return r, moved, fmt.Errorf("done %s: %w", id, err)
	}
	return r, moved || wrote, nil
}

// Return hands an escalation back to the agents with a note, as an
// internal comment on the ticket. Returning twice is a no-op, except that
// a return whose note was not posted (the Jira write failed, the process
// died) posts the note it recorded, unless a comment of the bot's carries
// its marker.
func (s *Service) Return(ctx context.Context, id, actor, note string) (Record, bool, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return Record{}, false, errors.New("a note for the agents is required")
	}
	ctx, r, unlock, err := s.lockAndGet(ctx, id)
	if err != nil {
		return Record{}, false, err
	}
	defer unlock()
	pending := s.store.prefix + "esc:pending-return:" + id
	n, moved := 0, false
	switch r.Status {
	case StatusOpen, StatusAcknowledged:
		if r, n, err = s.store.move(ctx, id, []string{StatusOpen, StatusAcknowledged}, StatusReturned, actor, note, s.cfg.Now(), pending); err != nil || n == 0 {
			return r, false, err
		}
		moved = true
		s.returned(ctx, r, actor)
	case StatusReturned:
		// a retry: post the recorded note if its write is still pending
		n, err = s.store.rdb.Get(ctx, pending).Int()
		if errors.Is(err, redis.Nil) {
			return r, false, nil
		}
		if err != nil {
			return r, false, fmt.Errorf("return %s: %w", id, err)
		}
	default:
		return r, false, nil
	}
	if n < 1 || n > len(r.History) {
		return r, moved, fmt.Errorf("return %s: history entry %d is missing", id, n)
	}
	act := r.History[n-1]
	body := fmt.Sprintf("Returned to the agents by %s (escalation %s):\n\n%s", escapeWiki(act.Actor), escapeWiki(r.Reason), escapeWiki(act.Note))
	wrote, err := s.deliver(ctx, r.Key, "triage-returned-"+slug(id)+"-"+strconv.Itoa(n), !moved, triage.Write{Comment: body, Internal: true, AddLabels: []string{s.cfg.ReturnedLabel}})
	var skipped *triage.InternalNoteSkipped
	switch {
	case errors.As(err, &skipped):
		// no private note is possible on this project (the label went
		// through): the note stays in the escalation's history, and a
		// retry would only fail the same way
		wrote = true
	case err != nil:
		return r, moved, err
	}
	if err := s.store.rdb.Del(ctx, pending).Err(); err != nil {
		return r, moved, fmt.Errorf("return %s: %w", id, err)
	}
	return r, moved || wrote, nil
}

// returned records the outcome of an escalation returned to the agents
// (not an MFA problem): the ticket was for a person. It runs once, when
// the status changes, and is best effort: the return itself went
// through, and a failure here must not make the admin try it again.
func (s *Service) returned(ctx context.Context, r Record, actor string) {
	now := s.cfg.Now().UTC()
	if s.cfg.Decisions != nil {
		_ = s.cfg.Decisions.CountFeedback(ctx, now, triage.OutcomeReturned)
	}
	if s.cfg.Metrics != nil {
		s.cfg.Metrics.Feedback(triage.OutcomeReturned)
	}
	if s.cfg.Feedback != nil {
		_ = s.cfg.Feedback.RecordFeedback(ctx, triage.Feedback{Key: r.Key, Outcome: triage.OutcomeReturned, Actor: actor, At: now,
			Expect: triage.HumanExpect(r.Platform)})
	}
	if s.cfg.Audit != nil {
		_ = s.cfg.Audit.Record(ctx, triage.AuditEntry{Key: r.Key, Event: "escalation:return", Mode: "admin",
			Verdict: classifier.Verdict{Categories: []string{}, Action: classifier.ActionHuman, Reason: "an admin returned the escalation (" + r.Reason + ") to the agents: not an MFA problem"},
			Writes:  []string{"escalation " + r.ID + " returned"}, Outcome: triage.OutcomeReturned, Actor: actor, At: now})
	}
}

// deliver posts w on the ticket with marker anchored at its end. When
// recovering (an earlier attempt changed the status and may have posted
// before it died), it first looks for the marker in the bot's own
// comments and posts nothing if it is there. It reports whether it posted.
func (s *Service) deliver(ctx context.Context, key, marker string, recovering bool, w triage.Write) (bool, error) {
	if recovering {
		is, err := s.jira.GetIssue(ctx, key)
		if err != nil {
			return false, fmt.Errorf("read %s: %w", key, s.cause(ctx, err))
		}
		for _, c := range is.Comments {
			if s.byBot(c, is) && strings.Contains(c.Body, marker) {
				return false, nil
			}
		}
	}
	w.Comment += "\n\n{anchor:" + marker + "}"
	if err := s.jira.Write(ctx, key, w); err != nil {
		return false, fmt.Errorf("comment on %s: %w", key, s.cause(ctx, err))
	}
	return true, nil
}

// byBot reports whether the bot wrote c: its account when configured,
// else anyone but the reporter.
func (s *Service) byBot(c triage.Comment, is triage.Issue) bool {
	if s.cfg.BotAccountID != "" {
		return triage.SameAccount(c.AuthorID, s.cfg.BotAccountID)
	}
	return c.AuthorID != "" && c.AuthorID != is.ReporterID
}

// cause is err, or ErrLockLost when the action's lock was lost.
func (s *Service) cause(ctx context.Context, err error) error {
	if c := context.Cause(ctx); errors.Is(c, ErrLockLost) {
		return fmt.Errorf("%w (%v)", ErrLockLost, err)
	}
	return err
}

func (s *Service) postedKey(id string) string { return s.store.prefix + "esc:posted:" + id }

// slug is an id as it appears in a marker.
func slug(id string) string { return strings.ToLower(strings.ReplaceAll(id, ":", "-")) }

// escapeWiki keeps admin-typed text from being read as Jira wiki markup.
func escapeWiki(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '*', '_', '{', '}', '[', ']', '|', '!', '+', '^', '~', '-', '#', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// lockAndGet takes the escalation's lock and reads the record; the caller
// lets the lock go with unlock. On an error the lock is already released.
func (s *Service) lockAndGet(ctx context.Context, id string) (context.Context, Record, func(), error) {
	ctx, unlock, err := s.lock(ctx, id)
	if err != nil {
		return ctx, Record{}, nil, err
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		unlock()
		return ctx, Record{}, nil, err
	}
	return ctx, r, unlock, nil
}
