package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira"
)

// defaultJiraCheckEvery is how often a serving worker asks Jira who it is,
// for /readyz and the log: one cheap call, whose answer /readyz reads.
const defaultJiraCheckEvery = 30 * time.Second

// jiraHealth keeps the outcome of the last check of Jira (GET /myself,
// one attempt), so that /readyz costs no Jira call.
type jiraHealth struct {
	check func(context.Context) error
	every time.Duration
	log   zerolog.Logger

	mu      sync.Mutex
	err     error
	checked bool
}

// newJiraHealth checks Jira with the configuration's credentials, every
// every.
func newJiraHealth(cfg config, every time.Duration, log zerolog.Logger) (*jiraHealth, error) {
	jc, err := jira.New(pingJiraConfig(cfg))
	if err != nil {
		return nil, err
	}
	return &jiraHealth{
		check: func(ctx context.Context) error {
			_, err := jc.Myself(ctx)
			return err
		},
		every: every, log: log,
	}, nil
}

// run checks now, then every h.every, until ctx ends. It logs when Jira
// stops or starts answering, the first check included.
func (h *jiraHealth) run(ctx context.Context) {
	t := time.NewTicker(h.every)
	defer t.Stop()
	for {
		cctx, cancel := context.WithTimeout(ctx, pingTimeout)
		err := h.check(cctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		h.mu.Lock()
		wasUp, first := h.err == nil, !h.checked
		h.err, h.checked = err, true
		h.mu.Unlock()
		switch {
		case err != nil && (wasUp || first):
			h.log.Error().Str("problem", jiraProblem(err)).Err(err).Msg("Jira does not answer: /readyz says not ready until it does")
		case err == nil && (!wasUp || first):
			h.log.Info().Msg("Jira answers")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// status is the error of the last check; nil before the first.
func (h *jiraHealth) status() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// jiraProblem names what is wrong with Jira in a few words that give away
// neither its address nor the credentials (/readyz may be public).
func jiraProblem(err error) string {
	var je *jira.Error
	switch {
	case errors.As(err, &je) && (je.Status == http.StatusUnauthorized || je.Status == http.StatusForbidden):
		return fmt.Sprintf("it refuses the bot's credentials (%d)", je.Status)
	case errors.As(err, &je):
		return fmt.Sprintf("it answers %d", je.Status)
	}
	return cmp.Or(netProblem(err), "no answer")
}

// netProblem says what a network error means, in a few words: a refused
// connection, a host name that does not resolve, no answer in time; ""
// for any other error.
func netProblem(err error) string {
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dns):
		return "the host name does not resolve"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ETIMEDOUT):
		return "no answer in time"
	}
	return ""
}

// readyz puts Jira's health in front of the intake's /readyz (which asks
// Redis), when this process works tickets.
func (a *app) readyz(next http.Handler) http.Handler {
	if a.jiraUp == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := a.jiraUp.status(); err != nil && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(intake.Response{Status: intake.StatusUnavailable, Reason: "Jira: " + jiraProblem(err)})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// metricsHandler serves /metrics, behind the bearer TRIAGE_METRICS_TOKEN
// when it is set (compared in constant time).
func (a *app) metricsHandler() http.Handler {
	h := a.metrics.Handler()
	if a.cfg.MetricsToken == "" {
		return h
	}
	want := sha256.Sum256([]byte(a.cfg.MetricsToken))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "/metrics needs the bearer token TRIAGE_METRICS_TOKEN", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// metricsApart reports whether /metrics has a listener of its own.
func (a *app) metricsApart() bool {
	return a.cfg.MetricsListen != "" && a.cfg.MetricsListen != a.cfg.Listen
}

// serveMetricsApart serves /metrics on TRIAGE_METRICS_LISTEN when it is
// set apart from TRIAGE_LISTEN; stop closes it.
func (a *app) serveMetricsApart() (stop func(), err error) {
	if !a.metricsApart() {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", a.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (TRIAGE_METRICS_LISTEN): %w", a.cfg.MetricsListen, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", a.metricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	a.log.Info().Str("listen", ln.Addr().String()).Msg("metrics listening")
	return func() { _ = srv.Close() }, nil
}
