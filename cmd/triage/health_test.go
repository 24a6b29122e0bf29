package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/logtest"
)

// served is a serve under test, started with serveConfig.
type served struct {
	url  string
	logs *logtest.Buffer
}

// serveConfig runs serve (intake and worker) with cfg until the test ends,
// checking Jira every jiraEvery.
func serveConfig(t *testing.T, cfg config, jiraEvery time.Duration) served {
	t.Helper()
	logs := &logtest.Buffer{}
	a, err := appFrom(cfg, logs, true, true)
	if err != nil {
		t.Fatal(err)
	}
	a.jiraCheckEvery = jiraEvery
	ln := openListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, a, ln, true, true) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop")
		}
		insp := asynq.NewInspector(a.redisConn)
		_ = insp.DeleteQueue(cfg.Queue, true)
		insp.Close()
		a.Close()
	})
	return served{url: "http://" + ln.Addr().String(), logs: logs}
}

// get answers a GET with an optional bearer token.
func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond for at most 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func readyReason(t *testing.T, url string) (int, string) {
	t.Helper()
	code, body := get(t, url+intake.ReadyPath, "")
	var r intake.Response
	_ = json.Unmarshal([]byte(body), &r)
	return code, r.Reason
}

// TestReadyzSaysJiraIsDown: /readyz is 503 while Jira does not answer,
// from the start and when it stops answering later, and the log says so.
func TestReadyzSaysJiraIsDown(t *testing.T) {
	t.Parallel()
	t.Run("down from the start", func(t *testing.T) {
		t.Parallel()
		fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot))
		cfg, _ := e2eConfig(t, fake)
		fake.Close() // nothing listens at its address any more
		s := serveConfig(t, cfg, time.Hour)
		waitFor(t, "/readyz to say Jira is down", func() bool {
			code, reason := readyReason(t, s.url)
			return code == http.StatusServiceUnavailable && reason == "Jira: connection refused"
		})
		if !strings.Contains(s.logs.String(), "Jira does not answer") {
			t.Errorf("nothing in the log says Jira is down:\n%s", s.logs.String())
		}
		if code, _ := get(t, s.url+intake.HealthPath, ""); code != http.StatusOK {
			t.Errorf("/healthz = %d: a Jira outage is no reason to restart", code)
		}
	})
	t.Run("down while running", func(t *testing.T) {
		t.Parallel()
		fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot))
		cfg, _ := e2eConfig(t, fake)
		s := serveConfig(t, cfg, 50*time.Millisecond)
		waitFor(t, "Jira to be checked", func() bool { return strings.Contains(s.logs.String(), "Jira answers") })
		if code, reason := readyReason(t, s.url); code != http.StatusOK {
			t.Fatalf("/readyz = %d %q with Jira up", code, reason)
		}
		fake.Close()
		waitFor(t, "/readyz to say Jira is down", func() bool {
			code, _ := readyReason(t, s.url)
			return code == http.StatusServiceUnavailable
		})
	})
	t.Run("credentials refused", func(t *testing.T) {
		t.Parallel()
		fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot))
		t.Cleanup(fake.Close)
		cfg, _ := e2eConfig(t, fake)
		cfg.JiraAPIToken = "revoked"
		// checked often: a first check that fails otherwise on a loaded
		// machine (a timeout) is followed by one that meets the 401
		s := serveConfig(t, cfg, 50*time.Millisecond)
		waitFor(t, "/readyz to say Jira refuses the credentials", func() bool {
			_, reason := readyReason(t, s.url)
			return reason == "Jira: it refuses the bot's credentials (401)"
		})
	})
}

// TestMetricsListenerAndToken: /metrics moves to TRIAGE_METRICS_LISTEN,
// and asks for TRIAGE_METRICS_TOKEN when it is set.
func TestMetricsListenerAndToken(t *testing.T) {
	t.Parallel()
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot))
	t.Cleanup(fake.Close)

	t.Run("the same listener by default", func(t *testing.T) {
		t.Parallel()
		cfg, _ := e2eConfig(t, fake)
		s := serveConfig(t, cfg, time.Hour)
		if code, body := get(t, s.url+"/metrics", ""); code != http.StatusOK || !strings.Contains(body, "triage_escalations_up 1") {
			t.Errorf("/metrics = %d\n%s", code, body)
		}
	})
	t.Run("a listener apart", func(t *testing.T) {
		t.Parallel()
		cfg, _ := e2eConfig(t, fake)
		cfg.MetricsListen = freeAddr(t)
		s := serveConfig(t, cfg, time.Hour)
		waitFor(t, "the metrics listener", func() bool { return strings.Contains(s.logs.String(), "metrics listening") })
		if code, _ := get(t, s.url+"/metrics", ""); code != http.StatusNotFound {
			t.Errorf("/metrics on TRIAGE_LISTEN = %d, want 404", code)
		}
		if code, _ := get(t, "http://"+cfg.MetricsListen+"/metrics", ""); code != http.StatusOK {
			t.Errorf("/metrics on TRIAGE_METRICS_LISTEN = %d", code)
		}
	})
	t.Run("a bearer token", func(t *testing.T) {
		t.Parallel()
		cfg, _ := e2eConfig(t, fake)
		cfg.MetricsToken = "5d0c8e2a9f41b7366e1a0c3d8b9f2e47"
		s := serveConfig(t, cfg, time.Hour)
		for _, tc := range []struct {
			bearer string
			want   int
		}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {cfg.MetricsToken, http.StatusOK}} {
			if code, _ := get(t, s.url+"/metrics", tc.bearer); code != tc.want {
				t.Errorf("/metrics with bearer %q = %d, want %d", tc.bearer, code, tc.want)
			}
		}
	})
}

// freeAddr is a loopback address nothing listens on, for a listener the
// code under test opens itself.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
