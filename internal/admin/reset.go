package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
)

// MFAResets is what the MFA reset pages and API need of the escalation
// service; an Escalations that implements it and answers CanResetMFA true
// (Microsoft Graph configured) gets them.
type MFAResets interface {
	CanResetMFA() bool
	LookUp(ctx context.Context, id, upn string) (triage.DirectoryUser, []triage.AuthMethod, error)
	ResetMFA(ctx context.Context, id, actor string, req escalation.ResetRequest) (escalation.ResetResult, error)
}

var _ MFAResets = (*escalation.Service)(nil)

// resets is the MFA reset of the escalation service, nil when Graph is not
// configured.
func (s *Server) resets() MFAResets {
	if r, ok := s.esc.(MFAResets); ok && r.CanResetMFA() {
		return r
	}
	return nil
}

// resetRoutes adds the MFA reset's pages and API.
func (s *Server) resetRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /escalations/{id}/mfa-reset", s.withSession(s.resetLookUp))
	mux.HandleFunc("POST /escalations/{id}/mfa-reset/confirm", s.withSession(s.resetConfirm))
	mux.HandleFunc("POST /escalations/{id}/mfa-reset", s.withSession(s.resetRun))
	mux.HandleFunc("GET /api/escalations/{id}/mfa-reset", s.withBearer(s.apiResetLookUp))
	mux.HandleFunc("POST /api/escalations/{id}/mfa-reset", s.withBearer(s.apiReset))
}

// resetTimeout bounds a look-up on the page.
const resetTimeout = 30 * time.Second

// methodRow is a type of method the user has, with its methods.
type methodRow struct {
	Type      triage.MethodType
	Label     string
	Methods   []triage.AuthMethod
	Removable bool
	Checked   bool
}

type resetData struct {
	base
	R        escalation.Record
	URL      string
	Step     string // "lookup", "confirm" or "result"
	UPN      string
	User     *triage.DirectoryUser
	Rows     []methodRow
	Remove   []methodRow // confirm: what will go
	Revoke   bool
	TAP      bool
	Lifetime string
	Error    string
	Result   *escalation.ResetResult
	Pass     string // the TAP, on the result page of the run that made it
}

// resetRecord reads the escalation for a reset page, answering the error
// page itself when it cannot be reset from here.
func (s *Server) resetRecord(w http.ResponseWriter, r *http.Request, sess session) (MFAResets, escalation.Record, bool) {
	id := r.PathValue("id")
	res := s.resets()
	if res == nil || !validID(id) {
		s.errorPage(w, sess, http.StatusNotFound, "Resetting MFA from here needs Microsoft Graph (GRAPH_TENANT_ID and the rest); it is not configured.")
		return nil, escalation.Record{}, false
	}
	rec, err := s.esc.Get(r.Context(), id)
	if errors.Is(err, escalation.ErrNotFound) {
		s.errorPage(w, sess, http.StatusNotFound, "There is no escalation "+id+".")
		return nil, rec, false
	}
	if err != nil {
		s.serverError(w, sess, "read the escalation", err)
		return nil, rec, false
	}
	if rec.Reason != triage.ReasonMFAReset {
		s.errorPage(w, sess, http.StatusConflict, "Only an MFA-reset escalation can reset MFA in Entra ID.")
		return nil, rec, false
	}
	return res, rec, true
}

// rows groups the methods by type, removable types first, ticking the
// chosen ones.
func rows(ms []triage.AuthMethod, chosen []triage.MethodType) []methodRow {
	var out []methodRow
	add := func(t triage.MethodType) {
		var these []triage.AuthMethod
		for _, m := range ms {
			if m.Type == t {
				these = append(these, m)
			}
		}
		if len(these) > 0 {
			out = append(out, methodRow{Type: t, Label: t.Label(), Methods: these, Removable: t.Removable(), Checked: t.Removable() && slices.Contains(chosen, t)})
		}
	}
	for _, t := range triage.RemovableMethods {
		add(t)
	}
	seen := map[triage.MethodType]bool{}
	for _, m := range ms {
		if !m.Type.Removable() && !seen[m.Type] {
			seen[m.Type] = true
			add(m.Type)
		}
	}
	return out
}

// directoryError says a Graph failure in plain words.
func directoryError(err error) string {
	switch {
	case errors.Is(err, triage.ErrNoSuchUser):
		return "There is no such user in Entra ID: " + strings.TrimPrefix(err.Error(), triage.ErrNoSuchUser.Error()+": ") + ". Check the user principal name (usually the work e-mail)."
	case errors.Is(err, escalation.ErrBusy):
		return "Another action on this escalation is running. Try again in a moment."
	}
	return err.Error()
}

