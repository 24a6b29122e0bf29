package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

// scaleRun is one phase of TestThreeWorkers.
type scaleRun struct {
	workers       int
	concurrency   int
	tickets       int
	p10, p50, p90 time.Duration // until 10 %, half, 90 % of the tickets showed their outcome
	all           time.Duration // until every ticket did
	quiet         time.Duration // until the queue was empty as well
	out           outcome
	// CPU used until every ticket showed its outcome: the worker
	// processes, Redis, the test process (fake Jira, the webhooks' client
	// side, the polling of the outcome)
	cpuWorkers, cpuRedis, cpuTest time.Duration
}

func (r scaleRun) perSecond() float64 { return float64(r.tickets) / r.all.Seconds() }

// steadyPerSecond is the rate between 10 % and 90 %: without the workers'
// start and the last stragglers.
func (r scaleRun) steadyPerSecond() float64 {
	return 0.8 * float64(r.tickets) / (r.p90 - r.p10).Seconds()
}

// TestThreeWorkers runs the same tickets through 1 worker process, then
// through 3 worker processes on one Redis, and checks the exactly-once
// outcome of each: 20 % of the webhooks delivered twice or more, and for
// another 20 % of the tickets a poll task (as the JQL poller makes)
// enqueued beside the webhook, so that two workers race for one ticket.
// The webhooks are queued before the workers start; the time is from the
// workers' start to the last ticket's outcome in Jira. The fake Jira adds
// 2–10 ms of latency per call and no errors: this measures the worker,
// not Jira's fault handling. It is not parallel: it measures throughput.
func TestThreeWorkers(t *testing.T) {
	testStart := time.Now()
	n := 1000
	if v := os.Getenv("CHAOS_SCALE_TICKETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			t.Fatalf("CHAOS_SCALE_TICKETS=%q: want a whole number of at least 10", v)
		}
	}
	e := newEnv(t)
	qr := e.startQueueRedis()
	redisProc, redisAddr, rdb, insp, aclient := qr.proc, qr.addr, qr.rdb, qr.insp, qr.client
	seedN := uint64(time.Now().UnixNano())
	fake := startFakeJira(t, seedN, reporters...)
	fake.SetFaults(jiratest.Faults{Latency: 2 * time.Millisecond, LatencyJitter: 8 * time.Millisecond})

	// two rounds of: 1 worker process, 3 worker processes (concurrency 10
	// each), and 1 process with concurrency 30 (as many tasks in flight as
	// the 3), each on fresh tickets with the same texts
	type config struct{ workers, concurrency int }
	configs := []config{{1, 10}, {3, 10}, {1, 30}}
	var runs []scaleRun
	for round := range 2 {
		for _, c := range configs {
			proj := fmt.Sprintf("W%dC%dR%d", c.workers, c.concurrency, round+1)
			r := runScalePhase(t, e, fake, rdb, insp, aclient, redisProc.cmd.Process.Pid, redisAddr, proj, c.workers, c.concurrency, n, seedN+uint64(100*round+10*c.workers+c.concurrency))
			runs = append(runs, r)
			if t.Failed() {
				break
			}
		}
	}
	for _, r := range runs {
		t.Logf("%d worker process(es) × concurrency %d: %d tickets, 10 %% in %v, half in %v, 90 %% in %v, all in %v, queue empty at %v: %.0f tickets/s overall, %.0f/s between 10 and 90 %%; CPU until done: workers %v, Redis %v, test process %v (%.2f cores busy); lost %d, duplicate comments %d, duplicate escalations %d",
			r.workers, r.concurrency, r.tickets, r.p10.Round(time.Millisecond), r.p50.Round(time.Millisecond), r.p90.Round(time.Millisecond), r.all.Round(time.Millisecond), r.quiet.Round(time.Millisecond),
			r.perSecond(), r.steadyPerSecond(), r.cpuWorkers, r.cpuRedis, r.cpuTest, (r.cpuWorkers+r.cpuRedis+r.cpuTest).Seconds()/r.all.Seconds(),
			len(r.out.lost), r.out.dupComments, r.out.dupEsc)
	}
	if len(runs) == 2*len(configs) {
		rate := map[config]float64{}
		steady := map[config]float64{}
		lost, dupC, dupE := 0, 0, 0
		for _, r := range runs {
			c := config{r.workers, r.concurrency}
			rate[c] += r.perSecond() / 2
			steady[c] += r.steadyPerSecond() / 2
			lost, dupC, dupE = lost+len(r.out.lost), dupC+r.out.dupComments, dupE+r.out.dupEsc
		}
		one, three, wide := rate[configs[0]], rate[configs[1]], rate[configs[2]]
		t.Logf("mean of 2 rounds: 1×10 %.0f/s (steady %.0f), 3×10 %.0f/s (steady %.0f), 1×30 %.0f/s (steady %.0f)",
			one, steady[configs[0]], three, steady[configs[1]], wide, steady[configs[2]])
		line := fmt.Sprintf("scale: tickets=%d one_worker_per_s=%.0f three_workers_per_s=%.0f gain=%.2fx one_worker_concurrency30_per_s=%.0f lost=%d duplicate_comments=%d duplicate_escalations=%d cores=%d",
			n, one, three, three/one, wide, lost, dupC, dupE, numCPU())
		t.Logf("took %v", time.Since(testStart).Round(time.Second))
		t.Log(line)
		fmt.Println(line)
	}
}

