package intake

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/jira/wire"
	"github.com/mfatriage/triage/internal/logtest"
	"github.com/mfatriage/triage/worker"
)

// Webhook bodies as Jira sends them (trimmed to the interesting fields).
const (
	cloudIssueCreated = `{
  "timestamp": 1741599000000,
  "webhookEvent": "jira:issue_created",
  "issue_event_type_name": "issue_created",
  "user": {"self": "https://example.atlassian.net/rest/api/2/user?accountId=557058:alice", "accountId": "557058:alice", "displayName": "Alice Reporter", "active": true},
  "issue": {
    "id": "10001", "key": "HD-1", "self": "https://example.atlassian.net/rest/api/2/issue/10001",
    "fields": {
      "summary": "Authenticator lost after new phone",
      "description": "I got a new phone and *Authenticator* shows no accounts.",
      "reporter": {"accountId": "557058:alice", "displayName": "Alice Reporter"},
      "labels": ["mfa", "vip"],
      "status": {"name": "Open", "id": "1"},
      "priority": {"name": "Medium"},
      "updated": "2025-03-10T09:00:00.000+0000"
    }
  }
}`

	cloudIssueCreatedADF = `{
  "webhookEvent": "jira:issue_created",
  "user": {"accountId": "557058:alice"},
  "issue": {
    "id": "10002", "key": "HD-2",
    "fields": {
      "summary": "Passkey not accepted",
      "description": {"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": "My passkey "}, {"type": "text", "text": "stopped", "marks": [{"type": "strong"}]}, {"type": "text", "text": " working."}]},
        {"type": "blockquote", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "Open Authenticator and tap Add."}]}]}
      ]},
      "reporter": {"accountId": "557058:alice", "displayName": "Alice Reporter"},
      "status": {"name": "Open"},
      "updated": "2025-03-10T09:05:00.000+0000"
    }
  }
}`

	cloudCommentByReporterADF = `{
  "timestamp": 1741599600000,
  "webhookEvent": "comment_created",
  "comment": {
    "self": "https://example.atlassian.net/rest/api/2/issue/10001/comment/10100",
    "id": "10100",
    "author": {"accountId": "557058:alice", "displayName": "Alice Reporter"},
    "body": {"type": "doc", "version": 1, "content": [
      {"type": "paragraph", "content": [{"type": "text", "text": "Thanks "}, {"type": "mention", "attrs": {"id": "557058:bot", "text": "@Triage Bot"}}, {"type": "hardBreak"}, {"type": "text", "text": "it still fails "}, {"type": "emoji", "attrs": {"shortName": ":cry:", "text": "😢"}}]},
      {"type": "bulletList", "content": [
        {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "iPhone 15"}]}]},
        {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "iOS 18"}]}]}
      ]}
    ]},
    "created": "2025-03-10T09:20:00.000+0000",
    "jsdPublic": true
  },
  "issue": {"id": "10001", "key": "HD-1", "fields": {"summary": "Authenticator lost after new phone", "reporter": {"accountId": "557058:alice", "displayName": "Alice Reporter"}, "status": {"name": "Waiting for support"}}}
}`

	// Jira Cloud: the comment event's issue is cut down and has no reporter.
	cloudCommentNoReporter = `{
  "webhookEvent": "comment_created",
  "comment": {"id": "10101", "self": "https://example.atlassian.net/rest/api/2/issue/10001/comment/10101",
    "author": {"accountId": "557058:agent", "displayName": "Ann Agent"}, "body": "Checking.", "created": "2025-03-10T09:21:00.000+0000", "jsdPublic": false},
  "issue": {"id": "10001", "key": "HD-1", "fields": {"summary": "Authenticator lost after new phone"}}
}`

	// Jira Server / Data Center: no issue object at all.
	serverComment = `{
  "timestamp": 1741599600000,
  "webhookEvent": "comment_created",
  "comment": {
    "self": "https://jira.example.com/jira/rest/api/2/issue/10001/comment/10100",
    "id": "10100",
    "author": {"self": "https://jira.example.com/jira/rest/api/2/user?username=alice", "name": "alice", "key": "JIRAUSER10100", "displayName": "Alice Reporter", "active": true},
    "body": "Still broken\n{quote}Open Authenticator{quote}",
    "updateAuthor": {"name": "alice"},
    "created": "2025-03-10T09:20:00.000+0000",
    "updated": "2025-03-10T09:20:00.000+0000"
  }
}`

	issueUpdatedSummary = `{
  "webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_updated",
  "user": {"accountId": "557058:alice"},
  "issue": {"id": "10001", "key": "HD-1", "fields": {"summary": "Authenticator lost - new phone", "description": null, "reporter": {"accountId": "557058:alice", "displayName": "Alice Reporter"}, "labels": [], "status": {"name": "Open"}, "updated": "2025-03-10T09:25:00.000+0000"}},
  "changelog": {"id": "10500", "items": [{"field": "summary", "fieldtype": "jira", "fieldId": "summary", "fromString": "Authenticator lost", "toString": "Authenticator lost - new phone"}]}
}`

	issueUpdatedNoChangelog = `{
  "webhookEvent": "jira:issue_updated",
  "user": {"name": "alice"},
  "issue": {"key": "HD-3", "fields": {"summary": "Sign-in loop", "description": "h1. Help\nIt loops."}}
}`
)

