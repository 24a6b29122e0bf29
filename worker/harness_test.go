package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/internal/logtest"
	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/internal/redistest"
	"github.com/mfatriage/triage/templates"
	"github.com/mfatriage/triage/worker"
)

var (
	botUser   = jiratest.User{AccountID: "acc-bot", DisplayName: "Triage Bot", EmailAddress: "bot@example.com"}
	alice     = jiratest.User{AccountID: "acc-alice", DisplayName: "Alice Reporter", EmailAddress: "alice@example.com"}
	agentUser = jiratest.User{AccountID: "acc-agent", DisplayName: "Ann Agent"}
)

// Shared, read-only across tests: compiling them once keeps tests fast.
var (
	sharedOnce  sync.Once
	sharedClf   *classifier.Classifier
	sharedTmpl  *templates.Set
	sharedSetup error
)

func shared(t *testing.T) (*classifier.Classifier, *templates.Set) {
	t.Helper()
	sharedOnce.Do(func() {
		// the worker's mechanics, not the model's confidence: a verdict
		// that acts is carried out from 0.5 up, so a retrained model that
		// is less sure of a five-word test ticket changes no test here
		// (suggestions have their own classifier, suggestingClassifier)
		sharedClf, sharedSetup = classifier.NewDefault(classifier.WithAutoThreshold(0.5))
		if sharedSetup == nil {
			sharedTmpl, sharedSetup = templates.Load("")
		}
	})
	if sharedSetup != nil {
		t.Fatal(sharedSetup)
	}
	return sharedClf, sharedTmpl
}

// harness is a worker on a real Redis (own queue, own key prefix) talking
// to a fake Jira over HTTP through the real adapter.
type harness struct {
	t         *testing.T
	jira      *jiratest.Server
	rdb       *redis.Client
	redisOpt  asynq.RedisClientOpt
	queue     string
	prefix    string
	store     *redisstore.Store
	esc       *escalation.Store
	client    *asynq.Client
	inspector *asynq.Inspector
	cfg       worker.Config
	states    triage.StateStore
	wrapJira  func(triage.Jira) triage.Jira
	clf       *classifier.Classifier
	decisions *fakeDecisions
	// jiraOpts and jiraCfg add to the fake Jira's options and the
	// adapter's configuration (withSite).
	jiraOpts []jiratest.Option
	adapter  triage.Jira // the worker's Jira, for reading an issue as the worker does
	jiraCfg  func(*jira.Config)
	handler  *worker.TriageHandler
	done     chan string // task ids, as each task finishes for good
	logs     *logtest.Buffer
}

type harnessOption func(*harness)

func withConfig(f func(*worker.Config)) harnessOption { return func(h *harness) { f(&h.cfg) } }
func withStates(wrap func(triage.StateStore) triage.StateStore) harnessOption {
	return func(h *harness) { h.states = wrap(h.states) }
}
func withJira(wrap func(triage.Jira) triage.Jira) harnessOption {
	return func(h *harness) { h.wrapJira = wrap }
}

// withSuggestionsOnly gives the worker a classifier whose auto threshold
// is 1.01: every verdict that is not human is a suggestion.
func withSuggestionsOnly() harnessOption {
	return func(h *harness) { h.clf = suggestingClassifier(h.t) }
}

var (
	suggestOnce sync.Once
	suggestClf  *classifier.Classifier
	suggestErr  error
)

func suggestingClassifier(t *testing.T) *classifier.Classifier {
	t.Helper()
	suggestOnce.Do(func() { suggestClf, suggestErr = classifier.NewDefault(classifier.WithAutoThreshold(1.01)) })
	if suggestErr != nil {
		t.Fatal(suggestErr)
	}
	return suggestClf
}

// fakeDecisions counts what the worker counts, in memory.
type fakeDecisions struct {
	mu       sync.Mutex
	modes    map[string]int
	outcomes map[string]int
}

