package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/worker"
)

// QueuedResult is what the memory check measured.
type QueuedResult struct {
	Tasks                      int
	StartRSSMiB, PeakRSSMiB    float64
	MaxSampledMiB              float64
	Drain                      time.Duration
	DrainPerSec                float64
	WritesPerReplied           float64
	Replied, Processed, Failed int
	Queue, Project             string
}

// Line is the one-line summary that ends the memory check.
func (r QueuedResult) Line() string {
	return fmt.Sprintf("queued: tasks=%d worker_rss_start_mib=%s worker_rss_peak_mib=%s drain_per_s=%s jira_writes_per_ticket=%s",
		r.Tasks, num(r.StartRSSMiB), num(r.PeakRSSMiB), num(r.DrainPerSec), num(r.WritesPerReplied))
}

// RunQueued is the memory check: o.Queued triage tasks enqueued with no
// worker running (the payloads the intake would build), then a separate
// worker process (o.WorkerArgv) started on them; its RSS is sampled while
// it drains the backlog.
func RunQueued(ctx context.Context, out io.Writer, o Options) (QueuedResult, error) {
	o.defaults()
	res := QueuedResult{Tasks: o.Queued}
	if len(o.WorkerArgv) == 0 {
		return res, errors.New("bench: say which worker process drains the backlog")
	}
	f, err := newFixture(o.Queued, o.Samples)
	if err != nil {
		return res, err
	}
	defer f.fake.Close()
	res.Queue, res.Project = f.queue, f.proj
	r, err := connect(ctx, o.RedisURL)
	if err != nil {
		return res, err
	}
	defer r.close()
	r.prefix = redisstore.SitePrefix(f.fake.URL())
	defer r.cleanup(f.proj, r.auditEnd(ctx), f.queue)

	fmt.Fprintf(out, "triage bench --queued: %d triage tasks enqueued with no worker, then drained by a separate worker process (%s, concurrency %d), Redis %s\n",
		o.Queued, strings.Join(o.WorkerArgv, " "), o.Concurrency, redactURL(o.RedisURL))
	if err := f.enqueueBacklog(ctx, r); err != nil {
		return res, err
	}
	w, err := startWorker(ctx, f, o)
	if err != nil {
		return res, err
	}
	start := time.Now()
	var firstAt time.Time
	res.Processed, err = f.waitProcessed(w.ctx, r.insp, time.Now().Add(o.Timeout), func(done int) {
		_, rss := procRSS(w.pid)
		res.MaxSampledMiB = max(res.MaxSampledMiB, rss)
		if done > 0 && firstAt.IsZero() {
			firstAt, res.StartRSSMiB = time.Now(), rss
		}
	})
	// VmHWM lags VmRSS a little (the kernel batches its counters): the
	// peak is the larger of it and the largest sample
	hwm, _ := procRSS(w.pid)
	res.PeakRSSMiB = max(hwm, res.MaxSampledMiB)
	if werr := w.stop(); werr != nil {
		return res, werr
	}
	if err != nil {
		return res, fmt.Errorf("drain: %w", err)
	}
	res.Drain = time.Since(start)
	if !firstAt.IsZero() {
		res.Drain = time.Since(firstAt)
	}
	res.DrainPerSec = float64(res.Processed) / res.Drain.Seconds()
	var br Result
	f.analyse(&br, make([]time.Time, len(f.tickets)))
	res.Replied, res.WritesPerReplied = br.Replied, br.WritesPerReplied
	if info, err := r.insp.GetQueueInfo(f.queue); err == nil {
		res.Failed = info.Failed + info.Archived
	}
	res.print(out, w, hwm)
	return res, nil
}