func TestWebhookEnqueues(t *testing.T) {
	t.Parallel()
	updated := func(s string) time.Time { return wire.ParseTime(s) }
	byReporter := worker.TriagePayload{
		Event: triage.EventCommentCreated, ActorID: "557058:alice",
		Issue: triage.Issue{
			Key: "HD-1", ID: "10001", Summary: "Authenticator lost after new phone",
			ReporterID: "557058:alice", ReporterName: "Alice Reporter", Status: "Waiting for support",
		},
		Comment: &triage.Comment{
			ID: "10100", AuthorID: "557058:alice", AuthorName: "Alice Reporter",
			Body:    "Thanks @Triage Bot\nit still fails 😢\n- iPhone 15\n- iOS 18",
			Created: updated("2025-03-10T09:20:00.000+0000"),
		},
	}
	editedByReporter := byReporter
	editedByReporter.Event = triage.EventCommentUpdated
	tests := []struct {
		name string
		body string
		want worker.TriagePayload
	}{
		{"cloud issue created, wiki description", cloudIssueCreated, worker.TriagePayload{
			Event: triage.EventIssueCreated, ActorID: "557058:alice",
			Issue: triage.Issue{
				Key: "HD-1", ID: "10001", Summary: "Authenticator lost after new phone",
				Description: "I got a new phone and *Authenticator* shows no accounts.",
				ReporterID:  "557058:alice", ReporterName: "Alice Reporter",
				Labels: []string{"mfa", "vip"}, Status: "Open", Updated: updated("2025-03-10T09:00:00.000+0000"),
			},
		}},
		{"cloud issue created, ADF description", cloudIssueCreatedADF, worker.TriagePayload{
			Event: triage.EventIssueCreated, ActorID: "557058:alice",
			Issue: triage.Issue{
				Key: "HD-2", ID: "10002", Summary: "Passkey not accepted",
				Description: "My passkey stopped working.\n> Open Authenticator and tap Add.",
				ReporterID:  "557058:alice", ReporterName: "Alice Reporter",
				Status: "Open", Updated: updated("2025-03-10T09:05:00.000+0000"),
			},
		}},
		{"cloud comment by the reporter, ADF body", cloudCommentByReporterADF, byReporter},
		{"cloud comment, reporter unknown: enqueued for the worker to decide", cloudCommentNoReporter, worker.TriagePayload{
			Event: triage.EventCommentCreated, ActorID: "557058:agent",
			Issue: triage.Issue{Key: "HD-1", ID: "10001", Summary: "Authenticator lost after new phone"},
			Comment: &triage.Comment{
				ID: "10101", AuthorID: "557058:agent", AuthorName: "Ann Agent", Body: "Checking.",
				Created: updated("2025-03-10T09:21:00.000+0000"), Internal: true,
			},
		}},
		{"server comment without issue: key from comment.self", serverComment, worker.TriagePayload{
			Event: triage.EventCommentCreated, ActorID: "alice",
			Issue: triage.Issue{Key: "10001", ID: "10001"},
			Comment: &triage.Comment{
				ID: "10100", AuthorID: "alice", AuthorName: "Alice Reporter",
				Body:    "Still broken\n{quote}Open Authenticator{quote}",
				Created: updated("2025-03-10T09:20:00.000+0000"),
			},
		}},
		{"reporter's comment edited: the worker decides whether the bot answered yet", strings.Replace(cloudCommentByReporterADF, `"comment_created"`, `"comment_updated"`, 1), editedByReporter},
		{"issue updated: summary changed", issueUpdatedSummary, worker.TriagePayload{
			Event: triage.EventIssueUpdated, ActorID: "557058:alice",
			Issue: triage.Issue{
				Key: "HD-1", ID: "10001", Summary: "Authenticator lost - new phone",
				ReporterID: "557058:alice", ReporterName: "Alice Reporter", Status: "Open",
				Updated: updated("2025-03-10T09:25:00.000+0000"),
			},
		}},
		{"issue updated without changelog, data center user", issueUpdatedNoChangelog, worker.TriagePayload{
			Event: triage.EventIssueUpdated, ActorID: "alice",
			Issue: triage.Issue{Key: "HD-3", Summary: "Sign-in loop", Description: "h1. Help\nIt loops."},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newHookEnv(t, nil)
			const id = "6f1e-delivery-1"
			code, resp := e.send(t, delivery{body: tc.body, id: id})
			wantResp := Response{Status: StatusEnqueued, TaskID: worker.TriageTaskID(id)}
			if code != http.StatusAccepted {
				t.Fatalf("status %d %+v, want 202", code, resp)
			}
			if diff := cmp.Diff(wantResp, resp); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
			got, ids := e.q.pending(t)
			want := tc.want
			want.DeliveryID, want.ReceivedAt = id, fixedNow
			if diff := cmp.Diff([]worker.TriagePayload{want}, got); diff != "" {
				t.Errorf("enqueued payloads (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{worker.TriageTaskID(id)}, ids); diff != "" {
				t.Errorf("task ids (-want +got):\n%s", diff)
			}
			if r := e.agents.all(); len(r) != 0 {
				t.Errorf("agent records %v, want none", r)
			}
		})
	}
}

func TestWebhookSameDeliveryFiveTimes(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, nil)
	const n = 5
	codes := make([]int, n)
	resps := make([]Response, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := delivery{body: cloudIssueCreated, id: "dup-1", headers: map[string]string{HeaderRetry: "1"}}.request()
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, r)
			codes[i] = rec.Code
			resps[i].Status = statusFromBody(rec.Body.Bytes())
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for i := range n {
		count[codes[i]]++
		if codes[i] == http.StatusOK && resps[i].Status != StatusDuplicate {
			t.Errorf("a 200 answered %q, want %q", resps[i].Status, StatusDuplicate)
		}
	}
	if diff := cmp.Diff(map[int]int{http.StatusAccepted: 1, http.StatusOK: n - 1}, count); diff != "" {
		t.Errorf("answers by status (-want +got):\n%s", diff)
	}
	if got := e.q.count(t); got != 1 {
		t.Errorf("%d tasks enqueued, want 1", got)
	}
}

