package intake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/redistest"
	"github.com/mfatriage/triage/worker"
)

const (
	testSecret = "It's a Secret to Everybody"
	botID      = "557058:bot"
)

// testRedis returns the connection options of the test Redis. A missing
// Redis fails the test: it is never skipped.
func testRedis(t testing.TB) (asynq.RedisConnOpt, *redis.Options) {
	t.Helper()
	ropts := redistest.Options(t)
	return redistest.AsynqOpt(ropts), ropts
}

var queueSeq atomic.Int64

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]+`)

// testQueue is a queue of the test's own: a unique name, an asynq client
// that enqueues to Redis and an inspector to look at what was enqueued.
type testQueue struct {
	name   string
	client *asynq.Client
	insp   *asynq.Inspector
	rdb    *redis.Client
}

func newTestQueue(t *testing.T) *testQueue {
	t.Helper()
	opt, ropts := testRedis(t)
	name := fmt.Sprintf("intake-test-%s-%d-%d", strings.Trim(nonWord.ReplaceAllString(t.Name(), "-"), "-"), os.Getpid(), queueSeq.Add(1))
	q := &testQueue{name: name, client: asynq.NewClient(opt), insp: asynq.NewInspector(opt), rdb: redis.NewClient(ropts)}
	t.Cleanup(func() {
		if err := q.insp.DeleteQueue(name, true); err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			t.Errorf("delete queue %s: %v", name, err)
		}
		q.client.Close()
		q.insp.Close()
		q.rdb.Close()
	})
	return q
}

// pending returns the payloads of the queue's pending tasks, ordered by
// delivery id, and their task ids.
func (q *testQueue) pending(t *testing.T) ([]worker.TriagePayload, []string) {
	t.Helper()
	infos, err := q.insp.ListPendingTasks(q.name, asynq.PageSize(1000))
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil, nil
	}
	if err != nil {
		t.Fatalf("list pending tasks of %s: %v", q.name, err)
	}
	sort.Slice(infos, func(i, j int) bool { return infos[i].ID < infos[j].ID })
	var ps []worker.TriagePayload
	var ids []string
	for _, in := range infos {
		if in.Type != worker.TypeTriageTicket {
			t.Fatalf("task %s has type %q, want %q", in.ID, in.Type, worker.TypeTriageTicket)
		}
		var p worker.TriagePayload
		if err := json.Unmarshal(in.Payload, &p); err != nil {
			t.Fatalf("task %s: payload %s: %v", in.ID, in.Payload, err)
		}
		ps = append(ps, p)
		ids = append(ids, in.ID)
	}
	return ps, ids
}

// count is the number of pending tasks.
func (q *testQueue) count(t *testing.T) int {
	t.Helper()
	ps, _ := q.pending(t)
	return len(ps)
}

// agentRecord is one RecordAgent call.
type agentRecord struct {
	Key, AccountID string
	At             time.Time
}

// fakeAgents records RecordAgent calls; err, when set, is returned.
type fakeAgents struct {
	mu      sync.Mutex
	records []agentRecord
	err     error
}

var _ AgentRecorder = (*fakeAgents)(nil)

func (f *fakeAgents) RecordAgent(_ context.Context, key, accountID string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.records = append(f.records, agentRecord{key, accountID, at})
	return nil
}

func (f *fakeAgents) all() []agentRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]agentRecord(nil), f.records...)
}

// fixedNow is the clock of the handler tests.
var fixedNow = time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)

// hookEnv is a webhook handler enqueuing to a test queue.
type hookEnv struct {
	q      *testQueue
	h      *Handler
	agents *fakeAgents
}

func newHookEnv(t *testing.T, mod func(*Config)) *hookEnv {
	t.Helper()
	q := newTestQueue(t)
	cfg := Config{Secret: testSecret, BotAccountID: botID, Queue: q.name, Now: func() time.Time { return fixedNow }}
	if mod != nil {
		mod(&cfg)
	}
	agents := &fakeAgents{}
	h, err := NewHandler(cfg, q.client, agents, PingFunc(func(ctx context.Context) error { return q.client.Ping() }))
	if err != nil {
		t.Fatalf("NewHandler: %v", err)
	}
	return &hookEnv{q: q, h: h, agents: agents}
}

// delivery is one webhook request.
type delivery struct {
	body    string
	id      string // X-Atlassian-Webhook-Identifier; "" for none
	sig     string // X-Hub-Signature; "" signs the body with testSecret, "-" sends none
	method  string // default POST
	headers map[string]string
}

func (d delivery) request() *http.Request {
	method := d.method
	if method == "" {
		method = http.MethodPost
	}
	r := httptest.NewRequest(method, WebhookPath, strings.NewReader(d.body))
	r.Header.Set("Content-Type", "application/json")
	if d.id != "" {
		r.Header.Set(HeaderDeliveryID, d.id)
	}
	switch d.sig {
	case "":
		r.Header.Set(HeaderSignature, Sign(testSecret, []byte(d.body)))
	case "-":
	default:
		r.Header.Set(HeaderSignature, d.sig)
	}
	for k, v := range d.headers {
		r.Header.Set(k, v)
	}
	return r
}

// serve sends d through h and returns the status code and decoded body.
func serve(t testing.TB, h http.Handler, r *http.Request) (int, Response, http.Header) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	var resp Response
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		t.Fatalf("%s %s answered %d with a body that is not JSON: %q", r.Method, r.URL.Path, rec.Code, rec.Body.String())
	}
	if strings.Contains(rec.Body.String(), "\n\n") || strings.Count(rec.Body.String(), "\n") != 1 {
		t.Errorf("answer is not one line: %q", rec.Body.String())
	}
	return rec.Code, resp, rec.Result().Header
}

func (e *hookEnv) send(t *testing.T, d delivery) (int, Response) {
	t.Helper()
	code, resp, _ := serve(t, e.h, d.request())
	return code, resp
}

// closedAddr returns an address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// memQueue is an in-memory Enqueuer for the fuzz tests: it refuses a
// repeated TaskID like asynq, or fails every enqueue when fail is set.
type memQueue struct {
	mu   sync.Mutex
	ids  map[string]bool
	fail bool
}

var _ Enqueuer = (*memQueue)(nil)

var errRedisDown = errors.New("dial tcp 127.0.0.1:1: connect: connection refused")

func (m *memQueue) EnqueueContext(_ context.Context, task *asynq.Task, _ ...asynq.Option) (*asynq.TaskInfo, error) {
	var p worker.TriagePayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail {
		return nil, errRedisDown
	}
	id := worker.TriageTaskID(p.DeliveryID)
	if m.ids[id] {
		return nil, asynq.ErrTaskIDConflict
	}
	if m.ids == nil {
		m.ids = map[string]bool{}
	}
	m.ids[id] = true
	return &asynq.TaskInfo{ID: id}, nil
}