// enqueueBacklog enqueues a triage task per ticket, as the intake would,
// with no worker running.
func (f *fixture) enqueueBacklog(ctx context.Context, r *redisConns) error {
	var next, nerr atomic.Int64
	var wg sync.WaitGroup
	now := time.Now()
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(f.tickets) || ctx.Err() != nil {
					return
				}
				t := f.tickets[i]
				u := f.users[t.Reporter]
				task, err := worker.NewTriageTask(worker.TriagePayload{
					Event: triage.EventIssueCreated, DeliveryID: "bench-" + t.Key, ReceivedAt: now, ActorID: u.AccountID,
					Issue: triage.Issue{Key: t.Key, Summary: t.Summary, Description: t.Description, ReporterID: u.AccountID, ReporterName: u.DisplayName},
				}, asynq.Queue(f.queue))
				if err == nil {
					_, err = r.client.EnqueueContext(ctx, task)
				}
				if err != nil {
					nerr.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := nerr.Load(); n > 0 {
		return fmt.Errorf("%d of %d enqueues failed", n, len(f.tickets))
	}
	if info, err := r.insp.GetQueueInfo(f.queue); err != nil || info.Pending != len(f.tickets) {
		return fmt.Errorf("the queue holds %v pending tasks, want %d (%v)", info, len(f.tickets), err)
	}
	return nil
}

// workerProc is the worker process of the memory check. Its ctx ends when
// the process exits early, so that a dead worker ends the wait at once.
type workerProc struct {
	cmd    *exec.Cmd
	pid    string
	logs   *logCounter
	stderr *tailBuffer
	exited chan error
	ctx    context.Context
	cancel context.CancelFunc
	watch  chan error // the early exit, or errRunning
}

var errRunning = errors.New("running")

// startWorker starts o.WorkerArgv on the fixture's queue and fake Jira.
func startWorker(ctx context.Context, f *fixture, o Options) (*workerProc, error) {
	w := &workerProc{logs: &logCounter{}, stderr: &tailBuffer{}, exited: make(chan error, 1), watch: make(chan error, 1)}
	w.cmd = exec.CommandContext(ctx, o.WorkerArgv[0], o.WorkerArgv[1:]...)
	w.cmd.Env = []string{
		"REDIS_URL=" + o.RedisURL, "JIRA_BASE_URL=" + f.fake.URL(), "JIRA_EMAIL=" + benchEmail, "JIRA_API_TOKEN=" + benchToken,
		"TRIAGE_BOT_ACCOUNT_ID=" + f.bot.AccountID, "TRIAGE_QUEUE=" + f.queue, "TRIAGE_CONCURRENCY=" + strconv.Itoa(o.Concurrency),
		"TRIAGE_LISTEN=127.0.0.1:0", "TRIAGE_FOLLOWUP_WINDOW=1h", "TRIAGE_SHUTDOWN_TIMEOUT=5s", "TRIAGE_LOG_LEVEL=" + o.LogLevel,
	}
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			w.cmd.Env = append(w.cmd.Env, k+"="+v)
		}
	}
	w.cmd.Env = append(w.cmd.Env, o.WorkerEnv...)
	w.cmd.Stdout, w.cmd.Stderr = io.Discard, io.MultiWriter(w.logs, w.stderr)
	if err := w.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the worker: %w", err)
	}
	go func() { w.exited <- w.cmd.Wait() }()
	w.pid = strconv.Itoa(w.cmd.Process.Pid)
	w.ctx, w.cancel = context.WithCancel(ctx)
	go func() {
		select {
		case err := <-w.exited:
			w.cancel()
			w.watch <- fmt.Errorf("the worker exited early (%v): %s", err, w.stderr.String())
		case <-w.ctx.Done():
			w.watch <- errRunning
		}
	}()
	return w, nil
}

// stop returns the early exit if there was one; else it stops the worker
// with SIGTERM, killing it when it has not exited 15 seconds later.
func (w *workerProc) stop() error {
	w.cancel()
	if err := <-w.watch; err != errRunning {
		return err
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(15 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
	return nil
}

// print writes the memory check's figures and its summary line.
func (r QueuedResult) print(out io.Writer, w *workerProc, hwm float64) {
	warns, first := w.logs.counts()
	fmt.Fprintf(out, "  worker process pid %s: %d tickets processed (replied %d), tasks failed %d, warnings and errors %d\n", w.pid, r.Processed, r.Replied, r.Failed, warns)
	for _, l := range first {
		fmt.Fprintf(out, "      %s\n", l)
	}
	fmt.Fprintf(out, "    RSS when it started processing  %s MiB (backlog of %d)\n", num(r.StartRSSMiB), r.Tasks)
	fmt.Fprintf(out, "    peak RSS over the drain         %s MiB (VmHWM %s MiB, largest VmRSS sample %s MiB); target ≤ 64 MiB: %s\n",
		num(r.PeakRSSMiB), num(hwm), num(r.MaxSampledMiB), verdict(r.PeakRSSMiB <= 64))
	fmt.Fprintf(out, "    drained in %s s (%s tickets/s), %s Jira writes per replied ticket\n", num(r.Drain.Seconds()), num(r.DrainPerSec), num(r.WritesPerReplied))
	fmt.Fprintln(out, r.Line())
}