func statusFromBody(b []byte) string {
	var r struct{ Status string }
	_ = json.Unmarshal(b, &r)
	return r.Status
}

func TestWebhookDedupeWithoutDeliveryHeader(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, nil)
	var codes []int
	for range 3 {
		code, _ := e.send(t, delivery{body: cloudIssueCreated})
		codes = append(codes, code)
	}
	code, _ := e.send(t, delivery{body: cloudIssueCreatedADF}) // another body: another task
	codes = append(codes, code)
	if diff := cmp.Diff([]int{202, 200, 200, 202}, codes); diff != "" {
		t.Errorf("status codes (-want +got):\n%s", diff)
	}
	got, _ := e.q.pending(t)
	if len(got) != 2 {
		t.Fatalf("%d tasks, want 2", len(got))
	}
	for _, p := range got {
		if !strings.HasPrefix(p.DeliveryID, "sha256:") || len(p.DeliveryID) != len("sha256:")+64 {
			t.Errorf("delivery id %q, want sha256:<hex of the body>", p.DeliveryID)
		}
	}
}

func TestWebhookRefused(t *testing.T) {
	t.Parallel()
	big := `{"webhookEvent":"jira:issue_created","issue":{"key":"HD-1"},"pad":"` + strings.Repeat("x", DefaultMaxBodyBytes) + `"}`
	botComment := strings.Replace(cloudCommentByReporterADF, `"author": {"accountId": "557058:alice"`, `"author": {"accountId": "`+botID+`"`, 1)
	if botComment == cloudCommentByReporterADF {
		t.Fatal("fixture: bot comment not made")
	}
	tests := []struct {
		name       string
		d          delivery
		unknownLen bool // send the body without Content-Length
		cfg        func(*Config)
		code       int
		status     string
		reason     string // a part of the reason
	}{
		{name: "bad signature", d: delivery{body: cloudIssueCreated, sig: Sign("another secret", []byte(cloudIssueCreated))}, code: 401, status: StatusRejected, reason: "does not match"},
		{name: "signature of another body", d: delivery{body: cloudIssueCreated, sig: Sign(testSecret, []byte(cloudIssueCreatedADF))}, code: 401, status: StatusRejected, reason: "does not match"},
		{name: "missing signature", d: delivery{body: cloudIssueCreated, sig: "-"}, code: 401, status: StatusRejected, reason: "missing"},
		{name: "signature without sha256=", d: delivery{body: cloudIssueCreated, sig: strings.TrimPrefix(Sign(testSecret, []byte(cloudIssueCreated)), "sha256=")}, code: 401, status: StatusRejected, reason: "sha256=<hex>"},
		{name: "sha1 signature", d: delivery{body: cloudIssueCreated, sig: "sha1=0123"}, code: 401, status: StatusRejected, reason: "sha256=<hex>"},
		{name: "signature not hex", d: delivery{body: cloudIssueCreated, sig: "sha256=zz"}, code: 401, status: StatusRejected, reason: "sha256=<hex>"},
		{name: "bad signature on malformed JSON: 401 first", d: delivery{body: `{"webhookEvent":`, sig: "sha256=00"}, code: 401, status: StatusRejected},
		{name: "oversize with Content-Length", d: delivery{body: big}, code: 413, status: StatusRejected, reason: "limit of 1048576 bytes"},
		{name: "oversize, streamed", d: delivery{body: big}, unknownLen: true, code: 413, status: StatusRejected, reason: "limit of 1048576 bytes"},
		{name: "oversize under a smaller limit", d: delivery{body: cloudIssueCreated}, cfg: func(c *Config) { c.MaxBodyBytes = 100 }, code: 413, status: StatusRejected, reason: "limit of 100 bytes"},
		{name: "malformed JSON", d: delivery{body: `{"webhookEvent": "jira:issue_created", "issue": {`}, code: 400, status: StatusRejected, reason: "invalid JSON"},
		{name: "trailing garbage", d: delivery{body: `{"webhookEvent": "jira:issue_created"} x`}, code: 400, status: StatusRejected, reason: "invalid JSON"},
		{name: "JSON array", d: delivery{body: `[1,2]`}, code: 400, status: StatusRejected, reason: "not an object"},
		{name: "JSON null", d: delivery{body: `null`}, code: 400, status: StatusRejected, reason: "not an object"},
		{name: "empty body", d: delivery{body: ``}, code: 400, status: StatusRejected, reason: "empty"},
		{name: "no webhookEvent", d: delivery{body: `{"issue": {"key": "HD-1"}}`}, code: 400, status: StatusRejected, reason: "webhookEvent is missing"},
		{name: "no issue", d: delivery{body: `{"webhookEvent": "jira:issue_created", "user": {"accountId": "a"}}`}, code: 400, status: StatusRejected, reason: "names no issue"},
		{name: "issue key not a key", d: delivery{body: `{"webhookEvent": "jira:issue_created", "issue": {"key": "HD 1; DROP"}}`}, code: 400, status: StatusRejected, reason: "neither a Jira key"},
		{name: "comment_created without comment", d: delivery{body: `{"webhookEvent": "comment_created", "issue": {"key": "HD-1"}}`}, code: 400, status: StatusRejected, reason: "without a comment"},
		{name: "wrong method", d: delivery{body: cloudIssueCreated, method: http.MethodGet}, code: 405, status: StatusRejected},
		{name: "PUT", d: delivery{body: cloudIssueCreated, method: http.MethodPut}, code: 405, status: StatusRejected},
		{name: "unknown event", d: delivery{body: `{"webhookEvent": "jira:issue_deleted", "issue": {"key": "HD-1"}}`}, code: 200, status: StatusIgnored, reason: `"jira:issue_deleted" is not triaged`},
		{name: "comment_updated by an agent", d: delivery{body: strings.Replace(strings.Replace(cloudCommentByReporterADF, `"comment_created"`, `"comment_updated"`, 1), `"author": {"accountId": "557058:alice"`, `"author": {"accountId": "557058:agent"`, 1)}, code: 200, status: StatusIgnored, reason: "not the reporter's"},
		{name: "comment_updated without comment", d: delivery{body: `{"webhookEvent": "comment_updated", "issue": {"key": "HD-1"}}`}, code: 400, status: StatusRejected, reason: "comment_updated without a comment"},
		{name: "bot's own comment", d: delivery{body: botComment}, code: 200, status: StatusIgnored, reason: "bot's own event"},
		{name: "bot's own issue update (its labels)", d: delivery{body: `{"webhookEvent": "jira:issue_updated", "user": {"accountId": "` + botID + `"}, "issue": {"key": "HD-1"}, "changelog": {"items": [{"field": "description"}]}}`}, code: 200, status: StatusIgnored, reason: "bot's own event"},
		{name: "bot's own comment, data center name", cfg: func(c *Config) { c.BotAccountID = "triagebot" }, d: delivery{body: `{"webhookEvent": "comment_created", "comment": {"self": "https://jira.example.com/rest/api/2/issue/10001/comment/1", "author": {"name": "TriageBot", "key": "JIRAUSER1"}, "body": "Hello"}}`}, code: 200, status: StatusIgnored, reason: "bot's own event"},
		{name: "comment mirrored as an issue update", d: delivery{body: `{"webhookEvent": "jira:issue_updated", "issue_event_type_name": "issue_commented", "user": {"name": "alice"}, "issue": {"key": "HD-1"}}`}, code: 200, status: StatusIgnored, reason: "comment event carries it"},
		{name: "update of the status only", d: delivery{body: `{"webhookEvent": "jira:issue_updated", "user": {"accountId": "a"}, "issue": {"key": "HD-1"}, "changelog": {"items": [{"field": "status"}, {"field": "labels"}]}}`}, code: 200, status: StatusIgnored, reason: "neither summary nor description"},
		{name: "empty changelog", d: delivery{body: `{"webhookEvent": "jira:issue_updated", "user": {"accountId": "a"}, "issue": {"key": "HD-1"}, "changelog": {"items": []}}`}, code: 200, status: StatusIgnored, reason: "neither summary nor description"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newHookEnv(t, tc.cfg)
			r := tc.d.request()
			if tc.unknownLen {
				r.ContentLength = -1
				r.Body = io.NopCloser(struct{ io.Reader }{strings.NewReader(tc.d.body)})
			}
			code, resp, _ := serve(t, e.h, r)
			if code != tc.code || resp.Status != tc.status || !strings.Contains(resp.Reason, tc.reason) {
				t.Errorf("answer %d %+v, want %d %q with reason containing %q", code, resp, tc.code, tc.status, tc.reason)
			}
			if strings.Contains(resp.Reason, "\n") {
				t.Errorf("reason %q spans lines", resp.Reason)
			}
			if n := e.q.count(t); n != 0 {
				t.Errorf("%d tasks enqueued, want none", n)
			}
			if r := e.agents.all(); len(r) != 0 {
				t.Errorf("agent records %v, want none", r)
			}
		})
	}
}

