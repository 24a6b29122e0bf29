package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage"
)

// Directory is what the MFA reset needs of Entra ID; *graph.Client
// implements it.
type Directory interface {
	// User finds a user by user principal name.
	User(ctx context.Context, upn string) (triage.DirectoryUser, error)
	// Methods lists the user's authentication methods.
	Methods(ctx context.Context, userID string) ([]triage.AuthMethod, error)
	// RemoveMethod deletes one; a method already gone is not an error.
	RemoveMethod(ctx context.Context, userID string, m triage.AuthMethod) error
	// RevokeSessions ends the user's sign-in sessions.
	RevokeSessions(ctx context.Context, userID string) error
	// CreateTAP creates a Temporary Access Pass (replacing an earlier one).
	CreateTAP(ctx context.Context, userID string) (triage.TemporaryAccessPass, error)
}

// ErrNoDirectory is returned when Entra ID access is not configured.
var ErrNoDirectory = errors.New("Microsoft Graph is not configured (GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET or GRAPH_CLIENT_CERT), so MFA cannot be reset from here")

// ErrNotMFAReset is returned for a reset asked on an escalation whose
// reason is not mfa-reset.
var ErrNotMFAReset = errors.New("only an MFA-reset escalation can reset MFA in Entra ID")

// ErrOtherUser is returned when a reset started for another user is asked
// to continue for this one.
var ErrOtherUser = errors.New("a reset of another user was started on this escalation")

// ErrInvalidReset marks a reset request that cannot be done as asked.
var ErrInvalidReset = errors.New("invalid MFA reset")

// ResetRequest is what an admin asks of an MFA reset.
type ResetRequest struct {
	// UPN is the user's principal name in Entra ID (usually the e-mail).
	UPN string
	// Remove lists the method types to remove (triage.RemovableMethods).
	Remove []triage.MethodType
	// RevokeSessions ends the user's sign-in sessions afterwards.
	RevokeSessions bool
	// TAP creates a Temporary Access Pass for the user to set up new
	// methods; it is in the result once and nowhere else.
	TAP bool
}

// RemovedMethod is one method the reset removed, for the audit.
type RemovedMethod struct {
	Type   triage.MethodType `json:"type"`
	ID     string            `json:"id"`
	Detail string            `json:"detail,omitempty"`
	At     time.Time         `json:"at"`
}

// ResetAudit is what an MFA reset did in Entra ID, kept in the history of
// the action that closed the escalation. It holds no secret: a Temporary
// Access Pass is recorded by its id and lifetime only.
type ResetAudit struct {
	UserID          string          `json:"user_id"`
	UPN             string          `json:"user_principal_name"`
	Removed         []RemovedMethod `json:"removed"`
	SessionsRevoked bool            `json:"sessions_revoked,omitempty"`
	TAPID           string          `json:"tap_id,omitempty"`
	TAPLifetime     time.Duration   `json:"tap_lifetime,omitempty"`
	StartedBy       string          `json:"started_by"`
	StartedAt       time.Time       `json:"started_at"`
}

// Summary is the audit in one line, the history's note.
func (a ResetAudit) Summary() string {
	var parts []string
	for _, m := range a.Removed {
		parts = append(parts, string(m.Type)+" "+m.ID)
	}
	removed := "nothing removed"
	if len(parts) > 0 {
		removed = "removed " + strings.Join(parts, ", ")
	}
	s := "MFA reset done in Entra ID for " + a.UPN + ": " + removed
	if a.SessionsRevoked {
		s += "; sign-in sessions revoked"
	}
	if a.TAPID != "" {
		s += fmt.Sprintf("; Temporary Access Pass %s created (valid %v)", a.TAPID, a.TAPLifetime)
	}
	return s
}

// ResetResult is what ResetMFA did.
type ResetResult struct {
	Record Record `json:"record"`
	// Changed is false for a repeat: nothing removed, nothing posted.
	Changed bool `json:"changed"`
	// Audit is what was done in Entra ID (nil when the escalation was
	// closed without a reset from here).
	Audit *ResetAudit `json:"audit,omitempty"`
	// Kept lists the user's methods after the reset (empty if they could
	// not be read again).
	Kept []triage.AuthMethod `json:"kept,omitempty"`
	// TAP is the pass, only on the run that created it; the caller shows
	// it once. It is never stored.
	TAP *triage.TemporaryAccessPass `json:"-"`
}

