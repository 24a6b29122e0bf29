package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// chaosPlan is the schedule of one chaos run, from the moment the workers
// start.
type chaosPlan struct {
	killFor  time.Duration // SIGKILL a worker every 1–2 s for this long
	redisAt  time.Duration // kill Redis and start it again then
	redisOff time.Duration // how long Redis stays down
	deadline time.Duration // give up waiting on the outcome then
}

func planFor(t *testing.T, n int) chaosPlan {
	t.Helper()
	// The last kill leaves tasks in flight whose lease asynq recovers
	// 60–120 s later (a recoverer pass at each worker start, then every
	// minute, takes leases expired for 30 s), plus a 15–45 s retry delay:
	// the kills stop ~3 minutes before the deadline.
	// Redis stays down 3 s: longer than go-redis's own retries, so that
	// the intake answers 503 and the webhooks are delivered again.
	p := chaosPlan{killFor: 20 * time.Second, redisAt: 8 * time.Second, redisOff: 3 * time.Second, deadline: 215 * time.Second}
	if n > 500 {
		p.killFor, p.redisAt = 30*time.Second, 15*time.Second
	}
	if v := os.Getenv("CHAOS_KILL_FOR"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("CHAOS_KILL_FOR=%q: %v", v, err)
		}
		p.killFor = d
	}
	return p
}

