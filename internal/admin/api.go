package admin

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/mfatriage/triage/internal/escalation"
)

// ActionRequest is the body of POST /api/escalations/{id}/{ack,done,return}.
type ActionRequest struct {
	Note  string `json:"note,omitempty"`  // required for return
	Actor string `json:"actor,omitempty"` // recorded in the history; default "api"
}

// ActionResponse is the answer to an action: the record as it is now, and
// whether the action changed it (false for a repeat).
type ActionResponse struct {
	Record  escalation.Record `json:"record"`
	Changed bool              `json:"changed"`
}

// ErrorResponse is the body of every API error.
type ErrorResponse struct {
	Error string `json:"error"`
}

// withBearer lets through a request whose Authorization header carries the
// admin token, always; wrong tokens count as failed logins of the client's
// IP, and past the limit they are answered 429.
func (s *Server) withBearer(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="triage-admin"`)
			writeJSON(w, http.StatusUnauthorized, ErrorResponse{"this API needs the header Authorization: Bearer <admin token>"})
			return
		}
		if s.keys.tokenMatches(strings.TrimSpace(token)) {
			h(w, r)
			return
		}
		ip, now := s.clientIP(r), s.cfg.Now()
		if blocked, wait := s.fails.blocked(ip, now); blocked {
			w.Header().Set("Retry-After", retryAfter(wait))
			writeJSON(w, http.StatusTooManyRequests, ErrorResponse{"too many requests with a wrong token from your address; retry in " + retryAfter(wait) + " seconds"})
			return
		}
		s.fails.fail(ip, now)
		s.log.Warn().Stringer("client_ip", ip).Str("path", r.URL.Path).Msg("admin API request with a wrong token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="triage-admin", error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, ErrorResponse{"wrong token"})
	}
}

func (s *Server) apiList(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r.URL.Query(), 50)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorResponse{err.Error()})
		return
	}
	page, err := s.esc.List(r.Context(), f)
	if err != nil {
		s.apiError(w, "list escalations", err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) apiCounts(w http.ResponseWriter, r *http.Request) {
	counts, err := s.esc.Counts(r.Context())
	if err != nil {
		s.apiError(w, "count escalations", err)
		return
	}
	for _, st := range escalation.Statuses() {
		if _, ok := counts[st]; !ok {
			counts[st] = 0 // every status present, zeros included
		}
	}
	writeJSON(w, http.StatusOK, counts)
}

func (s *Server) apiGet(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validID(id) {
		writeJSON(w, http.StatusNotFound, ErrorResponse{"no such escalation"})
		return
	}
	rec, err := s.esc.Get(r.Context(), id)
	if err != nil {
		s.apiError(w, "get escalation", err)
		return
	}
	writeJSON(w, http.StatusOK, rec)
}

// maxAPIBody bounds an action's JSON body.
const maxAPIBody = 64 << 10

func (s *Server) apiAct(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	if !validID(id) || !validAction(action) {
		writeJSON(w, http.StatusNotFound, ErrorResponse{"no such action: use ack, done or return"})
		return
	}
	var req ActionRequest
	if !readJSON(w, r, &req, true, `{"note": "...", "actor": "..."}`) || !apiActor(w, &req.Actor) {
		return
	}
	req.Note = strings.TrimSpace(req.Note)
	if action == "return" && req.Note == "" {
		writeJSON(w, http.StatusBadRequest, ErrorResponse{"a note for the agents is required"})
		return
	}
	if utf8.RuneCountInString(req.Note) > maxNoteRunes {
		writeJSON(w, http.StatusBadRequest, ErrorResponse{"the note is too long (5000 characters at most)"})
		return
	}
	rec, changed, err := s.perform(r, action, id, req.Actor, req.Note, "api")
	if err != nil {
		s.apiError(w, action, err)
		return
	}
	writeJSON(w, http.StatusOK, ActionResponse{Record: rec, Changed: changed})
}

// readJSON decodes the request's JSON body into v: one value, no unknown
// fields, at most maxAPIBody bytes; an empty body leaves v as it is when
// optional. Otherwise it answers the error, naming shape, and returns
// false.
func readJSON(w http.ResponseWriter, r *http.Request, v any, optional bool, shape string) bool {
	if (r.ContentLength != 0 || !optional) && !isJSON(r.Header.Get("Content-Type")) {
		writeJSON(w, http.StatusUnsupportedMediaType, ErrorResponse{"send the body as Content-Type: application/json"})
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !(optional && errors.Is(err, io.EOF)) {
		writeJSON(w, http.StatusBadRequest, ErrorResponse{"the body is not the JSON " + shape + ": " + err.Error()})
		return false
	}
	if dec.More() {
		writeJSON(w, http.StatusBadRequest, ErrorResponse{"the body holds more than one JSON value"})
		return false
	}
	return true
}

// apiActor trims the actor of an API call, "api" when empty; it answers
// 400 for one that is not a valid name and returns false.
func apiActor(w http.ResponseWriter, actor *string) bool {
	*actor = strings.TrimSpace(*actor)
	if *actor == "" {
		*actor = "api"
	}
	if !validName(*actor) {
		writeJSON(w, http.StatusBadRequest, ErrorResponse{"actor: up to 64 printable characters"})
		return false
	}
	return true
}

// apiError maps the service's errors to statuses.
func (s *Server) apiError(w http.ResponseWriter, op string, err error) {
	switch {
	case errors.Is(err, escalation.ErrNotFound):
		writeJSON(w, http.StatusNotFound, ErrorResponse{err.Error()})
	case errors.Is(err, escalation.ErrBusy), errors.Is(err, escalation.ErrReturned):
		writeJSON(w, http.StatusConflict, ErrorResponse{err.Error()})
	default:
		s.log.Error().Err(err).Str("op", op).Msg("admin API request failed")
		writeJSON(w, http.StatusInternalServerError, ErrorResponse{err.Error()})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"encode the answer"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// isJSON reports whether a Content-Type names JSON ("application/json",
// with or without parameters such as the charset).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