// resetPlan is a reset's progress, kept in Redis under the lock: the user,
// the methods to remove (chosen once, so a retry removes nothing more),
// what is done. Never a pass.
type resetPlan struct {
	User    triage.DirectoryUser `json:"user"`
	Remove  []triage.AuthMethod  `json:"remove"`
	Revoke  bool                 `json:"revoke"`
	TAP     bool                 `json:"tap"`
	By      string               `json:"by"`
	At      time.Time            `json:"at"`
	Removed []RemovedMethod      `json:"removed"`
	Revoked bool                 `json:"revoked"`
	TAPID   string               `json:"tap_id,omitempty"`
	TAPLife time.Duration        `json:"tap_lifetime,omitempty"`
}

func (p resetPlan) audit() *ResetAudit {
	return &ResetAudit{UserID: p.User.ID, UPN: p.User.UPN, Removed: slices.Clone(p.Removed), SessionsRevoked: p.Revoked,
		TAPID: p.TAPID, TAPLifetime: p.TAPLife, StartedBy: p.By, StartedAt: p.At}
}

func (s *Service) resetKey(id string) string { return s.store.prefix + "esc:mfa-reset:" + id }

// CanResetMFA reports whether MFA resets in Entra ID are offered at all.
func (s *Service) CanResetMFA() bool { return s.cfg.Directory != nil }

// LookUp finds the user an admin names for an MFA-reset escalation, with
// their methods: the admin checks it is the right person before the reset.
func (s *Service) LookUp(ctx context.Context, id, upn string) (triage.DirectoryUser, []triage.AuthMethod, error) {
	if s.cfg.Directory == nil {
		return triage.DirectoryUser{}, nil, ErrNoDirectory
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return triage.DirectoryUser{}, nil, err
	}
	if r.Reason != triage.ReasonMFAReset {
		return triage.DirectoryUser{}, nil, ErrNotMFAReset
	}
	u, err := s.cfg.Directory.User(ctx, upn)
	if err != nil {
		return triage.DirectoryUser{}, nil, err
	}
	ms, err := s.cfg.Directory.Methods(ctx, u.ID)
	if err != nil {
		return u, nil, err
	}
	return u, ms, nil
}

// ResetMFA resets a reporter's MFA in Entra ID from an MFA-reset
// escalation, then closes it as Done does (one comment to the reporter in
// their language, the label, the escalation done), with what was done in
// the history. It runs under the escalation's lock and records its
// progress, so a double click is refused as busy and a repeat (or a retry
// after a failure) removes nothing more and posts nothing more: the
// methods to remove are chosen once, on the first run, and each removal,
// the revocation and the pass are done at most once. A closed escalation
// is not reset. The pass is in the result of the run that created it, and
// nowhere else.
func (s *Service) ResetMFA(ctx context.Context, id, actor string, req ResetRequest) (ResetResult, error) {
	if s.cfg.Directory == nil {
		return ResetResult{}, ErrNoDirectory
	}
	ctx, r, unlock, err := s.lockAndGet(ctx, id)
	if err != nil {
		return ResetResult{}, err
	}
	defer unlock()
	if r.Reason != triage.ReasonMFAReset {
		return ResetResult{Record: r}, ErrNotMFAReset
	}
	if r.Status == StatusReturned {
		return ResetResult{Record: r}, ErrReturned
	}
	plan, found, err := s.loadPlan(ctx, id)
	if err != nil {
		return ResetResult{}, err
	}
	if r.Status == StatusDone {
		// closed already (by this reset or by hand): no Graph call; post
		// the reporter's comment only if an earlier attempt missed it
		r, changed, err := s.done(ctx, r, actor, nil)
		res := ResetResult{Record: r, Changed: changed}
		if found {
			res.Audit = plan.audit()
		}
		return res, err
	}
	if found && !strings.EqualFold(plan.User.UPN, strings.TrimSpace(req.UPN)) && strings.TrimSpace(req.UPN) != "" {
		return ResetResult{Record: r}, fmt.Errorf("%w (%s, started by %s at %s): finish it for that user", ErrOtherUser, plan.User.UPN, plan.By, plan.At.Format(time.RFC3339))
	}
	if !found {
		if plan, err = s.plan(ctx, actor, req); err != nil {
			return ResetResult{Record: r}, err
		}
		if err := s.savePlan(ctx, id, plan); err != nil {
			return ResetResult{Record: r}, err
		}
	}
	dir := s.cfg.Directory
	res := ResetResult{Record: r}
	for _, m := range plan.Remove {
		if slices.ContainsFunc(plan.Removed, func(x RemovedMethod) bool { return x.ID == m.ID }) {
			continue
		}
		if err := dir.RemoveMethod(ctx, plan.User.ID, m); err != nil {
			return res, fmt.Errorf("remove the %s method %s: %w", m.Type, m.ID, err)
		}
		plan.Removed = append(plan.Removed, RemovedMethod{Type: m.Type, ID: m.ID, Detail: m.Detail, At: s.cfg.Now().UTC()})
		if err := s.savePlan(ctx, id, plan); err != nil {
			return res, err
		}
	}
	if plan.Revoke && !plan.Revoked {
		if err := dir.RevokeSessions(ctx, plan.User.ID); err != nil {
			return res, fmt.Errorf("revoke the sign-in sessions: %w", err)
		}
		plan.Revoked = true
		if err := s.savePlan(ctx, id, plan); err != nil {
			return res, err
		}
	}
	if plan.TAP && plan.TAPID == "" {
		tap, err := dir.CreateTAP(ctx, plan.User.ID)
		if err != nil {
			return res, fmt.Errorf("create the Temporary Access Pass: %w", err)
		}
		res.TAP = &tap
		plan.TAPID, plan.TAPLife = tap.ID, tap.Lifetime
		if err := s.savePlan(ctx, id, plan); err != nil {
			return res, err
		}
	}
	res.Audit = plan.audit()
	if kept, err := dir.Methods(ctx, plan.User.ID); err == nil {
		res.Kept = kept
	}
	res.Record, res.Changed, err = s.done(ctx, r, actor, res.Audit)
	res.Changed = true // methods were removed, or the pass made, on this run or an earlier unfinished one
	return res, err
}