var _ triage.DecisionCounter = (*fakeDecisions)(nil)

func (f *fakeDecisions) CountDecision(_ context.Context, _ time.Time, mode string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modes[mode]++
	return nil
}

func (f *fakeDecisions) CountFeedback(_ context.Context, _ time.Time, outcome string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.outcomes[outcome]++
	return nil
}

// counts returns copies of the counts.
func (f *fakeDecisions) counts() (modes, outcomes map[string]int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.modes), maps.Clone(f.outcomes)
}

// jiraClient is the Jira adapter the worker uses.
func (h *harness) jiraClient() triage.Jira { return h.adapter }

// withSite adds options to the fake Jira (projects, flavor) and changes the
// adapter's configuration.
func withSite(cfg func(*jira.Config), opts ...jiratest.Option) harnessOption {
	return func(h *harness) { h.jiraOpts, h.jiraCfg = opts, cfg }
}

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	opt := redistest.Options(t)
	id := redistest.ID(t)
	h := &harness{
		t:         t,
		rdb:       redis.NewClient(opt),
		redisOpt:  redistest.AsynqOpt(opt),
		queue:     "test-" + id,
		prefix:    "test:" + id + ":",
		done:      make(chan string, 100),
		logs:      &logtest.Buffer{},
		decisions: &fakeDecisions{modes: map[string]int{}, outcomes: map[string]int{}},
	}
	t.Cleanup(func() { h.rdb.Close() })
	h.store = redisstore.New(h.rdb, redisstore.Config{Prefix: h.prefix})
	h.esc = escalation.New(h.rdb, h.prefix)
	h.client = asynq.NewClient(h.redisOpt)
	t.Cleanup(func() { h.client.Close() })
	h.inspector = asynq.NewInspector(h.redisOpt)
	t.Cleanup(func() {
		_ = h.inspector.DeleteQueue(h.queue, true)
		h.inspector.Close()
		keys, _ := h.rdb.Keys(context.Background(), h.prefix+"*").Result()
		if len(keys) > 0 {
			h.rdb.Del(context.Background(), keys...)
		}
	})
	h.cfg = worker.Config{BotAccountID: botUser.AccountID, FollowupWindow: time.Hour}
	h.states = h.store
	for _, o := range opts {
		o(h)
	}
	h.jira = jiratest.New(append([]jiratest.Option{jiratest.WithBasicAuth("bot@example.com", "token", botUser), jiratest.WithUsers(alice, agentUser)}, h.jiraOpts...)...)
	t.Cleanup(h.jira.Close)
	if h.cfg.JiraBaseURL == "" {
		h.cfg.JiraBaseURL = h.jira.URL()
	}
	clf, tmpl := shared(t)
	if h.clf != nil {
		clf = h.clf
	}
	jcfg := jira.Config{BaseURL: h.jira.URL(), Email: "bot@example.com", APIToken: "token", BotAccountID: botUser.AccountID, BaseBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond}
	if h.jiraCfg != nil {
		h.jiraCfg(&jcfg)
	}
	jc, err := jira.New(jcfg)
	if err != nil {
		t.Fatal(err)
	}
	var jt triage.Jira = jira.NewTaskTriage(jc)
	if h.wrapJira != nil {
		jt = h.wrapJira(jt)
	}
	h.adapter = jt
	h.handler, err = worker.NewTriageHandler(h.cfg, worker.Deps{
		Classifier: clf, Templates: tmpl, Jira: jt, States: h.states,
		Escalations: h.esc,
		Followups:   &worker.AsynqFollowups{Client: h.client, Inspector: h.inspector, Queue: h.queue},
		Decisions:   h.decisions,
		Feedback:    h.store,
		Logger:      zerolog.New(h.logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// start runs an asynq server on the harness queue until the test ends.
func (h *harness) start() {
	h.t.Helper()
	srv := asynq.NewServer(h.redisOpt, asynq.Config{
		Concurrency:              2,
		Queues:                   map[string]int{h.queue: 1},
		RetryDelayFunc:           retryDelay,
		IsFailure:                worker.IsFailure,
		TaskCheckInterval:        10 * time.Millisecond,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
		Logger:                   quietLogger{},
		ShutdownTimeout:          5 * time.Second,
	})
	mux := asynq.NewServeMux()
	mux.Use(h.signal)
	h.handler.Register(mux)
	if err := srv.Start(mux); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(srv.Shutdown)
}

// retryDelay keeps the tests quick: a rate limit waits as long as Jira
// asked (worker.RetryDelay), anything else 50 ms.
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	if !worker.IsFailure(err) && !errors.Is(err, worker.ErrBusy) {
		return worker.RetryDelay(n, err, t)
	}
	return 50 * time.Millisecond
}

// signal reports a task id on h.done when the task will not run again.
func (h *harness) signal(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		err := next.ProcessTask(ctx, t)
		id, _ := asynq.GetTaskID(ctx)
		retried, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		if err == nil || errors.Is(err, asynq.SkipRetry) || retried >= maxRetry {
			h.done <- id
		}
		return err
	})
}