// resetLookUp is the first step: the user (prefilled from the reporter's
// e-mail), looked up in Entra ID with their methods, the options.
func (s *Server) resetLookUp(w http.ResponseWriter, r *http.Request, sess session) {
	res, rec, ok := s.resetRecord(w, r, sess)
	if !ok {
		return
	}
	upn := strings.TrimSpace(r.URL.Query().Get("upn"))
	if upn == "" {
		upn = rec.ReporterEmail
	}
	d := resetData{base: s.base(sess, "Reset MFA · "+rec.Key), R: rec, URL: escalationPath(rec.ID), Step: "lookup", UPN: upn}
	if upn != "" && r.URL.Query().Has("upn") {
		ctx, cancel := context.WithTimeout(r.Context(), resetTimeout)
		defer cancel()
		u, ms, err := res.LookUp(ctx, rec.ID, upn)
		if err != nil {
			s.log.Warn().Err(err).Str("escalation_id", rec.ID).Str("issue_key", rec.Key).Str("actor", sess.Name).Msg("MFA reset look-up failed")
			d.Error = directoryError(err)
		} else {
			d.User, d.UPN = &u, u.UPN
			d.Rows = rows(ms, triage.DefaultRemove)
		}
	}
	s.render(w, http.StatusOK, "reset", d)
}

// resetForm reads the options of the look-up and confirm forms.
func resetForm(r *http.Request) (escalation.ResetRequest, error) {
	req := escalation.ResetRequest{UPN: strings.TrimSpace(r.PostForm.Get("upn")), RevokeSessions: r.PostForm.Get("revoke") == "on", TAP: r.PostForm.Get("tap") == "on"}
	if v := r.PostForm["remove"]; len(v) > 0 {
		types, err := triage.ParseMethodTypes(strings.Join(v, ","))
		if err != nil {
			return req, err
		}
		req.Remove = types
	}
	if req.UPN == "" || len(req.UPN) > 256 {
		return req, errors.New("name the user: their user principal name in Entra ID")
	}
	return req, nil
}

// resetConfirm is the second step: what will be done, to whom, and the
// one button that does it.
func (s *Server) resetConfirm(w http.ResponseWriter, r *http.Request, sess session) {
	res, rec, ok := s.resetRecord(w, r, sess)
	if !ok {
		return
	}
	d := resetData{base: s.base(sess, "Confirm the MFA reset · "+rec.Key), R: rec, URL: escalationPath(rec.ID), Step: "confirm"}
	req, err := resetForm(r)
	d.UPN, d.Revoke, d.TAP = req.UPN, req.RevokeSessions, req.TAP
	if err == nil && len(req.Remove) == 0 && !req.TAP && !req.RevokeSessions {
		err = errors.New("choose something to do: methods to remove, the session revocation or a Temporary Access Pass")
	}
	if err == nil {
		ctx, cancel := context.WithTimeout(r.Context(), resetTimeout)
		defer cancel()
		var (
			u  triage.DirectoryUser
			ms []triage.AuthMethod
		)
		if u, ms, err = res.LookUp(ctx, rec.ID, req.UPN); err == nil {
			d.User = &u
			d.Rows = rows(ms, req.Remove)
			for _, row := range d.Rows {
				if row.Checked {
					d.Remove = append(d.Remove, row)
				}
			}
		}
	}
	if err != nil {
		d.Step, d.Error = "lookup", directoryError(err)
	}
	s.render(w, http.StatusOK, "reset", d)
}

// resetRun does the reset and shows the result, with the pass once. A
// repeat (a double click, a reload) removes and posts nothing more.
func (s *Server) resetRun(w http.ResponseWriter, r *http.Request, sess session) {
	_, rec, ok := s.resetRecord(w, r, sess)
	if !ok {
		return
	}
	d := resetData{base: s.base(sess, "MFA reset · "+rec.Key), R: rec, URL: escalationPath(rec.ID), Step: "result"}
	req, err := resetForm(r)
	if err == nil && r.PostForm.Get("confirm") != "yes" {
		err = errors.New("the reset was not confirmed")
	}
	if err != nil {
		d.Step, d.Error, d.UPN = "lookup", err.Error(), req.UPN
		s.render(w, http.StatusBadRequest, "reset", d)
		return
	}
	out, err := s.performReset(r.Context(), rec.ID, sess.Name, req, "page")
	if err != nil {
		d.Step, d.Error, d.UPN = "lookup", directoryError(err)+" Nothing already done is done twice if you try again.", req.UPN
		s.render(w, resetStatus(err), "reset", d)
		return
	}
	d.Result, d.R = &out, out.Record
	if out.TAP != nil {
		d.Pass = out.TAP.Pass
	}
	s.render(w, http.StatusOK, "reset", d)
}

