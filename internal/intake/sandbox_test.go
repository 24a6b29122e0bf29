package intake

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

// payloadQueue keeps the payloads of the tasks enqueued.
type payloadQueue struct {
	memQueue
	mu       sync.Mutex
	payloads []worker.TriagePayload
}

func (q *payloadQueue) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	info, err := q.memQueue.EnqueueContext(ctx, task, opts...)
	if err == nil {
		var p worker.TriagePayload
		_ = json.Unmarshal(task.Payload(), &p)
		q.mu.Lock()
		q.payloads = append(q.payloads, p)
		q.mu.Unlock()
	}
	return info, err
}

// TestSandboxWebhooksReachIntake: the sandbox's webhooks, in both flavors'
// shapes, are what the intake parses: a filed ticket and the reporter's
// comment are enqueued with what the worker needs, the bot's own note and
// edit are ignored, and Data Center's comment (named by issue id) is
// enqueued once while its issue_commented mirror is ignored.
func TestSandboxWebhooksReachIntake(t *testing.T) {
	t.Parallel()
	for _, flavor := range []jiratest.Flavor{jiratest.FlavorCloud, jiratest.FlavorDataCenter} {
		t.Run(string(flavor), func(t *testing.T) {
			t.Parallel()
			q := &payloadQueue{}
			h, err := NewHandler(Config{Secret: testSecret, BotAccountID: "sandbox-bot"}, q, &fakeAgents{}, PingFunc(func(context.Context) error { return nil }))
			if err != nil {
				t.Fatal(err)
			}
			intakeSrv := httptest.NewServer(h)
			t.Cleanup(intakeSrv.Close)
			bot := jiratest.User{AccountID: "sandbox-bot", Name: "sandbox-bot", DisplayName: "Triage Bot"}
			alice := jiratest.User{AccountID: "alice", Name: "alice", DisplayName: "Alice"}
			s := jiratest.New(jiratest.WithSandbox(), jiratest.WithFlavor(flavor), jiratest.WithBasicAuth("bot@example.com", "tok", bot),
				jiratest.WithProject("HD", jiratest.ProjectServiceDesk), jiratest.WithWebhook(intakeSrv.URL+WebhookPath, testSecret))
			t.Cleanup(s.Close)

			is, err := s.CreateIssue("HD", jiratest.Issue{Summary: "Passkey gone", Description: "New phone"}, alice)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []jiratest.Comment{
				{Author: alice, Body: "I did all of that and it still fails"},
				{Author: bot, Body: "evidence", Internal: true},
			} {
				if _, err := s.AddComment(is.Key, c); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := s.WaitWebhooks(ctx); err != nil {
				t.Fatal(err)
			}
			var answers []string
			for _, d := range s.Deliveries() {
				answers = append(answers, d.Event+" "+strconv.Itoa(d.Status))
			}
			want := []string{"jira:issue_created 202", "comment_created 202", "comment_created 200"}
			if flavor == jiratest.FlavorDataCenter {
				want = []string{"jira:issue_created 202", "comment_created 202", "jira:issue_updated 200", "comment_created 200", "jira:issue_updated 200"}
			}
			if !slices.Equal(answers, want) {
				t.Errorf("intake answered %q, want %q", answers, want)
			}
			q.mu.Lock()
			defer q.mu.Unlock()
			if len(q.payloads) != 2 {
				t.Fatalf("%d tasks enqueued, want 2", len(q.payloads))
			}
			created, comment := q.payloads[0], q.payloads[1]
			if created.Issue.Key != is.Key || created.Issue.Summary != "Passkey gone" || created.Issue.Description != "New phone" || created.Issue.ReporterID != "alice" {
				t.Errorf("issue_created payload %+v", created.Issue)
			}
			wantKey := is.Key
			if flavor == jiratest.FlavorDataCenter {
				wantKey = is.ID // Data Center's comment event names the issue by id only
			}
			if comment.Comment == nil || comment.Comment.AuthorID != "alice" || comment.Comment.Body != "I did all of that and it still fails" || comment.Issue.Key != wantKey {
				t.Errorf("comment_created payload %+v (comment %+v), want key %s", comment.Issue, comment.Comment, wantKey)
			}
		})
	}
}
