package metrics

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
)

// TestMetricsWithRedisDown: /metrics answers 200 with what it can read,
// and says which sources it could not.
func TestMetricsWithRedisDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // Redis is down: nothing listens
	in := asynq.NewInspector(asynq.RedisClientOpt{Addr: addr, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { in.Close() })

	m := New()
	m.RegisterEscalations(func(context.Context) (map[string]int, time.Time, error) {
		return nil, time.Time{}, errors.New("dial tcp " + addr + ": connect: connection refused")
	})
	m.RegisterQueues(in, "triage")
	m.Decided("reply", []string{"passkey-invalid"})

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics answered %d with Redis down:\n%s", rec.Code, body)
	}
	for _, want := range []string{
		`triage_tickets_total{action="reply",category="passkey-invalid"} 1`,
		"go_goroutines ",
		"triage_escalations_up 0",
		"triage_queues_up 0",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
}

func TestMetricsSourcesUp(t *testing.T) {
	t.Parallel()
	m := New()
	m.RegisterEscalations(func(context.Context) (map[string]int, time.Time, error) {
		return map[string]int{"mfa-reset": 2}, time.Now().Add(-time.Minute), nil
	})
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`triage_escalations_open{reason="mfa-reset"} 2`, "triage_escalations_up 1"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestAgentFeedback: each outcome is counted under its label.
func TestAgentFeedback(t *testing.T) {
	t.Parallel()
	m := New()
	m.Feedback("sent")
	m.Feedback("sent")
	m.Feedback("returned")
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`triage_agent_feedback_total{outcome="sent"} 2`, `triage_agent_feedback_total{outcome="returned"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
