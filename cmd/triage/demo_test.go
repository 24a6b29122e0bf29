package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/logtest"
)

// busyAddr returns an address something already listens on.
func busyAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.Addr().String()
}

// TestDemoExitAfterSummary runs the demo as `triage demo
// --exit-after-summary` does, with its default port taken, and checks the
// summary's numbers: every sample ticket, filed in the sandbox Jira whose
// webhooks reach the intake, decided as the sample data says. How many
// went to the agents as a suggestion first depends on the model's
// confidence: that count is not checked (the outcomes still hold the
// model to the sample data's decisions: a resolve left as a suggestion
// is not resolved).
func TestDemoExitAfterSummary(t *testing.T) {
	t.Parallel()
	var out, logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	busy := busyAddr(t)
	err := runDemo(ctx, &out, &logs, demoOptions{listen: busy, followup: 2 * time.Second, exitAfterSummary: true, timeout: 90 * time.Second})
	if err != nil {
		t.Fatalf("demo with its default port %s taken: %v\n%s\n%s", busy, err, out.String(), logs.String())
	}
	if strings.Contains(out.String(), busy) || !strings.Contains(out.String(), "intake on http://127.0.0.1:") {
		t.Errorf("the demo did not take a free port (%s is taken):\n%s", busy, out.String())
	}
	for _, want := range []string{
		"summary of 20 tickets",
		"suggested to the agents:           ",
		"(2 by the follow-up)",
		"left to a human:                   4",
		"admin page: http://127.0.0.1:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	// each sample ticket decided as the sample data says: carried out, or
	// suggested to the agents with that action
	done, suggested := demoSummaryCounts(t, out.String())
	for _, tt := range []struct {
		line   string
		action classifier.Action
		want   int
	}{
		{"replied with the steps", classifier.ActionReply, 13},
		{"escalated for an MFA reset", classifier.ActionEscalateMFA, 6},
		{"escalated for a password reset", classifier.ActionEscalatePassword, 1},
		{"resolved", classifier.ActionResolve, 9},
	} {
		if got := done[tt.line] + suggested[string(tt.action)]; got != tt.want {
			t.Errorf("%s: %d, and %d suggested as %s; want %d in all:\n%s", tt.line, done[tt.line], suggested[string(tt.action)], tt.action, tt.want, out.String())
		}
	}
}

// demoSummaryCounts reads the demo summary's "name: N" lines, and the
// suggestions' actions from "suggested to the agents: N (…: reply 1, …)".
func demoSummaryCounts(t *testing.T, summary string) (done, suggested map[string]int) {
	t.Helper()
	done, suggested = map[string]int{}, map[string]int{}
	for _, line := range strings.Split(summary, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d", &n); err != nil {
			continue
		}
		done[name] = n
		if name != "suggested to the agents" {
			continue
		}
		if _, as, ok := strings.Cut(rest, "see: "); ok {
			for _, part := range strings.Split(strings.TrimSuffix(as, ")"), ", ") {
				var a string
				var k int
				if _, err := fmt.Sscanf(part, "%s %d", &a, &k); err != nil {
					t.Fatalf("suggestion count %q: %v", part, err)
				}
				suggested[a] = k
			}
		}
	}
	return done, suggested
}

// TestDemoServesTheAdminPage runs the demo until it serves, then asks the
// admin JSON API (with the printed one-time token) for the escalations and
// checks the admin page asks for a login.
func TestDemoServesTheAdminPage(t *testing.T) {
	t.Parallel()
	out := &logtest.Buffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	busy := busyAddr(t)
	go func() {
		done <- runDemo(ctx, out, io.Discard, demoOptions{listen: busy, followup: 2 * time.Second, timeout: 90 * time.Second})
	}()
	deadline := time.Now().Add(100 * time.Second)
	for !strings.Contains(out.String(), "until Ctrl-C") {
		select {
		case err := <-done:
			t.Fatalf("demo ended early: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not get to serving:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	m := regexp.MustCompile(`admin page: (http://[^/]+)/  \(one-time login token: ([0-9a-f]+)\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no admin URL and token in:\n%s", out.String())
	}
	// the default port was taken: the demo says where it went instead
	port := m[1][strings.LastIndex(m[1], ":")+1:]
	if !strings.Contains(out.String(), busy+" is busy: the intake and the admin page are on 127.0.0.1:"+port+" instead") ||
		!strings.Contains(out.String(), "serving on port "+port+" until Ctrl-C") {
		t.Errorf("the demo does not say which port it took instead of %s:\n%s", busy, out.String())
	}
	// the sandbox Jira's page, to try more tickets
	if s := regexp.MustCompile(`try it: +(http://\S+)/ `).FindStringSubmatch(out.String()); s == nil {
		t.Errorf("no sandbox page in:\n%s", out.String())
	} else if resp, err := http.Get(s[1] + "/"); err != nil {
		t.Error(err)
	} else {
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "DEMO-12") {
			t.Errorf("sandbox page: %d %.200s", resp.StatusCode, page)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, m[1]+"/api/escalations?status=open", nil)
	req.Header.Set("Authorization", "Bearer "+m[2])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Total int `json:"total"`
	}
	err = json.NewDecoder(resp.Body).Decode(&page)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || page.Total != 7 {
		t.Errorf("GET /api/escalations?status=open = %d, %+v, %v; want 200 and the demo's 7 open escalations", resp.StatusCode, page, err)
	}
	// the Decisions view reads the Redis store (without it: 404)
	req, _ = http.NewRequest(http.MethodGet, m[1]+"/api/decisions?days=7", nil)
	req.Header.Set("Authorization", "Bearer "+m[2])
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	var decisions struct {
		Days   []json.RawMessage `json:"days"`
		Totals struct {
			Modes map[string]int `json:"modes"`
		} `json:"totals"`
	}
	err = json.NewDecoder(resp.Body).Decode(&decisions)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(decisions.Days) != 7 {
		t.Errorf("GET /api/decisions?days=7 = %d, %d days, %v; want 200 and 7 days", resp.StatusCode, len(decisions.Days), err)
	}
	// the worker counts what it decided there
	if decisions.Totals.Modes[triage.ModeAuto] == 0 {
		t.Errorf("GET /api/decisions?days=7: modes %v, want the demo's auto decisions counted", decisions.Totals.Modes)
	}
	// an MFA reset against the demo's fake Graph, the user from the
	// reporter's e-mail in the sandbox Jira
	api := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, m[1]+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+m[2])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, data
	}
	var mfa struct {
		Records []struct {
			ID    string `json:"id"`
			Email string `json:"reporter_email"`
		} `json:"records"`
	}
	if status, data := api(http.MethodGet, "/api/escalations?status=open&reason=mfa-reset", ""); status != http.StatusOK || json.Unmarshal(data, &mfa) != nil || len(mfa.Records) == 0 || mfa.Records[0].Email == "" {
		t.Fatalf("the demo's open MFA-reset escalations: %d %s", status, data)
	}
	status, data := api(http.MethodPost, "/api/escalations/"+mfa.Records[0].ID+"/mfa-reset", `{"user":"`+mfa.Records[0].Email+`","tap":true}`)
	if status != http.StatusOK || !strings.Contains(string(data), `"temporary_access_pass":{"pass":"`) || !strings.Contains(string(data), `"type":"passkey"`) {
		t.Errorf("MFA reset in the demo: %d %s", status, data)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Get(m[1] + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Errorf("GET / without a session = %d %s, want a redirect to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("demo stopped with %v", err)
	}
}
