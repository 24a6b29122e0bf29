package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/logtest"
	"github.com/mfatriage/triage/internal/redistest"
)

var (
	e2eBot    = jiratest.User{AccountID: "e2e-bot", DisplayName: "Triage Bot", EmailAddress: "bot@example.com"}
	e2eAlice  = jiratest.User{AccountID: "e2e-alice", DisplayName: "Alice Reporter"}
	e2eAgent  = jiratest.User{AccountID: "e2e-agent", DisplayName: "Ann Agent"}
	e2eSecret = "webhook-s3cret"
)

// e2e runs `serve` (intake, worker, scheduler) in-process against the test
// Redis and a fake Jira, and posts signed webhooks to it over HTTP.
type e2e struct {
	t    *testing.T
	proj string // a project key of its own: state in Redis outlives a run
	jira *jiratest.Server
	url  string
	logs *logtest.Buffer
	stop func() error
}

// e2eConfig is the configuration of a serve under test: the test Redis,
// the fake Jira and a queue of its own, whose name it returns (b is its
// random part).
func e2eConfig(t *testing.T, fake *jiratest.Server) (cfg config, b [6]byte) {
	t.Helper()
	redistest.Options(t) // fails when the test Redis is missing
	_, _ = rand.Read(b[:])
	cfg = config{
		RedisURL: redistest.URL(), JiraBaseURL: fake.URL(), JiraEmail: "bot@example.com", JiraAPIToken: "tok",
		BotAccountID: e2eBot.AccountID, WebhookSecret: e2eSecret, Queue: "e2e-" + hex.EncodeToString(b[:]), Concurrency: 2,
		ShutdownTimeout: 5 * time.Second, FollowupWindow: time.Hour,
	}
	cfg.defaults()
	return cfg, b
}

func startServe(t *testing.T) *e2e {
	t.Helper()
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot), jiratest.WithUsers(e2eAlice, e2eAgent))
	t.Cleanup(fake.Close)
	cfg, b := e2eConfig(t, fake)
	proj := "E"
	for _, c := range b[:4] {
		proj += string(rune('A' + c%26))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs, stop := runServe(t, cfg, ln, proj)
	return &e2e{t: t, proj: proj, jira: fake, url: "http://" + ln.Addr().String(), logs: logs, stop: stop}
}

// runServe runs `serve` (intake, worker, scheduler) in-process on cfg and
// ln until stop, which then deletes the queue and what Redis keeps of the
// project proj's tickets (also done at the test's end).
func runServe(t *testing.T, cfg config, ln net.Listener, proj string) (*logtest.Buffer, func() error) {
	t.Helper()
	logs := &logtest.Buffer{}
	a, err := appFrom(cfg, logs, true, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, a, ln, true, true) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(15 * time.Second):
				stopErr = context.DeadlineExceeded
			}
			insp := asynq.NewInspector(a.redisConn)
			_ = insp.DeleteQueue(cfg.Queue, true)
			insp.Close()
			bg := context.Background()
			for _, pattern := range []string{cfg.RedisPrefix + "*{" + proj + "-*", cfg.RedisPrefix + "esc:*:" + proj + "-*"} {
				if keys, err := a.rdb.Keys(bg, pattern).Result(); err == nil && len(keys) > 0 {
					a.rdb.Del(bg, keys...)
				}
			}
			for _, st := range []string{"open", "acknowledged", "done", "returned"} {
				if ids, err := a.rdb.ZRange(bg, cfg.RedisPrefix+"esc:status:"+st, 0, -1).Result(); err == nil {
					for _, id := range ids {
						if strings.HasPrefix(id, proj+"-") {
							a.rdb.ZRem(bg, cfg.RedisPrefix+"esc:status:"+st, id)
						}
					}
				}
			}
			a.Close()
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	return logs, stop
}