func TestChaos(t *testing.T) {
	t.Parallel()
	testStart := time.Now()
	n := ticketCount(t, 300)
	plan := planFor(t, n)
	e := newEnv(t)
	seedN := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seedN, 7))
	t.Logf("chaos: %d tickets, seed %d, kills for %v, Redis restart at %v, deadline %v; logs in %s", n, seedN, plan.killFor, plan.redisAt, plan.deadline, e.logDir)

	// Redis with the append-only file, fsync always
	qr := e.startQueueRedis()
	ro, redisProc, redisAddr, rdb, insp, aclient := qr.opts, qr.proc, qr.addr, qr.rdb, qr.insp, qr.client
	queue := fmt.Sprintf("chaos-%08x", rng.Uint32())

	// the fake Jira, seeded, then faulty
	fake := startFakeJira(t, seedN, reporters...)
	tickets := makeTickets(t, "CH", n)
	seed(fake, tickets)
	t.Logf("tickets by expected action/kind: %s", actionMix(tickets))
	fake.SetFaults(jiratest.Faults{ErrorRate: 0.10, RateLimitRate: 0.05, RetryAfter: time.Second, Latency: time.Millisecond, LatencyJitter: 20 * time.Millisecond})
	fake.setChaos(0.02, 0.005, time.Second, 3*time.Second)

	cfg := triageConfig{redisURL: "redis://" + redisAddr + "/0", jiraURL: fake.url, queue: queue}
	_, intakeURL := e.startIntake(cfg)
	workers := []*workerSlot{e.startWorker(1, cfg), e.startWorker(2, cfg)}
	runStart := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), runStart.Add(plan.deadline))
	defer cancel()

	// SIGKILL a worker every 1–2 s, alternately, and start it again
	var kills atomic.Int64
	var chaosErrs sync.Map
	killsDone := make(chan struct{})
	go func() {
		defer close(killsDone)
		for i := 0; time.Since(runStart) < plan.killFor; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(1000+rand.IntN(1000)) * time.Millisecond):
			}
			w := workers[i%len(workers)]
			w.kill()
			kills.Add(1)
			if err := w.restart(); err != nil {
				chaosErrs.Store("restart worker", err)
			}
		}
	}()
	// kill Redis once mid-run and start it again on the same port and dir
	var redisRestarts atomic.Int64
	redisDone := make(chan struct{})
	go func() {
		defer close(redisDone)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(runStart.Add(plan.redisAt))):
		}
		redisProc.kill()
		time.Sleep(plan.redisOff)
		p, err := e.spawnRedis("redis", ro)
		if err != nil {
			chaosErrs.Store("restart redis", err)
			return
		}
		redisProc = p
		redisRestarts.Add(1)
	}()

	// deliver the webhooks as a stream over the first 60 % of the kill
	// window (so that the Redis restart falls in it): 20 % twice or more,
	// some late
	s := newSender(intakeURL)
	s.pace = plan.killFor * 6 / 10 / time.Duration(n)
	plans := planDeliveries(tickets, 0.20, rng)
	var bg sync.WaitGroup
	s.sendLate(ctx, fake, plans, &bg)
	s.sendAll(ctx, plans, 8, &bg)
	sentIn := time.Since(runStart)
	t.Logf("first deliveries done in %v", sentIn.Round(time.Millisecond))

	// wait on the outcome; once the kills are over and the queue's backlog
	// has drained, sweep every 10 s for tickets nobody triaged. In the last
	// 40 s, tasks waiting out a retry delay are run at once (the inspector's
	// "run"), so that nothing is left to write after the count.
	sw := newSweeper(t, fake, rdb, aclient, queue, "CH")
	var (
		o           outcome
		qc          queueCounts
		haveQ       bool
		drained     bool
		nextSweep   time.Time
		nextHurry   time.Time
		hurried     int
		nextLog     = time.Now()
		allDoneAt   time.Duration
		quietAt     time.Duration
		killsOver   bool
		redisIsBack bool
		hurryFrom   = runStart.Add(plan.deadline - 40*time.Second)
	)
	for {
		select {
		case <-killsDone:
			killsOver = true
		default:
		}
		select {
		case <-redisDone:
			redisIsBack = true
		default:
		}
		if got, err := evaluate(ctx, fake, rdb, false, queue, tickets); err == nil {
			o = got
		}
		q, err := countQueue(ctx, rdb, queue)
		if err == nil {
			qc, haveQ = q, true
		}
		if o.complete == n && allDoneAt == 0 {
			allDoneAt = time.Since(runStart)
		}
		if killsOver && redisIsBack && err == nil {
			if !drained && q.pending == 0 {
				drained = true
			}
			if drained && o.complete < n && o.unlabelled > 0 && time.Now().After(nextSweep) {
				k, err := sw.sweep(ctx)
				t.Logf("%6.1fs reconciliation sweep: %d enqueued (err %v)", time.Since(runStart).Seconds(), k, err)
				nextSweep = time.Now().Add(10 * time.Second)
			}
			if o.complete == n && q.busy() == 0 {
				quietAt = time.Since(runStart)
				break
			}
			if time.Now().After(hurryFrom) && q.retry > 0 && time.Now().After(nextHurry) {
				k, err := insp.RunAllRetryTasks(queue)
				if err == nil {
					hurried += k
				}
				nextHurry = time.Now().Add(5 * time.Second)
			}
		}
		if time.Now().After(nextLog) && haveQ {
			t.Logf("%6.1fs complete %d/%d, unlabelled %d; queue pending %d, active %d, retry %d, archived %d; kills %d; webhooks %s",
				time.Since(runStart).Seconds(), o.complete, n, o.unlabelled, qc.pending, qc.active, qc.retry, qc.archived, kills.Load(), s.summary())
			nextLog = time.Now().Add(10 * time.Second)
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	cancel()
	bg.Wait()
	<-killsDone
	<-redisDone
	waited := time.Since(runStart)

	// the final count, with the follow-ups
	final, err := evaluate(context.Background(), fake, rdb, true, queue, tickets)
	if err != nil {
		t.Fatalf("final evaluation: %v", err)
	}
	qc, qerr := countQueue(context.Background(), rdb, queue)
	if qerr != nil {
		t.Logf("queue sizes: %v", qerr)
	} else if qc.busy() > 0 {
		t.Logf("%d tasks still to run when the waiting stopped:\n  %s", qc.busy(), strings.Join(busyTasks(insp, queue, 20), "\n  "))
	}
	faults := fake.faults()
	chaosErrs.Range(func(k, v any) bool { t.Errorf("chaos step %v failed: %v", k, v); return true })

	// report
	t.Logf("run: first deliveries in %v, every ticket complete at %v, queue quiet at %v, stopped waiting at %v (deadline %v); test took %v (binary built in %v)",
		sentIn.Round(time.Millisecond), fmtDur(allDoneAt), fmtDur(quietAt), waited.Round(time.Millisecond), plan.deadline, time.Since(testStart).Round(time.Second), buildTook.Round(time.Millisecond))
	t.Logf("webhooks: %d deliveries (%d duplicates), %d resent after 5xx/network errors, answers %s", s.deliveries.Load(), s.duplicates.Load(), s.retries.Load(), s.summary())
	t.Logf("jira: %d calls, faults: 5xx=%d 429=%d applied-then-504=%d (slow calls %d)", len(fake.Calls()), faults.serverErrors, faults.rateLimits, faults.ambiguous, faults.slow)
	if qerr == nil {
		t.Logf("queue at the end: pending %d, active %d, retry %d, archived %d, scheduled %d (follow-ups)",
			qc.pending, qc.active, qc.retry, qc.archived, qc.scheduled)
	}
	t.Logf("reconciliation: %d sweeps, %d tickets enqueued again, %d sweeps failed; %d retry-scheduled tasks run early in the last 40 s", sw.sweeps, sw.enqueued, sw.failed, hurried)
	t.Logf("worker restarts: %d and %d; worker log lines of tasks run again after a failure or a kill: %d",
		workers[0].runs-1, workers[1].runs-1, e.countLogs("worker-", `"message":"decided"`)-e.countLogs("worker-", `"retried":0,"action"`))
	if twice := s.acceptedTwice(); len(twice) > 0 {
		t.Logf("the intake enqueued %d deliveries more than once (the worker's state must absorb them): %s", len(twice), strings.Join(first(twice, 10), " "))
	}
	if len(s.refused) > 0 {
		t.Errorf("the intake refused %d deliveries: %s", len(s.refused), strings.Join(first(s.refused, 10), "; "))
	}
	check(t, e, fake, "chaos", final)
	if redisRestarts.Load() != 1 {
		t.Errorf("Redis was restarted %d times, want 1", redisRestarts.Load())
	}
	line := fmt.Sprintf("chaos: tickets=%d lost=%d duplicate_comments=%d duplicate_escalations=%d worker_kills=%d redis_restarts=%d jira_faults=%d duplicate_webhooks=%d",
		n, len(final.lost), final.dupComments, final.dupEsc, kills.Load(), redisRestarts.Load(), faults.total(), s.duplicates.Load())
	t.Log(line)
	fmt.Println(line)
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(append([]string(nil), s[:n]...), fmt.Sprintf("(+%d)", len(s)-n))
	}
	return s
}

func fmtDur(d time.Duration) string {
	if d == 0 {
		return "never"
	}
	return d.Round(100 * time.Millisecond).String()
}