func TestWebhookAgentComment(t *testing.T) {
	t.Parallel()
	agentCloud := strings.Replace(cloudCommentByReporterADF, `"author": {"accountId": "557058:alice", "displayName": "Alice Reporter"}`, `"author": {"accountId": "557058:agent", "displayName": "Ann Agent"}`, 1)
	agentDC := `{"webhookEvent": "comment_created", "timestamp": 1741599600000,
	  "comment": {"self": "https://jira.example.com/rest/api/2/issue/10001/comment/7", "author": {"name": "ann", "key": "JIRAUSER2"}, "body": "I reset it."},
	  "issue": {"key": "HD-7", "fields": {"reporter": {"name": "alice", "key": "JIRAUSER1"}}}}`
	tests := []struct {
		name string
		body string
		want agentRecord
	}{
		{"cloud agent", agentCloud, agentRecord{"HD-1", "557058:agent", wire.ParseTime("2025-03-10T09:20:00.000+0000")}},
		{"data center agent, time from the delivery", agentDC, agentRecord{"HD-7", "ann", time.UnixMilli(1741599600000).UTC()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newHookEnv(t, nil)
			code, resp := e.send(t, delivery{body: tc.body, id: "agent-1"})
			if diff := cmp.Diff(Response{Status: StatusRecorded, Reason: "agent comment", TaskID: "triage:agent-1"}, resp); code != http.StatusAccepted || diff != "" {
				t.Errorf("answer %d, response (-want +got):\n%s", code, diff)
			}
			if diff := cmp.Diff([]agentRecord{tc.want}, e.agents.all()); diff != "" {
				t.Errorf("agent records (-want +got):\n%s", diff)
			}
			// a public answer goes to the worker too, marked as an agent's:
			// it may be one given instead of a suggestion
			if ps, _ := e.q.pending(t); len(ps) != 1 || !ps[0].Agent {
				t.Errorf("tasks %+v, want one marked Agent", ps)
			}
		})
	}

	t.Run("commands: an agent's goes to the worker without a mark, the reporter's nowhere", func(t *testing.T) {
		t.Parallel()
		dc := func(author, body string) string {
			return `{"webhookEvent": "comment_created", "timestamp": 1741599600000,
			  "comment": {"self": "https://jira.example.com/rest/api/2/issue/10001/comment/9", "author": {"name": "` + author + `"}, "body": "` + body + `", "jsdPublic": false},
			  "issue": {"key": "HD-9", "fields": {"reporter": {"name": "alice"}}}}`
		}
		e := newHookEnv(t, nil)
		code, resp := e.send(t, delivery{body: dc("ann", `\n/triage send\nthanks`), id: "cmd-1"})
		if code != http.StatusAccepted || resp.Status != StatusEnqueued {
			t.Errorf("agent's command answered %d %+v, want 202 enqueued", code, resp)
		}
		if ps, _ := e.q.pending(t); len(ps) != 1 || !ps[0].Agent {
			t.Errorf("tasks %+v, want the command marked Agent", ps)
		}
		if r := e.agents.all(); len(r) != 0 {
			t.Errorf("agent records %v, want none: a command leaves no mark", r)
		}
		code, resp = e.send(t, delivery{body: dc("alice", "/triage send"), id: "cmd-2"})
		if code != http.StatusOK || resp.Status != StatusIgnored {
			t.Errorf("reporter's command answered %d %+v, want 200 ignored", code, resp)
		}
		if n := e.q.count(t); n != 1 {
			t.Errorf("%d tasks, want only the agent's", n)
		}
		// an ordinary internal comment of an agent: the mark only
		code, resp = e.send(t, delivery{body: dc("ann", "checking with the admins"), id: "cmd-3"})
		if code != http.StatusOK || resp.Status != StatusRecorded {
			t.Errorf("agent's internal comment answered %d %+v, want 200 recorded", code, resp)
		}
		if n, r := e.q.count(t), e.agents.all(); n != 1 || len(r) != 1 {
			t.Errorf("%d tasks and agent records %v after an internal comment, want 1 task and 1 record", n, r)
		}
	})

	t.Run("author and reporter share no identity: enqueued, the worker decides", func(t *testing.T) {
		t.Parallel()
		e := newHookEnv(t, nil)
		body := `{"webhookEvent": "comment_created",
		  "comment": {"self": "https://jira.example.com/rest/api/2/issue/10001/comment/8", "author": {"name": "ann"}, "body": "Hi"},
		  "issue": {"key": "HD-8", "fields": {"reporter": {"key": "JIRAUSER1"}}}}`
		if code, resp := e.send(t, delivery{body: body, id: "agent-3"}); code != http.StatusAccepted {
			t.Errorf("answer %d %+v, want 202", code, resp)
		}
		if r := e.agents.all(); len(r) != 0 {
			t.Errorf("agent records %v, want none", r)
		}
	})

	t.Run("recorder down: 503 so Jira retries", func(t *testing.T) {
		t.Parallel()
		e := newHookEnv(t, nil)
		e.agents.err = errors.New("redis: connection refused")
		code, resp, hdr := serve(t, e.h, delivery{body: agentCloud, id: "agent-2"}.request())
		if code != http.StatusServiceUnavailable || resp.Status != StatusUnavailable || hdr.Get("Retry-After") != "30" {
			t.Errorf("answer %d %+v Retry-After %q, want 503 unavailable with Retry-After 30", code, resp, hdr.Get("Retry-After"))
		}
		if n := e.q.count(t); n != 0 {
			t.Errorf("%d tasks enqueued, want none", n)
		}
	})
}

