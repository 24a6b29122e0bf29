package admin

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
)

// base is what every page's layout needs.
type base struct {
	Title   string
	Admin   string // empty on the login page
	CSRF    string
	Flash   *flash
	Section string // the view the navigation marks: "escalations" or "decisions"
}

type flash struct {
	Kind string // "ok", "info" or "error"
	Text string
}

func (s *Server) base(sess session, title string) base {
	b := base{Title: title, Admin: sess.Name, Section: "escalations"}
	if sess.raw != "" {
		b.CSRF = s.keys.csrfToken(sess)
	}
	return b
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"statusLabel": statusLabel,
		"reasonLabel": reasonLabel,
		"fmtTime":     formatTime,
	}
	pages := map[string]*template.Template{}
	for _, p := range []string{"login", "queue", "detail", "error", "decisions", "reset"} {
		t, err := template.New(p).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+p+".html")
		if err != nil {
			return nil, err
		}
		pages[p] = t
	}
	return pages, nil
}

// --- login ---

type loginData struct {
	base
	LoginCSRF string
	Name      string
}

// loginNonceTTL is how long a login form stays valid.
const loginNonceTTL = time.Hour

// loginForm shows the form, or sends a signed-in admin to the queue.
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.session(r); ok {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, "", nil)
}

// renderLogin shows the login form with a CSRF token bound to the
// pre-login cookie (made when missing).
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, name string, f *flash) {
	nonce := ""
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) >= 16 && len(c.Value) <= 64 {
		nonce = c.Value
	} else {
		var err error
		if nonce, err = randomString(18); err != nil {
			http.Error(w, "no randomness", http.StatusInternalServerError)
			return
		}
		s.setCookie(w, r, loginCookie, nonce, int(loginNonceTTL/time.Second))
	}
	d := loginData{base: base{Title: "Sign in", Flash: f}, LoginCSRF: s.keys.loginCSRFToken(nonce), Name: name}
	s.render(w, status, "login", d)
}