func runScalePhase(t *testing.T, e *env, fake *fakeJira, rdb redis.UniversalClient, insp *asynq.Inspector, aclient *asynq.Client,
	redisPid int, redisAddr, proj string, workers, concurrency, n int, seedN uint64) scaleRun {
	t.Helper()
	rng := rand.New(rand.NewPCG(seedN, 11))
	queue := fmt.Sprintf("scale-%s-%08x", strings.ToLower(proj), rng.Uint32())
	tickets := makeTickets(t, proj, n)
	seed(fake, tickets)
	cfg := triageConfig{redisURL: "redis://" + redisAddr + "/0", jiraURL: fake.url, queue: queue, concurrency: concurrency}
	intakeProc, intakeURL := e.startIntake(cfg)
	defer intakeProc.stop(5 * time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// queue everything first: the webhooks (20 % twice or more) and, for
	// 20 % of the tickets, a poll task right behind the webhook's task, as
	// the JQL poller would enqueue it, so that two workers take the ticket
	// at the same time and the per-ticket lock must keep one out
	s := newSender(intakeURL)
	plans := planDeliveries(tickets, 0.20, rng)
	var polls atomic.Int64
	var pollErr atomic.Value
	for _, p := range plans {
		p.late, p.delayed = false, false // every duplicate at once: the workers are not running yet
		if rng.Float64() >= 0.20 {
			continue
		}
		tk := p.tk
		payload := worker.TriagePayload{
			Event: triage.EventPoll, DeliveryID: fmt.Sprintf("poll:%s:%d", tk.key, tk.issue.Updated.UnixMilli()), ReceivedAt: time.Now(),
			Issue: triage.Issue{Key: tk.key, ID: tk.issue.ID, Summary: tk.issue.Summary, Description: tk.issue.Description,
				ReporterID: tk.reporter.AccountID, ReporterName: tk.reporter.DisplayName, Status: "Open", Updated: tk.issue.Updated},
		}
		p.after = func() {
			task, err := worker.NewTriageTask(payload, asynq.Queue(queue))
			if err == nil {
				_, err = aclient.EnqueueContext(ctx, task)
			}
			if err != nil {
				pollErr.Store(err)
				return
			}
			polls.Add(1)
		}
	}
	var bg sync.WaitGroup
	s.sendAll(ctx, plans, 8, &bg)
	bg.Wait()
	if err, _ := pollErr.Load().(error); err != nil {
		t.Fatalf("enqueue a poll task: %v", err)
	}
	qc, err := countQueue(ctx, rdb, queue)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d tickets (%s), %d deliveries (%d duplicates), %d poll tasks; %d tasks pending before the workers start",
		proj, n, actionMix(tickets), s.deliveries.Load(), s.duplicates.Load(), polls.Load(), qc.pending)

	// start the workers and wait on the outcome
	start := time.Now()
	redisCPU0, testCPU0 := cpuTime(redisPid), selfCPU()
	slots := make([]*workerSlot, workers)
	for i := range slots {
		slots[i] = e.startWorker(i+1+10*workers+100*concurrency, cfg)
	}
	r := scaleRun{workers: workers, concurrency: concurrency, tickets: n}
	for {
		o, err := evaluate(ctx, fake, rdb, false, queue, tickets)
		if err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		if r.p10 == 0 && o.complete*10 >= n {
			r.p10 = el
		}
		if r.p50 == 0 && o.complete*2 >= n {
			r.p50 = el
		}
		if r.p90 == 0 && o.complete*10 >= 9*n {
			r.p90 = el
		}
		if r.all == 0 && o.complete == n {
			r.all = el
			r.cpuRedis, r.cpuTest = cpuTime(redisPid)-redisCPU0, selfCPU()-testCPU0
			for _, w := range slots {
				r.cpuWorkers += cpuTime(w.cur.cmd.Process.Pid)
			}
		}
		if r.all != 0 {
			q, err := countQueue(ctx, rdb, queue)
			if err == nil && q.busy() == 0 {
				r.quiet = el
				break
			}
		}
		if ctx.Err() != nil {
			t.Errorf("%s: %d/%d tickets complete when the time ran out", proj, o.complete, n)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, w := range slots {
		w.mu.Lock()
		p := w.cur
		w.mu.Unlock()
		p.stop(10 * time.Second)
		if p.err != nil && !strings.Contains(p.err.Error(), "signal") {
			t.Errorf("worker %s exited with %v", p.name, p.err)
		}
	}
	o, err := evaluate(context.Background(), fake, rdb, true, queue, tickets)
	if err != nil {
		t.Fatal(err)
	}
	r.out = o
	check(t, e, fake, proj, o)
	if twice := s.acceptedTwice(); len(twice) > 0 {
		t.Errorf("%s: the intake enqueued %d deliveries more than once: %s", proj, len(twice), strings.Join(first(twice, 10), " "))
	}
	return r
}

// check fails the test on any exactly-once violation of an outcome.
func check(t *testing.T, e *env, fake *fakeJira, what string, o outcome) {
	t.Helper()
	if len(o.lost) > 0 {
		t.Errorf("%s: %d tickets lost: %s; missing: %s", what, len(o.lost), strings.Join(first(o.lost, 20), " "), o.missingSummary())
		explain(t, e, fake, "lost", o.lost)
	}
	if o.dupComments > 0 {
		t.Errorf("%s: %d duplicate bot comments on %s", what, o.dupComments, strings.Join(first(o.dupTickets, 20), " "))
		explain(t, e, fake, "duplicate-comment", o.dupTickets)
	}
	if o.dupEsc > 0 {
		t.Errorf("%s: %d duplicate escalation records: %s", what, o.dupEsc, strings.Join(first(o.dupEscKeys, 20), " "))
		explain(t, e, fake, "duplicate-escalation", o.dupEscKeys)
	}
	if len(o.wrongLabels) > 0 {
		t.Errorf("%s: %d triage labels the verdict does not call for: %s", what, len(o.wrongLabels), strings.Join(first(o.wrongLabels, 20), " "))
		keys := make([]string, 0, len(o.wrongLabels))
		for _, kl := range o.wrongLabels {
			k, _, _ := strings.Cut(kl, ":")
			keys = append(keys, k)
		}
		explain(t, e, fake, "wrong-label", keys)
	}
	if len(o.lostFollowup) > 0 {
		t.Errorf("%s: %d replied tickets have no follow-up scheduled (their timeout escalation is lost): %s", what, len(o.lostFollowup), strings.Join(first(o.lostFollowup, 20), " "))
		explain(t, e, fake, "lost-follow-up", o.lostFollowup)
	}
}