func TestWebhookRedisUnreachable(t *testing.T) {
	t.Parallel()
	addr := closedAddr(t)
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: addr, DialTimeout: time.Second})
	t.Cleanup(func() { client.Close() })
	h, err := NewHandler(Config{Secret: testSecret, BotAccountID: botID, RetryAfter: 7 * time.Second, Now: func() time.Time { return fixedNow }},
		client, &fakeAgents{}, PingFunc(func(context.Context) error { return client.Ping() }))
	if err != nil {
		t.Fatal(err)
	}
	code, resp, hdr := serve(t, h, delivery{body: cloudIssueCreated, id: "down-1"}.request())
	if code != http.StatusServiceUnavailable || resp.Status != StatusUnavailable || hdr.Get("Retry-After") != "7" {
		t.Errorf("answer %d %+v Retry-After %q, want 503 unavailable with Retry-After 7", code, resp, hdr.Get("Retry-After"))
	}
	if strings.Contains(resp.Reason, addr) {
		t.Errorf("reason %q leaks the Redis address", resp.Reason)
	}
	code, _, _ = serve(t, h, httptest.NewRequest(http.MethodGet, ReadyPath, nil))
	if code != http.StatusServiceUnavailable {
		t.Errorf("/readyz answered %d with Redis down, want 503", code)
	}
	code, _, _ = serve(t, h, httptest.NewRequest(http.MethodGet, HealthPath, nil))
	if code != http.StatusOK {
		t.Errorf("/healthz answered %d, want 200 always", code)
	}
}