// login checks the admin token and starts a session. The right token
// always gets in; only wrong ones are counted, and past the limit they are
// answered 429.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	ip := s.clientIP(r)
	now := s.cfg.Now()
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, "", &flash{"error", "That form could not be read."})
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !csrfEqual(r.PostForm.Get("csrf"), s.keys.loginCSRFToken(c.Value)) {
		s.log.Warn().Stringer("client_ip", ip).Msg("admin login without a valid CSRF token refused")
		s.renderLogin(w, r, http.StatusForbidden, "", &flash{"error", "The sign-in form expired or came from another site. Please sign in again."})
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if !validName(name) {
		s.renderLogin(w, r, http.StatusBadRequest, "", &flash{"error", "Enter your name, up to 64 characters: it is recorded with every action you take."})
		return
	}
	if !s.keys.tokenMatches(strings.TrimSpace(r.PostForm.Get("token"))) {
		if blocked, wait := s.fails.blocked(ip, now); blocked {
			s.log.Warn().Stringer("client_ip", ip).Msg("admin login refused: too many failed logins")
			w.Header().Set("Retry-After", retryAfter(wait))
			s.renderLogin(w, r, http.StatusTooManyRequests, name, &flash{"error", "Too many failed sign-ins from your address. Wait " + retryAfter(wait) + " seconds and try again."})
			return
		}
		s.fails.fail(ip, now)
		s.log.Warn().Stringer("client_ip", ip).Str("actor", name).Msg("failed admin login: wrong token")
		s.renderLogin(w, r, http.StatusUnauthorized, name, &flash{"error", "That is not the admin token."})
		return
	}
	value, err := s.keys.newSession(name, now.Add(s.cfg.SessionTTL))
	if err != nil {
		http.Error(w, "no randomness", http.StatusInternalServerError)
		return
	}
	s.setCookie(w, r, sessionCookie, value, int(s.cfg.SessionTTL/time.Second))
	s.clearCookie(w, r, loginCookie)
	s.log.Info().Stringer("client_ip", ip).Str("actor", name).Msg("admin signed in")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, sess session) {
	if s.cfg.Revocations != nil {
		if err := s.cfg.Revocations.Revoke(r.Context(), sess.id, sess.Expires); err != nil {
			s.log.Error().Err(err).Str("actor", sess.Name).Msg("admin sign-out not recorded")
			s.errorPage(w, sess, http.StatusServiceUnavailable, "Signing out failed: the session could not be revoked. Try again in a moment.")
			return
		}
	}
	s.clearCookie(w, r, sessionCookie)
	s.log.Info().Str("actor", sess.Name).Msg("admin signed out")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// --- queue ---

type queueData struct {
	base
	Status       string
	StatusLabel  string
	Tabs         []tab
	Reasons      []option
	Ages         []option
	Sorts        []option
	Search       string
	SecurityURL  string // the queue with only the security escalations
	SecurityOnly bool
	Filtered     bool
	ClearURL     string
	Rows         []row
	Total        int
	From, To     int
	Order        string // how the rows are ordered, in words
	PrevURL      string
	NextURL      string
}

type tab struct {
	Label  string
	Count  int
	URL    string
	Active bool
}

type option struct {
	Value, Label string
	Selected     bool
}

type row struct {
	Key, URL, Reporter, Reason, Age, Created string
	Security                                 bool
	Evidence                                 []phrase
	More                                     int
}

// ageChoices are the age filter's options.
var ageChoices = []option{{"", "any age", false}, {"1h", "1 hour", false}, {"4h", "4 hours", false}, {"1d", "1 day", false}, {"3d", "3 days", false}, {"7d", "7 days", false}}

// sortChoices are the orders the queue offers, and how the pager says them.
var sortChoices = []option{{escalation.SortOldest, "oldest first", false}, {escalation.SortNewest, "newest first", false}, {escalation.SortReason, "by reason", false}}

func (s *Server) queue(w http.ResponseWriter, r *http.Request, sess session) {
	q := r.URL.Query()
	f, err := parseFilter(q, s.cfg.PageSize)
	if err != nil {
		s.errorPage(w, sess, http.StatusBadRequest, "Those filters could not be read: "+err.Error()+".")
		return
	}
	counts, err := s.esc.Counts(r.Context())
	if err != nil {
		s.serverError(w, sess, "count the escalations", err)
		return
	}
	page, err := s.esc.List(r.Context(), f)
	if err != nil {
		s.serverError(w, sess, "list the escalations", err)
		return
	}
	minAge := strings.TrimSpace(q.Get("min_age"))
	link := func(status, reason string, offset int) string {
		v := url.Values{"status": {status}}
		for k, val := range map[string]string{"reason": reason, "min_age": minAge, "q": f.Search, "sort": q.Get("sort")} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if offset > 0 {
			v.Set("offset", strconv.Itoa(offset))
		}
		if q.Get("limit") != "" {
			v.Set("limit", strconv.Itoa(f.Limit))
		}
		return "/?" + v.Encode()
	}
	d := queueData{
		base:         s.base(sess, "Escalations · "+statusLabel(f.Status)),
		Status:       f.Status,
		StatusLabel:  strings.ToLower(statusLabel(f.Status)),
		Search:       f.Search,
		SecurityURL:  link(f.Status, triage.ReasonSecurity, 0),
		SecurityOnly: f.Reason == triage.ReasonSecurity,
		Filtered:     f.Reason != "" || minAge != "" || f.Search != "",
		ClearURL:     "/?" + url.Values{"status": {f.Status}}.Encode(),
		Total:        page.Total,
		Order:        sortChoices[0].Label,
	}
	for _, st := range escalation.Statuses() {
		d.Tabs = append(d.Tabs, tab{Label: statusLabel(st), Count: counts[st], URL: link(st, f.Reason, 0), Active: st == f.Status})
	}
	d.Reasons = append(d.Reasons, option{"", "any reason", f.Reason == ""})
	for _, re := range Reasons {
		d.Reasons = append(d.Reasons, option{re, reasonLabel(re), re == f.Reason})
	}
	found := false
	for _, a := range ageChoices {
		a.Selected = a.Value == minAge
		found = found || a.Selected
		d.Ages = append(d.Ages, a)
	}
	if !found {
		d.Ages = append(d.Ages, option{minAge, minAge, true})
	}
	for _, o := range sortChoices {
		o.Selected = o.Value == f.Sort || f.Sort == "" && o.Value == escalation.SortOldest
		if o.Selected {
			d.Order = o.Label
		}
		d.Sorts = append(d.Sorts, o)
	}
	now := s.cfg.Now()
	for _, rec := range page.Records {
		rw := row{
			Key: rec.Key, URL: escalationPath(rec.ID), Reporter: rec.ReporterName, Reason: reasonLabel(rec.Reason),
			Age: formatAge(now.Sub(rec.CreatedAt)), Created: formatTime(rec.CreatedAt), Security: rec.Security,
		}
		if rw.Reporter == "" {
			rw.Reporter = rec.ReporterID
		}
		ev := phrases(rec.Evidence, rec.Reason, ticketSources(nil, rec.ReporterReplies))
		if len(ev) > 2 {
			rw.More, ev = len(ev)-2, ev[:2]
		}
		for _, p := range ev {
			p.Text = truncate(p.Text, 60)
			rw.Evidence = append(rw.Evidence, p)
		}
		d.Rows = append(d.Rows, rw)
	}
	if len(page.Records) > 0 {
		d.From, d.To = page.Offset+1, page.Offset+len(page.Records)
	}
	if page.Offset > 0 {
		d.PrevURL = link(f.Status, f.Reason, max(page.Offset-page.Limit, 0))
	}
	if page.Offset+len(page.Records) < page.Total {
		d.NextURL = link(f.Status, f.Reason, page.Offset+page.Limit)
	}
	s.render(w, http.StatusOK, "queue", d)
}

// --- detail ---

type detailData struct {
	base
	R           escalation.Record
	URL         string
	JiraURL     string
	Age         string
	Language    string
	Ticket      *ticketView // nil when Jira could not be read
	TicketError string
	Evidence    []phrase
	DoneName    string // "MFA reset done" or "Password reset done"
	CanAck      bool
	CanDone     bool
	CanReturn   bool
	IsDone      bool
	IsReturned  bool
	// CanReset offers the MFA reset in Entra ID (Graph configured, an
	// open MFA-reset escalation); ResetUPN prefills its user.
	CanReset bool
	ResetUPN string
}

// ticketView is the ticket as its reporter wrote it.
type ticketView struct {
	Summary string
	Texts   []reporterText // the description and the reporter's comments
}

type reporterText struct {
	Where, Text string
}

// flashes are the messages an action's redirect can show, by code: the
// query names a code, never the text, so a link cannot put words on the
// page.
var flashes = map[string]flash{
	"ack":           {"ok", "Acknowledged: the escalation is marked as being worked on."},
	"ack-noop":      {"info", "Already acknowledged or closed: nothing changed."},
	"done":          {"ok", "MFA reset done: the reporter was told."},
	"done-noop":     {"info", "Already done: nothing posted, no second comment."},
	"password-done": {"ok", "Password reset done: the reporter was told."},
	"return":        {"ok", "Returned to the agents: an internal note was posted on the ticket."},
	"return-noop":   {"info", "Not returned: it was already returned or done. Nothing posted."},
	"returned":      {"error", "This escalation was returned to the agents. Acknowledge it to take it back before closing it."},
	"busy":          {"error", "Another action on this escalation is running. Try again in a moment."},
	"note-required": {"error", "Returning to the agents needs a note for them."},
	"note-too-long": {"error", "That note is too long (5000 characters at most)."},
}

// ticketTimeout bounds the Jira read of the detail page: the page shows
// without the ticket's text rather than wait out a rate limit.
const ticketTimeout = 5 * time.Second

// maxTextRunes bounds each of the reporter's texts on the page.
const maxTextRunes = 5000

func (s *Server) detail(w http.ResponseWriter, r *http.Request, sess session) {
	id := r.PathValue("id")
	if !validID(id) {
		s.errorPage(w, sess, http.StatusNotFound, "There is no such escalation.")
		return
	}
	rec, err := s.esc.Get(r.Context(), id)
	if errors.Is(err, escalation.ErrNotFound) {
		s.errorPage(w, sess, http.StatusNotFound, "There is no escalation "+id+".")
		return
	}
	if err != nil {
		s.serverError(w, sess, "read the escalation", err)
		return
	}
	open := rec.Status == escalation.StatusOpen || rec.Status == escalation.StatusAcknowledged
	d := detailData{
		base:       s.base(sess, rec.Key+" · "+reasonLabel(rec.Reason)),
		R:          rec,
		URL:        escalationPath(rec.ID),
		JiraURL:    rec.Link,
		Age:        formatAge(s.cfg.Now().Sub(rec.CreatedAt)),
		Language:   languageLabel(rec.Language),
		DoneName:   escalation.DoneName(rec.Reason),
		CanAck:     rec.Status == escalation.StatusOpen || rec.Status == escalation.StatusReturned,
		CanDone:    open,
		CanReturn:  open,
		IsDone:     rec.Status == escalation.StatusDone,
		IsReturned: rec.Status == escalation.StatusReturned,
	}
	d.CanReset = open && rec.Reason == triage.ReasonMFAReset && s.resets() != nil
	d.ResetUPN = rec.ReporterEmail
	if d.JiraURL == "" && s.cfg.JiraBaseURL != "" {
		d.JiraURL = s.cfg.JiraBaseURL + "/browse/" + url.PathEscape(rec.Key)
	}
	if f, ok := flashes[r.URL.Query().Get("flash")]; ok {
		d.Flash = &f
	}
	ctx, cancel := context.WithTimeout(r.Context(), ticketTimeout)
	defer cancel()
	var issue *triage.Issue
	if is, err := s.esc.Ticket(ctx, rec.Key); err != nil {
		s.log.Warn().Err(err).Str("issue_key", rec.Key).Msg("admin page could not read the ticket from Jira")
		d.TicketError = "The ticket could not be read from Jira just now, so its text is not shown. Reload the page to try again."
	} else {
		issue = &is
		if d.ResetUPN == "" {
			d.ResetUPN = is.ReporterEmail
		}
		d.Ticket = &ticketView{Summary: is.Summary}
		if strings.TrimSpace(is.Description) != "" {
			d.Ticket.Texts = append(d.Ticket.Texts, reporterText{"description", clip(is.Description, maxTextRunes)})
		}
		for i, c := range is.Comments {
			if triage.SameAccount(c.AuthorID, is.ReporterID) {
				d.Ticket.Texts = append(d.Ticket.Texts, reporterText{"comment " + strconv.Itoa(i+1) + " · " + formatTime(c.Created), clip(c.Body, maxTextRunes)})
			}
		}
	}
	d.Evidence = phrases(rec.Evidence, rec.Reason, ticketSources(issue, rec.ReporterReplies))
	s.render(w, http.StatusOK, "detail", d)
}

// maxNoteRunes bounds a note for the agents.
const maxNoteRunes = 5000

// act runs an action from the detail page's forms and redirects back to it
// with a message.
func (s *Server) act(w http.ResponseWriter, r *http.Request, sess session) {
	id, action := r.PathValue("id"), r.PathValue("action")
	if !validID(id) || !validAction(action) {
		s.errorPage(w, sess, http.StatusNotFound, "There is no such action.")
		return
	}
	back := escalationPath(id)
	note := strings.TrimSpace(r.PostForm.Get("note"))
	if action == "return" {
		if note == "" {
			http.Redirect(w, r, back+"?flash=note-required", http.StatusSeeOther)
			return
		}
		if utf8.RuneCountInString(note) > maxNoteRunes {
			http.Redirect(w, r, back+"?flash=note-too-long", http.StatusSeeOther)
			return
		}
	}
	rec, changed, err := s.perform(r, action, id, sess.Name, note, "page")
	switch {
	case errors.Is(err, escalation.ErrNotFound):
		s.errorPage(w, sess, http.StatusNotFound, "There is no escalation "+id+".")
		return
	case errors.Is(err, escalation.ErrBusy), errors.Is(err, escalation.ErrReturned):
		code := "busy"
		if errors.Is(err, escalation.ErrReturned) {
			code = "returned"
		}
		http.Redirect(w, r, back+"?flash="+code, http.StatusSeeOther)
		return
	case err != nil:
		s.errorPage(w, sess, http.StatusBadGateway, "The action did not complete: "+err.Error()+". Repeating it is safe: nothing is posted twice.")
		return
	}
	code := action
	switch {
	case !changed:
		code += "-noop"
	case action == "done" && rec.Reason == triage.ReasonPasswordReset:
		code = "password-done"
	}
	http.Redirect(w, r, back+"?flash="+code, http.StatusSeeOther)
}

func validAction(a string) bool { return a == "ack" || a == "done" || a == "return" }

// perform runs an action and logs it.
func (s *Server) perform(r *http.Request, action, id, actor, note, via string) (escalation.Record, bool, error) {
	var (
		rec     escalation.Record
		changed bool
		err     error
	)
	switch action {
	case "ack":
		rec, changed, err = s.esc.Acknowledge(r.Context(), id, actor)
	case "done":
		rec, changed, err = s.esc.Done(r.Context(), id, actor)
	case "return":
		rec, changed, err = s.esc.Return(r.Context(), id, actor, note)
	}
	ev := s.log.Info()
	switch {
	case errors.Is(err, escalation.ErrBusy), errors.Is(err, escalation.ErrNotFound), errors.Is(err, escalation.ErrReturned):
		ev = s.log.Warn().Err(err)
	case err != nil:
		ev = s.log.Error().Err(err)
	}
	ev.Str("escalation_id", id).Str("issue_key", rec.Key).Str("actor", actor).Str("action", action).
		Str("via", via).Bool("changed", changed).Str("status", rec.Status).Msg("admin action")
	return rec, changed, err
}

// --- errors ---

type errorData struct {
	base
	Status  int
	Message string
}

func (s *Server) serverError(w http.ResponseWriter, sess session, what string, err error) {
	s.log.Error().Err(err).Str("op", what).Msg("admin page failed")
	s.errorPage(w, sess, http.StatusInternalServerError, "Could not "+what+": "+err.Error()+".")
}