// post sends a webhook, signed unless sig is given.
func (e *e2e) post(body []byte, delivery, sig string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+intake.WebhookPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(intake.HeaderDeliveryID, delivery)
	if sig == "" {
		sig = intake.Sign(e2eSecret, body)
	}
	req.Header.Set(intake.HeaderSignature, sig)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func issueCreated(key, summary, description string) []byte {
	b, _ := json.Marshal(map[string]any{
		"webhookEvent": "jira:issue_created", "timestamp": time.Now().UnixMilli(),
		"user": map[string]any{"accountId": e2eAlice.AccountID},
		"issue": map[string]any{"key": key, "fields": map[string]any{
			"summary": summary, "description": description,
			"reporter": map[string]any{"accountId": e2eAlice.AccountID, "displayName": e2eAlice.DisplayName},
		}},
	})
	return b
}

func commentCreated(key string, author jiratest.User, body string) []byte {
	b, _ := json.Marshal(map[string]any{
		"webhookEvent": "comment_created", "timestamp": time.Now().UnixMilli(),
		"comment": map[string]any{"id": "1", "body": body, "author": map[string]any{"accountId": author.AccountID, "displayName": author.DisplayName}},
		"issue": map[string]any{"key": key, "fields": map[string]any{
			"reporter": map[string]any{"accountId": e2eAlice.AccountID, "displayName": e2eAlice.DisplayName},
		}},
	})
	return b
}

// until waits for an outcome in the fake Jira, not for a fixed time.
func (e *e2e) until(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; logs:\n%s", what, e.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *e2e) botComments(key string) []jiratest.Comment {
	var out []jiratest.Comment
	for _, c := range e.jira.Comments(key) {
		if c.Author.AccountID == e2eBot.AccountID {
			out = append(out, c)
		}
	}
	return out
}

func (e *e2e) key(n int) string { return e.proj + "-" + strconv.Itoa(n) }

func TestServeEndToEnd(t *testing.T) {
	e := startServe(t)
	k1, k2, k3, k4, k5 := e.key(1), e.key(2), e.key(3), e.key(4), e.key(5)
	steps := "Hi Alice,\n# In Authenticator, remove any passkeys that no longer apply.\n# Set up a new passkey.\n\n_This is an automated reply from the IT helpdesk assistant._"

	// reply: the same webhook delivered five times → one comment
	e.jira.AddIssue(jiratest.Issue{Key: k1, Summary: "passkey", Description: "Defender says my passkey can no longer be used", Reporter: e2eAlice})
	body := issueCreated(k1, "passkey", "Defender says my passkey can no longer be used")
	codes := map[int]int{}
	for i := 0; i < 5; i++ {
		codes[e.post(body, "delivery-1", "").StatusCode]++
	}
	if codes[http.StatusAccepted] != 1 || codes[http.StatusOK] != 4 {
		t.Errorf("5 deliveries answered %v, want one 202 and four 200", codes)
	}
	e.until("the reply on E2E-1", func() bool { return hasLabel(e.jira.Labels(k1), "triage-replied") })
	if n := len(e.botComments(k1)); n != 1 {
		t.Errorf("E2E-1: %d bot comments, want 1", n)
	}

	// escalate-mfa: the reporter did the steps and it still fails
	e.jira.AddIssue(jiratest.Issue{Key: k2, Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: e2eAlice,
		Comments: []jiratest.Comment{{Author: e2eBot, Body: steps}, {Author: e2eAlice, Body: "Did that, still fails with the same message."}}})
	if code := e.post(commentCreated(k2, e2eAlice, "Did that, still fails with the same message."), "delivery-2", "").StatusCode; code != http.StatusAccepted {
		t.Fatalf("comment webhook answered %d", code)
	}
	e.until("the escalation of E2E-2", func() bool { return hasLabel(e.jira.Labels(k2), "triage-escalated") && len(e.botComments(k2)) == 3 })

	// escalate-password on a new ticket
	e.jira.AddIssue(jiratest.Issue{Key: k3, Summary: "locked", Description: "My account is locked after too many attempts.", Reporter: e2eAlice})
	e.post(issueCreated(k3, "locked", "My account is locked after too many attempts."), "delivery-3", "")
	e.until("the password escalation of E2E-3", func() bool { return hasLabel(e.jira.Labels(k3), "triage-escalate-password") })

	// resolve
	e.jira.AddIssue(jiratest.Issue{Key: k4, Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: e2eAlice,
		Comments: []jiratest.Comment{{Author: e2eBot, Body: steps}, {Author: e2eAlice, Body: "works now, thanks!"}}})
	e.post(commentCreated(k4, e2eAlice, "works now, thanks!"), "delivery-4", "")
	e.until("E2E-4 resolved", func() bool { return hasLabel(e.jira.Labels(k4), "triage-resolved") })

	// human: off-topic ticket gets the label, no comment
	e.jira.AddIssue(jiratest.Issue{Key: k5, Summary: "printer", Description: "The printer on floor 2 is jammed.", Reporter: e2eAlice})
	e.post(issueCreated(k5, "printer", "The printer on floor 2 is jammed."), "delivery-5", "")
	e.until("E2E-5 left to a human", func() bool { return hasLabel(e.jira.Labels(k5), "triage-needs-human") })
	if n := len(e.botComments(k5)); n != 0 {
		t.Errorf("E2E-5: %d bot comments on a human ticket", n)
	}

	// the bot's own comment: nothing enqueued; an agent's public comment:
	// recorded, and enqueued for the worker to see whether it answered a
	// suggestion (there is none on E2E-1: nothing is written)
	if code := e.post(commentCreated(k1, e2eBot, steps), "delivery-6", "").StatusCode; code != http.StatusOK {
		t.Errorf("the bot's own comment answered %d, want 200 ignored", code)
	}
	if code := e.post(commentCreated(k1, e2eAgent, "I'll call you."), "delivery-7", "").StatusCode; code != http.StatusAccepted {
		t.Errorf("an agent's comment answered %d, want 202 recorded", code)
	}

	// refused deliveries
	if code := e.post(body, "delivery-8", "sha256=00").StatusCode; code != http.StatusUnauthorized {
		t.Errorf("bad signature answered %d, want 401", code)
	}
	big := append([]byte(`{"webhookEvent":"jira:issue_created","pad":"`), bytes.Repeat([]byte("x"), 2<<20)...)
	if code := e.post(append(big, '"', '}'), "delivery-9", "").StatusCode; code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize body answered %d, want 413", code)
	}
	if code := e.post([]byte("{not json"), "delivery-10", "").StatusCode; code != http.StatusBadRequest {
		t.Errorf("malformed body answered %d, want 400", code)
	}

	// metrics
	resp, err := http.Get(e.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scraped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, series := range []string{
		`triage_tickets_total{action="reply",category="passkey-invalid"} 1`,
		`triage_tickets_total{action="escalate-password",category="password-forgotten"} 1`,
		`triage_jira_calls_total{endpoint="issue/{key}",method="PUT",status="204"}`,
		`triage_webhook_to_comment_seconds_count`,
		`triage_escalations_open{reason="mfa-reset"}`,
		`triage_escalations_oldest_age_seconds`,
		`triage_queue_tasks{queue=`,
	} {
		if !strings.Contains(string(scraped), series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}

	// graceful shutdown
	start := time.Now()
	if err := e.stop(); err != nil {
		t.Errorf("serve did not stop cleanly: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	logs := e.logs.String()
	if strings.Contains(logs, e2eSecret) || strings.Contains(logs, "\"tok\"") {
		t.Error("a secret appears in the logs")
	}
	if strings.Contains(logs, "can no longer be used") || strings.Contains(logs, "printer on floor") {
		t.Error("ticket text appears in the logs at info level")
	}
	for _, field := range []string{`"issue_key":"` + k1 + `"`, `"task_id":"triage:delivery-1"`} {
		if !strings.Contains(logs, field) {
			t.Errorf("the logs lack %s", field)
		}
	}
}

// TestServeRolesStopsWhatItStarted: when a role cannot start, serveRoles
// returns the error and leaves no worker running: each asynq server it
// started has shut down by the time it returns.
func TestServeRolesStopsWhatItStarted(t *testing.T) {
	t.Parallel()
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "tok", e2eBot))
	t.Cleanup(fake.Close)
	tests := []struct {
		name    string
		mod     func(*config)
		ln      func(t *testing.T) net.Listener
		wantErr string
	}{
		{"the intake refuses its configuration", func(c *config) { c.WebhookSecret = e2eSecret + "\n" }, openListener, "webhook secret"},
		{"the listener is closed", nil, closedListener, "closed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := e2eConfig(t, fake)
			if tc.mod != nil {
				tc.mod(&cfg)
			}
			logs := &logtest.Buffer{}
			a, err := appFrom(cfg, logs, true, true)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				insp := asynq.NewInspector(a.redisConn)
				_ = insp.DeleteQueue(cfg.Queue, true)
				insp.Close()
				a.Close()
			})
			err = serveRoles(context.Background(), a, tc.ln(t), true, true, true)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("serveRoles = %v, want an error containing %q", err, tc.wantErr)
			}
			// asynq logs these two lines in Server.Start and at the end
			// of Server.Shutdown
			started := strings.Count(logs.String(), `"message":"Starting processing"`)
			stopped := strings.Count(logs.String(), `"message":"Exiting"`)
			if started != stopped {
				t.Errorf("the worker started %d times and shut down %d times; logs:\n%s", started, stopped, logs.String())
			}
		})
	}
}

func openListener(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func closedListener(t *testing.T) net.Listener {
	t.Helper()
	ln := openListener(t)
	ln.Close()
	return ln
}
