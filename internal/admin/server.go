package admin

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"net/netip"
	"strings"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
)

// Escalations is what the admin server needs of the escalation service.
type Escalations interface {
	List(ctx context.Context, f escalation.Filter) (escalation.Page, error)
	Get(ctx context.Context, id string) (escalation.Record, error)
	Counts(ctx context.Context) (map[string]int, error)
	Acknowledge(ctx context.Context, id, actor string) (escalation.Record, bool, error)
	Done(ctx context.Context, id, actor string) (escalation.Record, bool, error)
	Return(ctx context.Context, id, actor, note string) (escalation.Record, bool, error)
	// Ticket reads the ticket from Jira, for its summary and the
	// reporter's own text.
	Ticket(ctx context.Context, key string) (triage.Issue, error)
}

var _ Escalations = (*escalation.Service)(nil)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server serves the admin pages and the JSON API; it is an http.Handler.
type Server struct {
	cfg     Config // Token cleared: only keys.tokenHash is kept
	esc     Escalations
	keys    keys
	fails   *failLimiter
	proxies []netip.Prefix
	log     zerolog.Logger
	pages   map[string]*template.Template
	handler http.Handler
}

// New builds the server. It refuses a configuration without a token: the
// admin page never runs open.
func New(cfg Config, esc Escalations) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if esc == nil {
		return nil, errors.New("the admin page needs the escalation service")
	}
	cfg = cfg.withDefaults()
	proxies, _ := ParseTrustedProxies(cfg.TrustedProxies) // checked by Validate
	s := &Server{
		esc:     esc,
		keys:    deriveKeys(cfg.Token),
		fails:   newFailLimiter(cfg.LoginRate, cfg.LoginBurst, maxBuckets),
		proxies: proxies,
		log:     cfg.Logger.With().Str("component", "admin").Logger(),
	}
	cfg.Token = ""
	s.cfg = cfg
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.withSession(s.logout))
	mux.HandleFunc("GET /{$}", s.withSession(s.queue))
	mux.HandleFunc("GET /escalations/{id}", s.withSession(s.detail))
	mux.HandleFunc("POST /escalations/{id}/{action}", s.withSession(s.act))
	mux.HandleFunc("GET /decisions", s.withSession(s.decisions))
	mux.Handle("GET /static/", http.StripPrefix("/static/", noListing(http.FileServerFS(static))))
	mux.HandleFunc("GET /api/escalations", s.withBearer(s.apiList))
	mux.HandleFunc("GET /api/escalations/counts", s.withBearer(s.apiCounts))
	mux.HandleFunc("GET /api/escalations/{id}", s.withBearer(s.apiGet))
	mux.HandleFunc("POST /api/escalations/{id}/{action}", s.withBearer(s.apiAct))
	mux.HandleFunc("GET /api/decisions", s.withBearer(s.apiDecisions))
	s.resetRoutes(mux)
	s.handler = securityHeaders(mux, s.secure)
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// ContentSecurityPolicy is sent with every response: no scripts at all,
// styles only from /static/, forms only to this origin, no framing.
const ContentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// securityHeaders sets the headers every response carries; over TLS (or
// behind a proxy that ends it, TRIAGE_ADMIN_SECURE) also HSTS, so a
// browser never talks to the page in plain HTTP again.
func securityHeaders(next http.Handler, secure func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if secure(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if strings.HasPrefix(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "public, max-age=300")
		} else {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// noListing answers 404 for directories.
func noListing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sessionHandler is a page handler that runs with a verified session.
type sessionHandler func(w http.ResponseWriter, r *http.Request, sess session)

// maxFormBytes bounds a form's body.
const maxFormBytes = 64 << 10

// withSession sends a request without a valid session to the login page;
// for a POST it also checks the form's CSRF token (403 without it).
func (s *Server) withSession(h sessionHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, ok := s.session(r)
		if !ok {
			if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
				s.clearCookie(w, r, sessionCookie)
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				s.errorPage(w, sess, http.StatusBadRequest, "That form could not be read.")
				return
			}
			if !csrfEqual(r.PostForm.Get("csrf"), s.keys.csrfToken(sess)) {
				s.log.Warn().Str("actor", sess.Name).Str("path", r.URL.Path).Stringer("client_ip", s.clientIP(r)).Msg("admin form without a valid CSRF token refused")
				s.errorPage(w, sess, http.StatusForbidden, "This form did not carry a valid security token (it may come from another site, or from before you signed in again). Go back, reload the page and try again.")
				return
			}
		}
		h(w, r, sess)
	}
}

// session reads and verifies the request's session cookie, and that it
// was not signed out. When the revocations cannot be read, the session is
// refused (and the failure logged): a signed-out cookie must not work.
func (s *Server) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	sess, err := s.keys.decodeSession(c.Value, s.cfg.Now(), s.cfg.SessionTTL)
	if err != nil {
		return session{}, false
	}
	if s.cfg.Revocations != nil {
		revoked, err := s.cfg.Revocations.Revoked(r.Context(), sess.id)
		if err != nil {
			s.log.Error().Err(err).Msg("admin session check failed; treating the session as signed out")
			return session{}, false
		}
		if revoked {
			s.log.Warn().Str("actor", sess.Name).Stringer("client_ip", s.clientIP(r)).Msg("a signed-out admin session was presented")
			return session{}, false
		}
	}
	return sess, true
}

func (s *Server) secure(r *http.Request) bool { return s.cfg.Secure || r.TLS != nil }

func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	s.setCookie(w, r, name, "", -1)
}

// render executes a page into a buffer first, so that a template error
// becomes a clean 500.
func (s *Server) render(w http.ResponseWriter, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout", data); err != nil {
		s.log.Error().Err(err).Str("page", page).Msg("admin page failed to render")
		http.Error(w, "the page failed to render", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPage renders a message with a status.
func (s *Server) errorPage(w http.ResponseWriter, sess session, status int, msg string) {
	d := errorData{base: s.base(sess, http.StatusText(status)), Status: status, Message: msg}
	s.render(w, status, "error", d)
}
