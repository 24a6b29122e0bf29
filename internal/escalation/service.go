package escalation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/templates"
)

// ServiceConfig configures the admin actions. Zero values are defaults.
type ServiceConfig struct {
	// DoneLabel is added to the ticket when its MFA reset is done.
	// Default "triage-mfa-reset-done".
	DoneLabel string
	// DoneTransition, when set, is the Jira transition run on done.
	DoneTransition string
	// ReturnedLabel is added when an escalation goes back to the agents.
	// Default "triage-returned".
	ReturnedLabel string
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Service performs the admins' actions: the status change in the store and
// the Jira writes that close the loop on the ticket.
type Service struct {
	store *Store
	jira  triage.Jira
	tmpl  *templates.Set
	cfg   ServiceConfig
}

// NewService wires the store, Jira (the worker's adapter) and the
// templates.
func NewService(store *Store, jira triage.Jira, tmpl *templates.Set, cfg ServiceConfig) *Service {
	if cfg.DoneLabel == "" {
		cfg.DoneLabel = triage.LabelMFAResetDone
	}
	if cfg.ReturnedLabel == "" {
		cfg.ReturnedLabel = triage.LabelReturned
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

// Acknowledge marks an open escalation as being worked on. Acknowledging
// twice is a no-op.
func (s *Service) Acknowledge(ctx context.Context, id, actor string) (Record, bool, error) {
	return s.store.Move(ctx, id, []string{StatusOpen, StatusReturned}, StatusAcknowledged, actor, "", s.cfg.Now())
}

// ErrBusy is returned while another admin's action on the same escalation
// is running.
var ErrBusy = errors.New("another action on this escalation is running; try again in a moment")

// Done records that the reporter's MFA methods were reset: one comment to
// the reporter with the steps to set up Authenticator and a passkey again,
// the done label (and transition), and the escalation closed. A second
// "done" posts nothing more; if a first one died after the status change,
// the second posts the comment it missed (found by its marker).
func (s *Service) Done(ctx context.Context, id, actor string) (Record, bool, error) {
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return Record{}, false, err
	}
	defer unlock()
	r, err := s.Get(ctx, id)
	if err != nil {
		return Record{}, false, err
	}
	posted, err := s.store.rdb.Exists(ctx, s.postedKey(id)).Result()
	if err != nil {
		return Record{}, false, fmt.Errorf("done %s: %w", id, err)
	}
	if r.Status == StatusDone && posted > 0 {
		return r, false, nil
	}
	changed := false
	if r.Status != StatusDone {
		if r, changed, err = s.store.Move(ctx, id, []string{StatusOpen, StatusAcknowledged, StatusReturned}, StatusDone, actor, "MFA reset done", s.cfg.Now()); err != nil {
			return Record{}, false, err
		}
	}
	marker := "triage-reset-done-" + strings.ToLower(strings.ReplaceAll(id, ":", "-"))
	already := false
	if !changed {
		// a previous "done" changed the status and died before or after
		// its comment: look for it
		is, err := s.jira.GetIssue(ctx, r.Key)
		if err != nil {
			return r, false, fmt.Errorf("read %s: %w", r.Key, err)
		}
		for _, c := range is.Comments {
			already = already || strings.Contains(c.Body, marker)
		}
	}
	if !already {
		msg, err := s.tmpl.Render(templates.MFAResetDone, templates.Data{TicketKey: r.Key, ReporterName: firstWord(r.ReporterName), Platform: r.Platform})
		if err != nil {
			return r, false, fmt.Errorf("render the reset-done comment: %w", err)
		}
		if err := s.jira.Write(ctx, r.Key, triage.Write{Comment: msg.Wiki + "\n\n{anchor:" + marker + "}", AddLabels: []string{s.cfg.DoneLabel}}); err != nil {
			return r, false, fmt.Errorf("comment on %s: %w", r.Key, err)
		}
		if s.cfg.DoneTransition != "" {
			if err := s.jira.Transition(ctx, r.Key, s.cfg.DoneTransition); err != nil {
				return r, false, fmt.Errorf("transition %s: %w", r.Key, err)
			}
		}
	}
	if err := s.store.rdb.Set(ctx, s.postedKey(id), "1", 0).Err(); err != nil {
		return r, false, fmt.Errorf("done %s: %w", id, err)
	}
	return r, changed, nil
}

// Return hands an escalation back to the agents with a note, as an
// internal comment on the ticket. Returning twice is a no-op.
func (s *Service) Return(ctx context.Context, id, actor, note string) (Record, bool, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return Record{}, false, errors.New("a note for the agents is required")
	}
	unlock, err := s.lock(ctx, id)
	if err != nil {
		return Record{}, false, err
	}
	defer unlock()
	r, changed, err := s.store.Move(ctx, id, []string{StatusOpen, StatusAcknowledged}, StatusReturned, actor, note, s.cfg.Now())
	if err != nil || !changed {
		return r, changed, err
	}
	body := fmt.Sprintf("Returned to the agents by %s (escalation %s):\n\n%s", escapeWiki(actor), escapeWiki(r.Reason), escapeWiki(note))
	if err := s.jira.Write(ctx, r.Key, triage.Write{Comment: body, Internal: true, AddLabels: []string{s.cfg.ReturnedLabel}}); err != nil {
		return r, changed, fmt.Errorf("comment on %s: %w", r.Key, err)
	}
	return r, changed, nil
}

func (s *Service) postedKey(id string) string { return s.store.prefix + "esc:posted:" + id }

func (s *Service) lock(ctx context.Context, id string) (func(), error) {
	k := s.store.prefix + "esc:lock:" + id
	ok, err := s.store.rdb.SetNX(ctx, k, "1", 30*time.Second).Result()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", id, err)
	}
	if !ok {
		return nil, ErrBusy
	}
	return func() { s.store.rdb.Del(context.Background(), k) }, nil
}

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
