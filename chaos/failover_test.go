package chaos_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

const sentinelMaster = "triage-chaos"

// sentinelSet is a master, a replica and three sentinels on loopback.
type sentinelSet struct {
	master, replica      *proc
	masterAddr, replAddr string
	sentinels            []*proc
	sentinelAddrs        []string
}

// startSentinels starts the master, its replica and 3 sentinels (quorum 2,
// down after 1 s, failover timeout 5 s) and waits until the sentinels know
// the replica and each other, so that a failover can happen.
func startSentinels(t *testing.T, e *env) *sentinelSet {
	t.Helper()
	s := &sentinelSet{}
	mPort, rPort := freePort(t), freePort(t)
	s.masterAddr, s.replAddr = "127.0.0.1:"+strconv.Itoa(mPort), "127.0.0.1:"+strconv.Itoa(rPort)
	// no diskless-sync delay: the replica gets the data set at once
	s.master = e.startRedis("redis-master", redisOpts{port: mPort, dataDir: filepath.Join(e.dir, "master"), extra: []string{"--repl-diskless-sync-delay", "0"}})
	s.replica = e.startRedis("redis-replica", redisOpts{port: rPort, dataDir: filepath.Join(e.dir, "replica"),
		extra: []string{"--replicaof", "127.0.0.1", strconv.Itoa(mPort)}})
	for i := range 3 {
		port := freePort(t)
		dir := filepath.Join(e.dir, fmt.Sprintf("sentinel-%d", i+1))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(dir, "sentinel.conf")
		body := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
protected-mode no
dir %s
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 5000
sentinel parallel-syncs %s 1
`, port, dir, sentinelMaster, mPort, sentinelMaster, sentinelMaster, sentinelMaster)
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		p := e.start(fmt.Sprintf("sentinel-%d", i+1), fmt.Sprintf("sentinel-%d.log", i+1), nil, requireRedis(t), conf, "--sentinel")
		s.sentinels = append(s.sentinels, p)
		s.sentinelAddrs = append(s.sentinelAddrs, "127.0.0.1:"+strconv.Itoa(port))
	}
	// wait for the topology: the replica in sync (a replica that never
	// finished its first sync can still be promoted, with nothing in it),
	// every sentinel seeing the master, the replica and the two other
	// sentinels
	deadline := time.Now().Add(30 * time.Second)
	repl := redis.NewClient(&redis.Options{Addr: s.replAddr})
	defer repl.Close()
	for {
		ok := true
		var why string
		info, err := repl.Info(context.Background(), "replication").Result()
		if err != nil || !strings.Contains(info, "master_link_status:up") {
			ok, why = false, fmt.Sprintf("replica not in sync: %v %s", err, info)
		}
		for _, addr := range s.sentinelAddrs {
			if !ok {
				break
			}
			sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			m, err := sc.Master(ctx, sentinelMaster).Result()
			cancel()
			sc.Close()
			if err != nil {
				ok, why = false, fmt.Sprintf("%s: %v", addr, err)
				break
			}
			if m["num-slaves"] != "1" || m["num-other-sentinels"] != "2" || !strings.HasPrefix(m["flags"], "master") {
				ok, why = false, fmt.Sprintf("%s: flags %s, replicas %s, other sentinels %s", addr, m["flags"], m["num-slaves"], m["num-other-sentinels"])
				break
			}
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sentinels did not settle within 30 s: %s", why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// masterAddr asks the sentinels which address is the master now.
func (s *sentinelSet) currentMaster() string {
	for _, addr := range s.sentinelAddrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		hp, err := sc.GetMasterAddrByName(ctx, sentinelMaster).Result()
		cancel()
		sc.Close()
		if err == nil && len(hp) == 2 {
			return hp[0] + ":" + hp[1]
		}
	}
	return ""
}

// TestSentinelFailover runs intake and 2 workers against Redis Sentinel
// (REDIS_SENTINEL_ADDRS / REDIS_MASTER_NAME), SIGKILLs the master once
// 40 % of the tickets are done, and checks that the workers carry on with
// the promoted replica and that, after the reconciliation sweep, every
// ticket has its outcome exactly once. Replication is asynchronous, so the
// failover may lose the master's last writes: the sweep is what recovers
// a ticket whose task was lost with them.
func TestSentinelFailover(t *testing.T) {
	t.Parallel()
	testStart := time.Now()
	n := ticketCount(t, 300)
	e := newEnv(t)
	ss := startSentinels(t, e)
	t.Logf("master %s, replica %s, sentinels %s; logs in %s", ss.masterAddr, ss.replAddr, strings.Join(ss.sentinelAddrs, ","), e.logDir)

	rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: sentinelMaster, SentinelAddrs: ss.sentinelAddrs})
	t.Cleanup(func() { rdb.Close() })
	rconn := asynq.RedisFailoverClientOpt{MasterName: sentinelMaster, SentinelAddrs: ss.sentinelAddrs}
	insp := asynq.NewInspector(rconn)
	t.Cleanup(func() { insp.Close() })
	aclient := asynq.NewClient(rconn)
	t.Cleanup(func() { aclient.Close() })

	seedN := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seedN, 13))
	fake := startFakeJira(t, seedN, reporters...)
	tickets := makeTickets(t, "FO", n)
	seed(fake, tickets)
	fake.SetFaults(jiratest.Faults{ErrorRate: 0.02, Latency: time.Millisecond, LatencyJitter: 10 * time.Millisecond})
	queue := fmt.Sprintf("failover-%08x", rng.Uint32())
	cfg := triageConfig{sentinels: ss.sentinelAddrs, master: sentinelMaster, jiraURL: fake.url, queue: queue}
	intakeProc, intakeURL := e.startIntake(cfg)
	workers := []*workerSlot{e.startWorker(1, cfg), e.startWorker(2, cfg)}
	runStart := time.Now()
	const deadline = 170 * time.Second
	ctx, cancel := context.WithDeadline(context.Background(), runStart.Add(deadline))
	defer cancel()

	// deliver at ~60 webhooks/s, 20 % twice or more, some late
	s := newSender(intakeURL)
	s.pace = time.Second / 60
	plans := planDeliveries(tickets, 0.20, rng)
	var bg sync.WaitGroup
	s.sendLate(ctx, fake, plans, &bg)
	sendDone := make(chan struct{})
	go func() { defer close(sendDone); s.sendAll(ctx, plans, 8, &bg) }()

	// kill the master once 40 % of the tickets are done
	var killedAt, promotedAt time.Duration
	var doneAtKill int
	for ctx.Err() == nil {
		o, err := evaluate(ctx, fake, rdb, false, queue, tickets)
		if err == nil && o.complete*10 >= 4*n {
			doneAtKill = o.complete
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	ss.master.kill()
	killedAt = time.Since(runStart)
	for ctx.Err() == nil {
		if m := ss.currentMaster(); m == ss.replAddr {
			promotedAt = time.Since(runStart)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%6.1fs master killed with %d/%d tickets done; %6.1fs the replica is the master (failover took %v)",
		killedAt.Seconds(), doneAtKill, n, promotedAt.Seconds(), (promotedAt - killedAt).Round(10*time.Millisecond))
	<-sendDone

	// wait on the outcome; sweep every 10 s once the backlog has drained;
	// in the last 40 s run the retry-scheduled tasks at once
	sw := newSweeper(t, fake, rdb, aclient, queue, "FO")
	var (
		o         outcome
		drained   bool
		nextSweep time.Time
		nextLog   time.Time
		nextHurry time.Time
		hurried   int
		allDoneAt time.Duration
		quietAt   time.Duration
		qc        queueCounts
		hurryFrom = runStart.Add(deadline - 40*time.Second)
	)
	for {
		if got, err := evaluate(ctx, fake, rdb, false, queue, tickets); err == nil {
			o = got
		}
		q, err := countQueue(ctx, rdb, queue)
		if err == nil {
			qc = q
			if !drained && q.pending == 0 {
				drained = true
			}
		}
		if o.complete == n && allDoneAt == 0 {
			allDoneAt = time.Since(runStart)
		}
		if err == nil && o.complete == n && q.busy() == 0 {
			quietAt = time.Since(runStart)
			break
		}
		if drained && o.complete < n && o.unlabelled > 0 && time.Now().After(nextSweep) {
			k, err := sw.sweep(ctx)
			t.Logf("%6.1fs reconciliation sweep: %d enqueued (err %v)", time.Since(runStart).Seconds(), k, err)
			nextSweep = time.Now().Add(10 * time.Second)
		}
		if err == nil && time.Now().After(hurryFrom) && q.retry > 0 && time.Now().After(nextHurry) {
			if k, err := insp.RunAllRetryTasks(queue); err == nil {
				hurried += k
			}
			nextHurry = time.Now().Add(5 * time.Second)
		}
		if time.Now().After(nextLog) {
			t.Logf("%6.1fs complete %d/%d, unlabelled %d; queue pending %d, active %d, retry %d, archived %d; webhooks %s",
				time.Since(runStart).Seconds(), o.complete, n, o.unlabelled, qc.pending, qc.active, qc.retry, qc.archived, s.summary())
			nextLog = time.Now().Add(10 * time.Second)
		}
		if ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	cancel()
	bg.Wait()

	for _, w := range workers {
		if !w.alive() {
			t.Errorf("worker %d exited during the failover: %v\n%s", w.n, w.cur.err, e.tail(w.logName(), 20))
		}
	}
	if !intakeProc.alive() {
		t.Errorf("the intake exited during the failover: %v\n%s", intakeProc.err, e.tail("intake.log", 20))
	}
	final, err := evaluate(context.Background(), fake, rdb, true, queue, tickets)
	if err != nil {
		t.Fatalf("final evaluation: %v", err)
	}
	check(t, e, fake, "failover", final)
	faults := fake.faults()
	t.Logf("run: master killed at %v, failover %v, every ticket complete at %v, queue quiet at %v; test took %v",
		killedAt.Round(100*time.Millisecond), (promotedAt - killedAt).Round(10*time.Millisecond), fmtDur(allDoneAt), fmtDur(quietAt), time.Since(testStart).Round(time.Second))
	t.Logf("webhooks: %d deliveries (%d duplicates), %d resent after 5xx/network errors, answers %s", s.deliveries.Load(), s.duplicates.Load(), s.retries.Load(), s.summary())
	t.Logf("jira: %d calls, 5xx faults %d; reconciliation: %d sweeps, %d tickets enqueued again; %d retry-scheduled tasks run early in the last 40 s",
		len(fake.Calls()), faults.serverErrors, sw.sweeps, sw.enqueued, hurried)
	if qc, err := countQueue(context.Background(), rdb, queue); err == nil && qc.busy() > 0 {
		t.Logf("%d tasks still to run when the waiting stopped:\n  %s", qc.busy(), strings.Join(busyTasks(insp, queue, 20), "\n  "))
	}
	if twice := s.acceptedTwice(); len(twice) > 0 {
		t.Logf("the intake enqueued %d deliveries more than once (Redis lost their task ids in the failover): %s", len(twice), strings.Join(first(twice, 10), " "))
	}
	line := fmt.Sprintf("failover: tickets=%d lost=%d duplicate_comments=%d duplicate_escalations=%d failover_s=%.1f reconciled=%d duplicate_webhooks=%d",
		n, len(final.lost), final.dupComments, final.dupEsc, (promotedAt - killedAt).Seconds(), sw.enqueued, s.duplicates.Load())
	t.Log(line)
	fmt.Println(line)
}