func TestWebhookWithoutSecret(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, func(c *Config) { c.Secret = "" })
	code, resp := e.send(t, delivery{body: cloudIssueCreated, id: "nosig-1", sig: "-"})
	if code != http.StatusAccepted {
		t.Errorf("unsigned delivery without a secret configured: %d %+v, want 202", code, resp)
	}
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	tests := []struct {
		name   string
		method string
		path   string
		ping   PingFunc
		code   int
	}{
		{"healthz", http.MethodGet, HealthPath, nil, 200},
		{"healthz HEAD", http.MethodHead, HealthPath, nil, 200},
		{"healthz POST", http.MethodPost, HealthPath, nil, 405},
		{"ready", http.MethodGet, ReadyPath, func(context.Context) error { return nil }, 200},
		{"ping fails", http.MethodGet, ReadyPath, func(context.Context) error { return errors.New("down") }, 503},
		{"ping honours the deadline", http.MethodGet, ReadyPath, func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, 503},
		{"ping ignores the deadline", http.MethodGet, ReadyPath, func(context.Context) error { <-block; return nil }, 503},
		{"unknown path", http.MethodGet, "/metrics", nil, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ping := tc.ping
			if ping == nil {
				ping = func(context.Context) error { return errors.New("not asked") }
			}
			h, err := NewHandler(Config{BotAccountID: botID, ReadyTimeout: 50 * time.Millisecond}, &memQueue{}, &fakeAgents{}, ping)
			if err != nil {
				t.Fatal(err)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.code {
				t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, rec.Code, rec.Body, tc.code)
			}
		})
	}
	t.Run("ready against the test Redis", func(t *testing.T) {
		t.Parallel()
		e := newHookEnv(t, nil)
		code, resp, _ := serve(t, e.h, httptest.NewRequest(http.MethodGet, ReadyPath, nil))
		if code != 200 || resp.Status != StatusOK {
			t.Errorf("/readyz: %d %+v, want 200 ok", code, resp)
		}
	})
}