// wait blocks until the task with this id has finished for good.
func (h *harness) wait(taskID string) {
	h.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case id := <-h.done:
			if id == taskID {
				return
			}
		case <-timeout:
			h.t.Fatalf("task %s did not finish; logs:\n%s", taskID, h.logs.String())
		}
	}
}

func (h *harness) enqueue(p worker.TriagePayload, opts ...asynq.Option) string {
	h.t.Helper()
	task, err := worker.NewTriageTask(p, append([]asynq.Option{asynq.Queue(h.queue)}, opts...)...)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := h.client.Enqueue(task)
	if err != nil {
		h.t.Fatalf("enqueue: %v", err)
	}
	return info.ID
}

// created is the payload a webhook for a new issue carries.
func created(is jiratest.Issue, delivery string) worker.TriagePayload {
	return worker.TriagePayload{
		Event: triage.EventIssueCreated, DeliveryID: delivery, ReceivedAt: time.Now(), ActorID: is.Reporter.AccountID,
		Issue: triage.Issue{Key: is.Key, Summary: is.Summary, Description: is.Description, ReporterID: is.Reporter.AccountID, ReporterName: is.Reporter.DisplayName, Labels: is.Labels},
	}
}

// commented is the payload of a comment_created webhook.
func commented(key string, author jiratest.User, body, delivery string) worker.TriagePayload {
	return worker.TriagePayload{
		Event: triage.EventCommentCreated, DeliveryID: delivery, ReceivedAt: time.Now(), ActorID: author.AccountID,
		Issue:   triage.Issue{Key: key},
		Comment: &triage.Comment{AuthorID: author.AccountID, AuthorName: author.DisplayName, Body: body},
	}
}

// state reads the triage state property the fake Jira holds.
func (h *harness) state(key string) triage.State {
	h.t.Helper()
	raw, ok := h.jira.Property(key, "triage")
	if !ok {
		return triage.State{}
	}
	var s triage.State
	if err := json.Unmarshal(raw, &s); err != nil {
		h.t.Fatal(err)
	}
	return s
}

// botComments are the comments the bot posted on an issue.
func (h *harness) botComments(key string) []jiratest.Comment {
	var out []jiratest.Comment
	for _, c := range h.jira.Comments(key) {
		if c.Author.AccountID == botUser.AccountID {
			out = append(out, c)
		}
	}
	return out
}

// calls counts the fake's calls for an issue: reads and writes.
func (h *harness) calls(key string) (reads, writes int) {
	for _, c := range h.jira.Calls() {
		if c.Issue != key {
			continue
		}
		if c.Method == "GET" {
			reads++
		} else {
			writes++
		}
	}
	return reads, writes
}

type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}