// plan looks the user up and chooses the methods to remove.
func (s *Service) plan(ctx context.Context, actor string, req ResetRequest) (resetPlan, error) {
	upn := strings.TrimSpace(req.UPN)
	if upn == "" {
		return resetPlan{}, fmt.Errorf("%w: name the user: their user principal name in Entra ID", ErrInvalidReset)
	}
	for _, t := range req.Remove {
		if !t.Removable() {
			return resetPlan{}, fmt.Errorf("%w: a %q method cannot be removed here", ErrInvalidReset, t)
		}
	}
	if len(req.Remove) == 0 && !req.RevokeSessions && !req.TAP {
		return resetPlan{}, fmt.Errorf("%w: nothing to do: choose the methods to remove, the session revocation or a Temporary Access Pass", ErrInvalidReset)
	}
	u, err := s.cfg.Directory.User(ctx, upn)
	if err != nil {
		return resetPlan{}, err
	}
	ms, err := s.cfg.Directory.Methods(ctx, u.ID)
	if err != nil {
		return resetPlan{}, err
	}
	p := resetPlan{User: u, Revoke: req.RevokeSessions, TAP: req.TAP, By: actor, At: s.cfg.Now().UTC(), Removed: []RemovedMethod{}, Remove: []triage.AuthMethod{}}
	for _, m := range ms {
		if slices.Contains(req.Remove, m.Type) {
			p.Remove = append(p.Remove, m)
		}
	}
	return p, nil
}

func (s *Service) loadPlan(ctx context.Context, id string) (resetPlan, bool, error) {
	data, err := s.store.rdb.Get(ctx, s.resetKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return resetPlan{}, false, nil
	}
	if err != nil {
		return resetPlan{}, false, fmt.Errorf("read the MFA reset of %s: %w", id, err)
	}
	var p resetPlan
	if err := json.Unmarshal(data, &p); err != nil {
		return resetPlan{}, false, fmt.Errorf("the MFA reset of %s: %w", id, err)
	}
	return p, true, nil
}

func (s *Service) savePlan(ctx context.Context, id string, p resetPlan) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := s.store.rdb.Set(ctx, s.resetKey(id), data, 0).Err(); err != nil {
		return fmt.Errorf("record the MFA reset of %s: %w", id, s.cause(ctx, err))
	}
	return nil
}