func TestWebhookLogs(t *testing.T) {
	t.Parallel()
	var buf logtest.Buffer
	e := newHookEnv(t, func(c *Config) { c.Logger = zerolog.New(&buf).Level(zerolog.InfoLevel) })
	e.send(t, delivery{body: cloudIssueCreated, id: "log-1"})
	e.send(t, delivery{body: cloudIssueCreated, id: "log-1"})
	e.send(t, delivery{body: cloudIssueCreated, sig: "sha256=00"})
	e.send(t, delivery{body: serverComment, id: "log-2"})
	out := buf.String()
	// a Server/DC comment names the issue by id: logged as issue_id, never
	// as a key the audit does not know
	if strings.Contains(out, `"issue_key":"10001"`) || !strings.Contains(out, `"issue_id":"10001"`) {
		t.Errorf("the server comment's id is not logged as issue_id:\n%s", out)
	}
	for _, want := range []string{`"issue_key":"HD-1"`, `"delivery_id":"log-1"`, `"event":"jira:issue_created"`, `"status":"enqueued"`, `"status":"duplicate"`, `"status":"rejected"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	for _, secret := range []string{testSecret, "Authenticator lost", "shows no accounts", "Alice Reporter"} {
		if strings.Contains(out, secret) {
			t.Errorf("log at info level contains %q:\n%s", secret, out)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want []string // parts of the error, in order; none for a valid config
	}{
		{"minimal", Config{BotAccountID: botID}, nil},
		{"full", Config{Secret: "s", BotAccountID: "triagebot", Queue: "q", MaxBodyBytes: 10, RetryAfter: time.Second}, nil},
		{"no bot", Config{}, []string{"bot account id is empty"}},
		{"bot with space", Config{BotAccountID: "a b"}, []string{"contains white space"}},
		{"secret with newline", Config{BotAccountID: botID, Secret: "s3cret\n"}, []string{"secret starts or ends with white space"}},
		{"negatives", Config{BotAccountID: botID, MaxBodyBytes: -1, RetryAfter: -time.Second, EnqueueTimeout: -1, ReadyTimeout: -1},
			[]string{"largest webhook body is negative", "Retry-After of a 503 is negative", "enqueue timeout is negative", "readiness timeout is negative"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Errorf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want an error about %q", tc.want)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("Validate: %d problems %q, want %d", len(lines), lines, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(lines[i], w) {
					t.Errorf("problem %d %q lacks %q", i, lines[i], w)
				}
			}
		})
	}

	if _, err := NewHandler(Config{BotAccountID: botID}, nil, nil, nil); err == nil ||
		!strings.Contains(err.Error(), "enqueuer") || !strings.Contains(err.Error(), "agent recorder") || !strings.Contains(err.Error(), "pinger") {
		t.Errorf("NewHandler without dependencies: %v, want an error naming each", err)
	}
}
