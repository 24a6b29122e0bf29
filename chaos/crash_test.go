package chaos_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/worker"
)

// TestCrashBetweenJiraAndRedis: a task writes the reply to Jira and its
// worker dies before it saves the state to Redis; then the webhook's task
// for the same ticket runs as the first attempt of a first delivery. It
// must not reply a second time.
//
// The order is the one of a reconciliation sweep (or a JQL poll, or a
// backfill) that picks a ticket up before its webhook's task runs — the
// task stuck behind a backlog longer than the sweep's 10-minute grace, or
// the poller and the webhook racing — with a worker SIGKILLed in the few
// milliseconds between the Jira edit and the Redis SET. (A delivery Jira
// marks as a retry already makes the worker read Jira; a first delivery
// on the happy path does not.) The test widens the window: the fake Jira
// applies the edit and holds its answer while the test kills the worker.
func TestCrashBetweenJiraAndRedis(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	qr := e.startQueueRedis()
	redisAddr, rdb, insp, aclient := qr.addr, qr.rdb, qr.insp, qr.client

	fake := startFakeJira(t, 1, reporters...)
	var tk *ticket
	for _, c := range makeTickets(t, "CR", 8) {
		if c.kind == "new" && c.verdict.Action == classifier.ActionReply {
			tk = c
			break
		}
	}
	seed(fake, []*ticket{tk})
	queue := "crash-" + strings.ToLower(tk.key)
	cfg := triageConfig{redisURL: "redis://" + redisAddr + "/0", jiraURL: fake.url, queue: queue, concurrency: 1}
	_, intakeURL := e.startIntake(cfg)

	// 1. the sweep's task: worker A (one task at a time) writes the reply
	held := fake.holdWrites(tk.key, time.Minute)
	a := e.startWorker(1, cfg)
	rec := worker.TriagePayload{
		Event: triage.EventReconcile, DeliveryID: fmt.Sprintf("reconcile:%s:%d", tk.key, tk.issue.Updated.UnixMilli()), ReceivedAt: time.Now(),
		Issue: triage.Issue{Key: tk.key, ID: tk.issue.ID, Summary: tk.issue.Summary, Description: tk.issue.Description,
			ReporterID: tk.reporter.AccountID, ReporterName: tk.reporter.DisplayName, Status: "Open", Updated: tk.issue.Updated},
	}
	task, err := worker.NewTriageTask(rec, asynq.Queue(queue))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aclient.Enqueue(task); err != nil {
		t.Fatal(err)
	}
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatalf("the reconcile task did not write to Jira:\n%s", e.tail(a.logName(), 20))
	}
	// 2. the webhook arrives while A waits for Jira's answer: queued
	// behind A's only slot
	s := newSender(intakeURL)
	id := "late-" + strings.ToLower(tk.key)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var bg sync.WaitGroup
	s.sendAll(ctx, []*deliveryPlan{{tk: tk, id: id, body: tk.webhook()}}, 1, &bg)
	// 3. A dies: Jira has the reply, Redis has no state
	a.kill()
	has, _ := rdb.Exists(ctx, "triage:state:{"+tk.key+"}").Result()
	t.Logf("worker A killed after Jira applied the reply; state in Redis: %v; bot comments: %d", has == 1, botComments(fake, tk.key))
	// 4. worker B takes the webhook's task (a first attempt)
	e.startWorker(2, cfg)
	taskID := worker.TriageTaskID(id)
	for {
		ti, err := insp.GetTaskInfo(queue, taskID)
		if err == nil && ti.State == asynq.TaskStateCompleted {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the webhook's task did not complete: %v %+v\n%s", err, ti, e.tail("worker-2.log", 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	n := botComments(fake, tk.key)
	line := fmt.Sprintf("crash-between-jira-and-redis: ticket=%s bot_comments=%d want=1", tk.key, n)
	t.Log(line)
	fmt.Println(line)
	if n != 1 {
		t.Errorf("%s has %d bot comments after the crash and the webhook, want 1", tk.key, n)
		explain(t, e, fake, "duplicate-comment", []string{tk.key})
	}
}

func botComments(f *fakeJira, key string) int {
	n := 0
	for _, c := range f.Comments(key) {
		if c.Author.AccountID == bot.AccountID {
			n++
		}
	}
	return n
}