// performReset runs the reset and logs it, without the pass.
func (s *Server) performReset(ctx context.Context, id, actor string, req escalation.ResetRequest, via string) (escalation.ResetResult, error) {
	res := s.resets()
	if res == nil {
		return escalation.ResetResult{}, escalation.ErrNoDirectory
	}
	out, err := res.ResetMFA(ctx, id, actor, req)
	ev := s.log.Info()
	if err != nil {
		ev = s.log.Error().Err(err)
	}
	removed := []string{}
	if out.Audit != nil {
		for _, m := range out.Audit.Removed {
			removed = append(removed, string(m.Type)+":"+m.ID)
		}
	}
	ev.Str("escalation_id", id).Str("issue_key", out.Record.Key).Str("actor", actor).Str("action", "mfa-reset").Str("via", via).
		Bool("changed", out.Changed).Strs("removed", removed).Bool("tap_created", out.TAP != nil).Str("status", out.Record.Status).Msg("admin action")
	return out, err
}

func resetStatus(err error) int {
	switch {
	case errors.Is(err, escalation.ErrNotFound), errors.Is(err, triage.ErrNoSuchUser):
		return http.StatusNotFound
	case errors.Is(err, escalation.ErrBusy), errors.Is(err, escalation.ErrReturned), errors.Is(err, escalation.ErrNotMFAReset), errors.Is(err, escalation.ErrOtherUser):
		return http.StatusConflict
	case errors.Is(err, escalation.ErrNoDirectory):
		return http.StatusNotImplemented
	case errors.Is(err, escalation.ErrInvalidReset):
		return http.StatusBadRequest
	}
	return http.StatusBadGateway
}

// --- API ---

// ResetRequest is the body of POST /api/escalations/{id}/mfa-reset.
type ResetRequest struct {
	User           string   `json:"user"`   // the user principal name in Entra ID
	Remove         []string `json:"remove"` // method types; default authenticator and passkey
	RevokeSessions bool     `json:"revoke_sessions"`
	TAP            bool     `json:"tap"`
	Actor          string   `json:"actor,omitempty"`
}

// ResetResponse is its answer. TemporaryAccessPass is there once, on the
// call that created the pass.
type ResetResponse struct {
	escalation.ResetResult
	TemporaryAccessPass *TAPView `json:"temporary_access_pass,omitempty"`
}

// TAPView is a pass as the API shows it, the secret included.
type TAPView struct {
	Pass     string        `json:"pass"`
	ID       string        `json:"id"`
	Start    time.Time     `json:"start,omitzero"`
	Lifetime time.Duration `json:"lifetime_ns"`
}

// LookUpResponse is the answer of GET /api/escalations/{id}/mfa-reset?user=UPN.
type LookUpResponse struct {
	User    triage.DirectoryUser `json:"user"`
	Methods []triage.AuthMethod  `json:"methods"`
}

func (s *Server) apiResetLookUp(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	res := s.resets()
	if res == nil || !validID(id) {
		writeJSON(w, http.StatusNotImplemented, ErrorResponse{escalation.ErrNoDirectory.Error()})
		return
	}
	u, ms, err := res.LookUp(r.Context(), id, r.URL.Query().Get("user"))
	if err != nil {
		s.apiResetError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, LookUpResponse{User: u, Methods: ms})
}

func (s *Server) apiReset(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) {
		writeJSON(w, http.StatusNotFound, ErrorResponse{"no such escalation"})
		return
	}
	var body ResetRequest
	if !readJSON(w, r, &body, false, `{"user": "...", "remove": ["authenticator", "passkey"], "revoke_sessions": false, "tap": false, "actor": "..."}`) || !apiActor(w, &body.Actor) {
		return
	}
	req := escalation.ResetRequest{UPN: strings.TrimSpace(body.User), RevokeSessions: body.RevokeSessions, TAP: body.TAP, Remove: triage.DefaultRemove}
	if body.Remove != nil {
		req.Remove = nil
		if len(body.Remove) > 0 {
			types, err := triage.ParseMethodTypes(strings.Join(body.Remove, ","))
			if err != nil {
				writeJSON(w, http.StatusBadRequest, ErrorResponse{"remove: " + err.Error()})
				return
			}
			req.Remove = types
		}
	}
	out, err := s.performReset(r.Context(), id, body.Actor, req, "api")
	if err != nil {
		s.apiResetError(w, err)
		return
	}
	resp := ResetResponse{ResetResult: out}
	if out.TAP != nil {
		resp.TemporaryAccessPass = &TAPView{Pass: out.TAP.Pass, ID: out.TAP.ID, Start: out.TAP.Start, Lifetime: out.TAP.Lifetime}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) apiResetError(w http.ResponseWriter, err error) {
	writeJSON(w, resetStatus(err), ErrorResponse{err.Error()})
}
