package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

// benchOptions are the flags of `triage bench`.
type benchOptions struct {
	tickets     int
	rate        float64 // tickets/s; 0 = as fast as the senders go
	senders     int     // goroutines posting webhooks when rate is 0
	concurrency int
	redisURL    string
	timeout     time.Duration
	logLevel    string
	cpuProfile  string
	memProfile  string
	// taskCheckInterval, when set, runs the worker with this asynq
	// TaskCheckInterval instead of through serve (a what-if).
	taskCheckInterval time.Duration
	// jiraIdleConns, when set, raises http.DefaultTransport's idle
	// connections per host, which the Jira client uses (a what-if).
	jiraIdleConns int
	// queued, when set, runs the memory check instead of the pipeline.
	queued    int
	workerBin string
	// workerArgv and workerEnv, when set, replace "<workerBin> worker" and
	// extend the worker's environment (the test runs its own binary).
	workerArgv []string
	workerEnv  []string
}

func (o *benchOptions) defaults() {
	if o.tickets <= 0 {
		o.tickets = 1000
	}
	if o.senders <= 0 {
		o.senders = 8
	}
	if o.concurrency <= 0 {
		o.concurrency = 10
	}
	if o.redisURL == "" {
		o.redisURL = os.Getenv("TEST_REDIS_URL")
	}
	if o.redisURL == "" {
		o.redisURL = "redis://127.0.0.1:6379/14"
	}
	if o.timeout <= 0 {
		o.timeout = 5 * time.Minute
	}
	if o.logLevel == "" {
		o.logLevel = "info"
	}
}

func newBenchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark the pipeline (webhook → intake → Redis → worker → fake Jira) against raw asynq",
		Long: `bench runs the webhook intake and the worker in this process (the code of
triage serve) against a real Redis and a fake Jira on loopback, posts N
tickets as signed webhooks (the 20 demo tickets, repeated under unique
keys), waits until every ticket has its triage label, and reports tickets/s,
the webhook → comment latency (send time → the fake's time of the write that
carried the comment), the Jira writes per replied ticket and the process's
peak RSS. Then, on the same Redis, it measures raw asynq: N no-op tasks
enqueued, then processed by an asynq server at the same concurrency. It ends
with one line: pipeline: tickets_per_s=… raw_asynq_per_s=… ratio=… p50_ms=…
p99_ms=… jira_writes_per_ticket=… rss_mib=…

With --queued N it runs the memory check instead: N triage tasks are
enqueued with no worker running, then a separate "triage worker" process
drains them, and bench reports that process's RSS when it starts processing
and its peak (VmHWM) over the drain.

Everything runs on a queue and a project key of its own, deleted from Redis
at the end. The Redis defaults to TEST_REDIS_URL, else
redis://127.0.0.1:6379/14.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.queued > 0 {
				_, err := runBenchQueued(cmd.Context(), cmd.OutOrStdout(), o)
				return err
			}
			_, err := runBench(cmd.Context(), cmd.OutOrStdout(), o)
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.tickets, "tickets", 1000, "tickets to send (and no-op tasks for the raw asynq baseline)")
	f.Float64Var(&o.rate, "rate", 0, "send this many tickets per second (0: as fast as the senders go)")
	f.IntVar(&o.senders, "senders", 8, "goroutines posting webhooks when --rate is 0")
	f.IntVar(&o.concurrency, "concurrency", 10, "worker concurrency, for the pipeline and the raw asynq baseline")
	f.StringVar(&o.redisURL, "redis", "", "Redis URL (default TEST_REDIS_URL, else redis://127.0.0.1:6379/14)")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up when the tickets are not all processed by then")
	f.StringVar(&o.logLevel, "log-level", "info", "level of the worker's and intake's logs, which are formatted and discarded (warnings and errors are counted)")
	f.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the pipeline phase to this file")
	f.StringVar(&o.memProfile, "memprofile", "", "write a heap profile at the end of the pipeline phase to this file")
	f.DurationVar(&o.taskCheckInterval, "task-check-interval", 0, "what-if: run the worker with this asynq TaskCheckInterval (default: TRIAGE_TASK_CHECK_INTERVAL, 20ms)")
	f.IntVar(&o.jiraIdleConns, "jira-idle-conns", 0, "what-if: keep this many idle connections per host in http.DefaultTransport, under the Jira client (serve keeps max(concurrency, 16))")
	f.IntVar(&o.queued, "queued", 0, "memory check: enqueue this many triage tasks, then measure a separate worker process draining them")
	f.StringVar(&o.workerBin, "worker-bin", "", "the triage binary run as the worker by --queued (default: this executable)")
	return cmd
}

// benchResult is what one pipeline run measured.
type benchResult struct {
	Tickets, Processed        int
	Replied, Escalated, Human int
	Resolved                  int
	WebhookErrors             int
	FirstWebhookError         string
	Failed                    int // attempts that failed, and tasks archived
	SendElapsed, Elapsed      time.Duration
	TicketsPerSec, SentPerSec float64
	// BusyPerSec is the worker's rate from the first Jira write to the
	// last: the throughput without the wait before the first pickup.
	BusyPerSec                  float64
	P50, P95, P99, Max          time.Duration
	LatencySamples              int
	JiraCalls, JiraWrites       int
	WritesPerReplied            float64
	CallsPerTicket              float64
	RSSPeakMiB, RSSNowMiB       float64
	HeapInuseMiB                float64
	Warnings                    int
	FirstWarnings               []string
	RawTasks                    int
	RawElapsed                  time.Duration
	RawPerSec, RawEnqueuePerSec float64
	Ratio                       float64
	Queue, RawQueue, Project    string
}

// Line is the one-line summary that ends a run.
func (r benchResult) Line() string {
	return fmt.Sprintf("pipeline: tickets_per_s=%s raw_asynq_per_s=%s ratio=%s p50_ms=%s p99_ms=%s jira_writes_per_ticket=%s rss_mib=%s",
		num(r.TicketsPerSec), num(r.RawPerSec), num(r.Ratio), ms(r.P50), ms(r.P99), num(r.WritesPerReplied), num(r.RSSPeakMiB))
}

// num prints at most two decimals.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func ms(d time.Duration) string { return num(float64(d) / float64(time.Millisecond)) }

// benchFixture is what both modes share: the sample tickets under unique
// keys, the fake Jira holding them, a queue and a project of their own.
type benchFixture struct {
	tickets []demoTicket // tickets[i] is ticket i, Key set
	users   map[string]jiratest.User
	bot     jiratest.User
	fake    *jiratest.Server
	proj    string
	queue   string
	rawQ    string
	secret  string
}

const (
	benchEmail = "bot@example.com"
	benchToken = "bench-token"
)

func newBenchFixture(n int) (*benchFixture, error) {
	var samples []demoTicket
	if err := json.Unmarshal(demoTickets, &samples); err != nil {
		return nil, fmt.Errorf("demo tickets: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	f := &benchFixture{
		users:  map[string]jiratest.User{},
		bot:    jiratest.User{AccountID: "bench-bot", DisplayName: "Triage Bot", EmailAddress: benchEmail},
		proj:   "B",
		queue:  "bench-" + id,
		rawQ:   "bench-raw-" + id,
		secret: randomToken(),
	}
	for _, c := range b[:5] {
		f.proj += string(rune('A' + c%26))
	}
	var all []jiratest.User
	for _, t := range samples {
		if _, ok := f.users[t.Reporter]; !ok {
			u := jiratest.User{AccountID: "bench-" + t.Reporter, DisplayName: strings.ToUpper(t.Reporter[:1]) + t.Reporter[1:] + " Example"}
			f.users[t.Reporter] = u
			all = append(all, u)
		}
	}
	f.fake = jiratest.New(jiratest.WithBasicAuth(benchEmail, benchToken, f.bot), jiratest.WithUsers(all...))
	f.tickets = make([]demoTicket, n)
	for i := range f.tickets {
		t := samples[i%len(samples)]
		t.Key = f.proj + "-" + strconv.Itoa(i+1)
		f.tickets[i] = t
		f.fake.AddIssue(jiratest.Issue{Key: t.Key, Summary: t.Summary, Description: t.Description, Reporter: f.users[t.Reporter]})
	}
	return f, nil
}

// config is the configuration of the app under test.
func (f *benchFixture) config(o benchOptions) config {
	cfg := config{
		RedisURL: o.redisURL, JiraBaseURL: f.fake.URL(), JiraEmail: benchEmail, JiraAPIToken: benchToken,
		BotAccountID: f.bot.AccountID, WebhookSecret: f.secret, Queue: f.queue, Concurrency: o.concurrency,
		ShutdownTimeout: 5 * time.Second, FollowupWindow: time.Hour, LogLevel: o.logLevel,
	}
	cfg.defaults()
	return cfg
}

// labelled reports whether the bot has acted on the ticket.
func (f *benchFixture) labelled(key string) bool {
	for _, l := range f.fake.Labels(key) {
		if strings.HasPrefix(l, triage.LabelPrefix) {
			return true
		}
	}
	return false
}

// waitProcessed waits until every ticket has a triage label and the queue
// has nothing pending, active or to retry. onProgress, when set, is called
// with the count done after each look.
func (f *benchFixture) waitProcessed(ctx context.Context, insp *asynq.Inspector, deadline time.Time, onProgress func(done int)) (int, error) {
	pending := make([]string, len(f.tickets))
	for i, t := range f.tickets {
		pending[i] = t.Key
	}
	for {
		// Tickets are taken roughly in order: look at the pending ones
		// from the oldest and stop after a run of misses, so that a look
		// costs what was done since the last one, not the whole backlog.
		misses, full := 0, len(pending) <= 256
		pending = slices.DeleteFunc(pending, func(key string) bool {
			if !full && misses >= 64 {
				return false
			}
			if f.labelled(key) {
				return true
			}
			misses++
			return false
		})
		done := len(f.tickets) - len(pending)
		if onProgress != nil {
			onProgress(done)
		}
		if len(pending) == 0 {
			info, err := insp.GetQueueInfo(f.queue)
			if err == nil && info.Pending+info.Active+info.Retry == 0 {
				return done, nil
			}
		}
		if time.Now().After(deadline) {
			return done, fmt.Errorf("timed out: %d of %d tickets processed", done, len(f.tickets))
		}
		select {
		case <-ctx.Done():
			return done, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// logCounter takes the app's log lines: formatted (so their cost is
// counted) and dropped, with warnings and errors counted.
type logCounter struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (l *logCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`"level":"warn"`)) || bytes.Contains(p, []byte(`"level":"error"`)) {
		l.mu.Lock()
		l.n++
		if len(l.first) < 3 {
			l.first = append(l.first, strings.TrimSpace(clipText(string(p), 300)))
		}
		l.mu.Unlock()
	}
	return len(p), nil
}

// reset forgets what was counted (the start-up warnings).
func (l *logCounter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n, l.first = 0, nil
}

func (l *logCounter) counts() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, slices.Clone(l.first)
}

// runBench runs the pipeline, then the raw asynq baseline, and prints the
// table and the summary line.
func runBench(ctx context.Context, out io.Writer, o benchOptions) (benchResult, error) {
	o.defaults()
	res := benchResult{Tickets: o.tickets}
	f, err := newBenchFixture(o.tickets)
	if err != nil {
		return res, err
	}
	defer f.fake.Close()
	res.Queue, res.RawQueue, res.Project = f.queue, f.rawQ, f.proj
	cfg := f.config(o)
	logs := &logCounter{}
	a, err := appFrom(cfg, logs, true, true)
	if err != nil {
		return res, err
	}
	defer a.Close()
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return res, fmt.Errorf("no Redis at %s (start one, or run through make bench-pipeline, which does): %w", o.redisURL, err)
	}
	auditFrom := lastStreamID(ctx, a.rdb, "triage:audit")
	defer benchCleanup(a.rdb, a.inspector, f.proj, auditFrom, f.queue, f.rawQ)

	mode := "unthrottled, " + strconv.Itoa(o.senders) + " senders"
	if o.rate > 0 {
		mode = num(o.rate) + " tickets/s"
	}
	fmt.Fprintf(out, "triage bench: %d tickets (%s), worker concurrency %d, GOMAXPROCS %d, Redis %s, queue %s\n",
		o.tickets, mode, o.concurrency, runtime.GOMAXPROCS(0), redactURL(o.redisURL), f.queue)
	if o.taskCheckInterval > 0 {
		fmt.Fprintf(out, "what-if: the worker runs with asynq TaskCheckInterval %v (default: TRIAGE_TASK_CHECK_INTERVAL)\n", o.taskCheckInterval)
	}
	if o.jiraIdleConns > 0 {
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			defer func(n int) { t.MaxIdleConnsPerHost = n }(t.MaxIdleConnsPerHost)
			t.MaxIdleConnsPerHost = o.jiraIdleConns
			fmt.Fprintf(out, "what-if: the Jira client keeps %d idle connections to Jira\n", o.jiraIdleConns)
		}
	}

	stop, err := startBenchPipeline(ctx, a, o)
	if err != nil {
		return res, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = stop()
		}
	}()

	// The webhooks, built and signed before the clock starts: that is
	// Jira's work, not ours.
	bodies := make([][]byte, len(f.tickets))
	sigs := make([]string, len(f.tickets))
	for i, t := range f.tickets {
		bodies[i] = intake.IssueCreatedBody(t.Key, t.Summary, t.Description, webhookUser(f.users[t.Reporter]))
		sigs[i] = intake.Sign(f.secret, bodies[i])
	}
	if o.cpuProfile != "" {
		pf, err := os.Create(o.cpuProfile)
		if err != nil {
			return res, err
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			pf.Close()
			return res, err
		}
		defer func() {
			pprof.StopCPUProfile()
			pf.Close()
		}()
	}

	logs.reset()
	sendAt, errs, firstErr, sendElapsed := f.send(ctx, a.cfg.Listen, bodies, sigs, o)
	res.WebhookErrors, res.FirstWebhookError, res.SendElapsed = errs, firstErr, sendElapsed
	if errs == len(bodies) {
		return res, fmt.Errorf("every webhook failed: %s", firstErr)
	}
	res.Processed, err = f.waitProcessed(ctx, a.inspector, time.Now().Add(o.timeout), nil)
	if o.cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return res, fmt.Errorf("pipeline: %w", err)
	}
	// Peak RSS before the analysis below copies the call log.
	res.RSSPeakMiB, res.RSSNowMiB = procRSS("self")
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	res.HeapInuseMiB = float64(mem.HeapInuse) / (1 << 20)
	if o.memProfile != "" {
		if err := writeHeapProfile(o.memProfile); err != nil {
			return res, err
		}
	}
	if info, err := a.inspector.GetQueueInfo(f.queue); err == nil {
		res.Failed = info.Failed + info.Archived
	}
	f.analyse(&res, sendAt)
	res.Warnings, res.FirstWarnings = logs.counts()
	stopped = true
	if err := stop(); err != nil {
		return res, fmt.Errorf("stop the pipeline: %w", err)
	}

	// The baseline, on the same Redis, nothing else running.
	res.RawTasks = o.tickets
	res.RawElapsed, res.RawEnqueuePerSec, err = rawAsynq(ctx, a.redisConn, f.rawQ, o.tickets, o.concurrency, o.timeout)
	if err != nil {
		return res, fmt.Errorf("raw asynq: %w", err)
	}
	res.RawPerSec = float64(o.tickets) / res.RawElapsed.Seconds()
	if res.RawPerSec > 0 {
		res.Ratio = res.TicketsPerSec / res.RawPerSec
	}
	res.print(out, o)
	return res, nil
}

// startBenchPipeline runs intake and worker in this process: through serve,
// or, for the TaskCheckInterval what-if, the intake through serve and the
// worker built here like app.asynqServer builds it.
func startBenchPipeline(ctx context.Context, a *app, o benchOptions) (stop func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	a.cfg.Listen = ln.Addr().String()
	sctx, cancel := context.WithCancel(ctx)
	var wsrv *asynq.Server
	runWorker := true
	if o.taskCheckInterval > 0 {
		h, err := a.handler()
		if err != nil {
			cancel()
			ln.Close()
			return nil, err
		}
		wsrv = asynq.NewServer(a.redisConn, asynq.Config{
			Concurrency: a.cfg.Concurrency, Queues: map[string]int{a.cfg.Queue: 1},
			RetryDelayFunc: worker.RetryDelay, IsFailure: worker.IsFailure,
			ShutdownTimeout: a.cfg.ShutdownTimeout, Logger: asynqLogger{a.log},
			TaskCheckInterval: o.taskCheckInterval,
		})
		mux := asynq.NewServeMux()
		mux.Use(worker.RecoveryMiddleware(a.log), worker.LoggingMiddleware(a.log))
		h.Register(mux)
		if err := wsrv.Start(mux); err != nil {
			cancel()
			ln.Close()
			return nil, fmt.Errorf("start worker: %w", err)
		}
		runWorker = false
	}
	done := make(chan error, 1)
	go func() { done <- serve(sctx, a, ln, true, runWorker) }()
	// ready when the intake answers
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + a.cfg.Listen + intake.HealthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			cancel()
			return nil, fmt.Errorf("the intake did not answer on %s: %v", a.cfg.Listen, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return func() error {
		cancel()
		var err error
		select {
		case err = <-done:
		case <-time.After(20 * time.Second):
			err = errors.New("serve did not stop within 20s")
		}
		if wsrv != nil {
			wsrv.Shutdown()
		}
		return err
	}, nil
}

// send posts the webhooks, as fast as o.senders goroutines go or at
// o.rate per second, and returns when each was sent.
func (f *benchFixture) send(ctx context.Context, addr string, bodies [][]byte, sigs []string, o benchOptions) (sendAt []time.Time, errs int, firstErr string, elapsed time.Duration) {
	url := "http://" + addr + intake.WebhookPath
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()
	sendAt = make([]time.Time, len(bodies))
	var nerr atomic.Int64
	var errOnce sync.Once
	post := func(i int) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bodies[i]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(intake.HeaderDeliveryID, "bench-"+f.tickets[i].Key)
		req.Header.Set(intake.HeaderSignature, sigs[i])
		sendAt[i] = time.Now()
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				err = fmt.Errorf("intake answered %d", resp.StatusCode)
			}
		}
		if err != nil {
			nerr.Add(1)
			errOnce.Do(func() { firstErr = err.Error() })
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	if o.rate <= 0 {
		var next atomic.Int64
		for range o.senders {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= len(bodies) || ctx.Err() != nil {
						return
					}
					post(i)
				}
			})
		}
	} else {
		// open loop: ticket i leaves at start + i/rate, whatever the
		// answers to the earlier ones take
		period := time.Duration(float64(time.Second) / o.rate)
		sem := make(chan struct{}, 512)
		for i := range bodies {
			if d := time.Until(start.Add(time.Duration(i) * period)); d > 0 {
				time.Sleep(d)
			}
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				post(i)
			})
		}
	}
	wg.Wait()
	return sendAt, int(nerr.Load()), firstErr, time.Since(start)
}

// analyse reads the fake's call log: latencies, writes, outcomes.
func (f *benchFixture) analyse(res *benchResult, sendAt []time.Time) {
	type perIssue struct {
		comment   time.Time
		writes    int
		lastWrite time.Time
	}
	issues := make(map[string]*perIssue, len(f.tickets))
	for _, t := range f.tickets {
		issues[t.Key] = &perIssue{}
	}
	var firstWrite, last time.Time
	for _, c := range f.fake.Calls() {
		p := issues[c.Issue]
		if p == nil {
			continue
		}
		res.JiraCalls++
		if !c.Write {
			continue
		}
		res.JiraWrites++
		p.writes++
		if c.Time.After(p.lastWrite) {
			p.lastWrite = c.Time
		}
		if c.Time.After(last) {
			last = c.Time
		}
		if firstWrite.IsZero() || c.Time.Before(firstWrite) {
			firstWrite = c.Time
		}
		if p.comment.IsZero() && carriesComment(c) {
			p.comment = c.Time
		}
	}
	var lat []time.Duration
	repliedWrites := 0
	for i, t := range f.tickets {
		p := issues[t.Key]
		ls := f.fake.Labels(t.Key)
		switch {
		case hasLabel(ls, triage.LabelReplied):
			res.Replied++
			repliedWrites += p.writes
		case hasLabel(ls, triage.LabelEscalated):
			res.Escalated++
		case hasLabel(ls, triage.LabelNeedsHuman):
			res.Human++
		case hasLabel(ls, triage.LabelResolved):
			res.Resolved++
		}
		if !p.comment.IsZero() && !sendAt[i].IsZero() {
			lat = append(lat, p.comment.Sub(sendAt[i]))
		}
	}
	slices.Sort(lat)
	res.LatencySamples = len(lat)
	res.P50, res.P95, res.P99 = quantile(lat, 0.50), quantile(lat, 0.95), quantile(lat, 0.99)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	first := time.Time{}
	for _, s := range sendAt {
		if !s.IsZero() && (first.IsZero() || s.Before(first)) {
			first = s
		}
	}
	if !first.IsZero() && last.After(first) {
		res.Elapsed = last.Sub(first)
		res.TicketsPerSec = float64(res.Processed) / res.Elapsed.Seconds()
	}
	if last.After(firstWrite) {
		res.BusyPerSec = float64(res.Processed) / last.Sub(firstWrite).Seconds()
	}
	if res.SendElapsed > 0 {
		res.SentPerSec = float64(len(sendAt)-res.WebhookErrors) / res.SendElapsed.Seconds()
	}
	if res.Replied > 0 {
		res.WritesPerReplied = float64(repliedWrites) / float64(res.Replied)
	}
	if len(f.tickets) > 0 {
		res.CallsPerTicket = float64(res.JiraCalls) / float64(len(f.tickets))
	}
}

// carriesComment tells the write that posted a comment: a PUT /issue/{key}
// with update.comment, or a POST to the comment resource.
func carriesComment(c jiratest.Call) bool {
	if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/comment") {
		return true
	}
	if c.Method != http.MethodPut {
		return false
	}
	var body struct {
		Update struct {
			Comment []json.RawMessage `json:"comment"`
		} `json:"update"`
	}
	return json.Unmarshal(c.Body, &body) == nil && len(body.Update.Comment) > 0
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// rawAsynq enqueues n no-op tasks, then processes them with an asynq server
// of the given concurrency, and returns how long the processing took (from
// the server's start to the last task's handler) and the enqueue rate.
func rawAsynq(ctx context.Context, conn asynq.RedisConnOpt, queue string, n, concurrency int, timeout time.Duration) (time.Duration, float64, error) {
	client := asynq.NewClient(conn)
	defer client.Close()
	var next, nerr atomic.Int64
	var firstErr atomic.Value
	enqStart := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				if i := next.Add(1); i > int64(n) || ctx.Err() != nil {
					return
				}
				if _, err := client.EnqueueContext(ctx, asynq.NewTask("bench:noop", nil), asynq.Queue(queue)); err != nil {
					nerr.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	enqPerSec := float64(n) / time.Since(enqStart).Seconds()
	if nerr.Load() > 0 {
		return 0, 0, fmt.Errorf("%d enqueues failed: %v", nerr.Load(), firstErr.Load())
	}
	var done atomic.Int64
	finished := make(chan time.Time, 1)
	srv := asynq.NewServer(conn, asynq.Config{
		Concurrency: concurrency, Queues: map[string]int{queue: 1},
		Logger: asynqLogger{zerolog.Nop()}, ShutdownTimeout: 5 * time.Second,
	})
	start := time.Now()
	if err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		if done.Add(1) == int64(n) {
			finished <- time.Now()
		}
		return nil
	})); err != nil {
		return 0, 0, err
	}
	defer srv.Shutdown()
	select {
	case end := <-finished:
		return end.Sub(start), enqPerSec, nil
	case <-time.After(timeout):
		return 0, 0, fmt.Errorf("timed out: %d of %d no-op tasks processed", done.Load(), n)
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
}

func (r benchResult) print(out io.Writer, o benchOptions) {
	fmt.Fprintf(out, "  pipeline (webhook → intake → Redis → worker → fake Jira, one process)\n")
	fmt.Fprintf(out, "    tickets processed      %d of %d (replied %d, escalated %d, left to humans %d, resolved %d); webhook errors %d; tasks failed %d\n",
		r.Processed, r.Tickets, r.Replied, r.Escalated, r.Human, r.Resolved, r.WebhookErrors, r.Failed)
	if r.FirstWebhookError != "" {
		fmt.Fprintf(out, "    first webhook error    %s\n", r.FirstWebhookError)
	}
	fmt.Fprintf(out, "    webhooks sent          %s/s (%s s)\n", num(r.SentPerSec), num(r.SendElapsed.Seconds()))
	fmt.Fprintf(out, "    throughput             %s tickets/s (first webhook → last Jira write: %s s); %s tickets/s from the first Jira write to the last\n",
		num(r.TicketsPerSec), num(r.Elapsed.Seconds()), num(r.BusyPerSec))
	fmt.Fprintf(out, "    webhook → comment      p50 %s ms, p95 %s ms, p99 %s ms, max %s ms (%d tickets with a comment)\n",
		ms(r.P50), ms(r.P95), ms(r.P99), ms(r.Max), r.LatencySamples)
	fmt.Fprintf(out, "    Jira                   %d calls, %d writes; %s writes per replied ticket; %s calls per ticket\n",
		r.JiraCalls, r.JiraWrites, num(r.WritesPerReplied), num(r.CallsPerTicket))
	fmt.Fprintf(out, "    memory                 peak RSS (VmHWM) %s MiB, RSS now %s MiB, Go heap in use %s MiB (intake, worker, fake Jira and load generator together)\n",
		num(r.RSSPeakMiB), num(r.RSSNowMiB), num(r.HeapInuseMiB))
	fmt.Fprintf(out, "    warnings and errors    %d logged\n", r.Warnings)
	for _, w := range r.FirstWarnings {
		fmt.Fprintf(out, "      %s\n", w)
	}
	fmt.Fprintf(out, "  raw asynq (no-op handler, concurrency %d, same Redis)\n", o.concurrency)
	fmt.Fprintf(out, "    throughput             %s tasks/s (%d tasks in %s s; enqueued at %s/s beforehand)\n",
		num(r.RawPerSec), r.RawTasks, num(r.RawElapsed.Seconds()), num(r.RawEnqueuePerSec))
	fmt.Fprintf(out, "  targets (issue 6)\n")
	if o.rate > 0 {
		fmt.Fprintf(out, "    pipeline ≥ 0.5 × raw asynq   not judged at a fixed rate: tickets/s is the offered rate (ratio %s)\n", num(r.Ratio))
	} else {
		fmt.Fprintf(out, "    pipeline ≥ 0.5 × raw asynq   %s (ratio %s)\n", verdict(r.Ratio >= 0.5), num(r.Ratio))
	}
	if o.rate > 0 && o.rate <= 200 {
		fmt.Fprintf(out, "    p99 ≤ 50 ms at 200/s         %s (p99 %s ms at %s/s)\n", verdict(r.P99 <= 50*time.Millisecond), ms(r.P99), num(o.rate))
	} else {
		fmt.Fprintf(out, "    p99 ≤ 50 ms at 200/s         not measured here (run with --rate 200)\n")
	}
	fmt.Fprintf(out, "    1 Jira write per reply       %s (%s)\n", verdict(r.Replied > 0 && r.WritesPerReplied <= 1), num(r.WritesPerReplied))
	fmt.Fprintf(out, "    RSS ≤ 64 MiB, 10k queued     see triage bench --queued 10000\n")
	fmt.Fprintln(out, r.Line())
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// procRSS reads the peak (VmHWM) and current (VmRSS) resident set of a
// process ("self" or a pid) in MiB.
func procRSS(pid string) (peak, now float64) {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			continue
		}
		if name == "VmHWM" {
			peak = kb / 1024
		} else {
			now = kb / 1024
		}
	}
	return peak, now
}

func writeHeapProfile(path string) error {
	pf, err := os.Create(path)
	if err != nil {
		return err
	}
	defer pf.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(pf)
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		return "redis://(credentials)" + u[i:]
	}
	return u
}

// lastStreamID is the id of a stream's last entry ("0" when empty).
func lastStreamID(ctx context.Context, rdb redis.UniversalClient, stream string) string {
	msgs, err := rdb.XRevRangeN(ctx, stream, "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return "0"
	}
	return msgs[0].ID
}

// benchCleanup deletes what a run left in Redis: its queues (every key of
// theirs, completed tasks included), and the project's state, locks,
// audit entries and escalations.
func benchCleanup(rdb redis.UniversalClient, insp *asynq.Inspector, proj, auditFrom string, queues ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, q := range queues {
		_ = insp.DeleteQueue(q, true)
		scanDelete(ctx, rdb, "asynq:{"+q+"}*")
		rdb.SRem(ctx, "asynq:queues", q)
	}
	if proj == "" {
		return
	}
	scanDelete(ctx, rdb, "triage:*{"+proj+"-*")
	scanDelete(ctx, rdb, "triage:esc:*:"+proj+"-*")
	for _, st := range []string{"open", "acknowledged", "done", "returned"} {
		key := "triage:esc:status:" + st
		ids, err := rdb.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			continue
		}
		var ours []any
		for _, id := range ids {
			if strings.HasPrefix(id, proj+"-") {
				ours = append(ours, id)
			}
		}
		if len(ours) > 0 {
			rdb.ZRem(ctx, key, ours...)
		}
	}
	// the stream of all decisions: our entries, added after auditFrom
	start := auditFrom
	for {
		msgs, err := rdb.XRangeN(ctx, "triage:audit", "("+start, "+", 1000).Result()
		if err != nil || len(msgs) == 0 {
			return
		}
		var ids []string
		for _, m := range msgs {
			if k, _ := m.Values["key"].(string); strings.HasPrefix(k, proj+"-") {
				ids = append(ids, m.ID)
			}
		}
		if len(ids) > 0 {
			rdb.XDel(ctx, "triage:audit", ids...)
		}
		start = msgs[len(msgs)-1].ID
	}
}

func scanDelete(ctx context.Context, rdb redis.UniversalClient, pattern string) {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return
		}
		if len(keys) > 0 {
			rdb.Unlink(ctx, keys...)
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}

// queuedResult is what the memory check measured.
type queuedResult struct {
	Tasks                      int
	StartRSSMiB, PeakRSSMiB    float64
	MaxSampledMiB              float64
	Drain                      time.Duration
	DrainPerSec                float64
	WritesPerReplied           float64
	Replied, Processed, Failed int
	Queue, Project             string
}

func (r queuedResult) Line() string {
	return fmt.Sprintf("queued: tasks=%d worker_rss_start_mib=%s worker_rss_peak_mib=%s drain_per_s=%s jira_writes_per_ticket=%s",
		r.Tasks, num(r.StartRSSMiB), num(r.PeakRSSMiB), num(r.DrainPerSec), num(r.WritesPerReplied))
}

// runBenchQueued is the memory check: o.queued triage tasks enqueued with
// no worker running (the payloads the intake would build), then a separate
// `triage worker` process started on them; its RSS is sampled while it
// drains the backlog.
func runBenchQueued(ctx context.Context, out io.Writer, o benchOptions) (queuedResult, error) {
	o.defaults()
	res := queuedResult{Tasks: o.queued}
	argv := o.workerArgv
	if len(argv) == 0 {
		bin := o.workerBin
		if bin == "" {
			exe, err := os.Executable()
			if err != nil {
				return res, err
			}
			if strings.HasSuffix(exe, ".test") {
				return res, errors.New("running under go test: say which triage binary runs the worker")
			}
			bin = exe
		}
		argv = []string{bin, "worker"}
	}
	f, err := newBenchFixture(o.queued)
	if err != nil {
		return res, err
	}
	defer f.fake.Close()
	res.Queue, res.Project = f.queue, f.proj
	cfg := f.config(o)
	a, err := appFrom(cfg, io.Discard, false, false)
	if err != nil {
		return res, err
	}
	defer a.Close()
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return res, fmt.Errorf("no Redis at %s: %w", o.redisURL, err)
	}
	auditFrom := lastStreamID(ctx, a.rdb, "triage:audit")
	defer benchCleanup(a.rdb, a.inspector, f.proj, auditFrom, f.queue)

	fmt.Fprintf(out, "triage bench --queued: %d triage tasks enqueued with no worker, then drained by a separate worker process (%s, concurrency %d), Redis %s\n",
		o.queued, strings.Join(argv, " "), o.concurrency, redactURL(o.redisURL))
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
					_, err = a.client.EnqueueContext(ctx, task)
				}
				if err != nil {
					nerr.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := nerr.Load(); n > 0 {
		return res, fmt.Errorf("%d of %d enqueues failed", n, o.queued)
	}
	if info, err := a.inspector.GetQueueInfo(f.queue); err != nil || info.Pending != o.queued {
		return res, fmt.Errorf("the queue holds %v pending tasks, want %d (%v)", info, o.queued, err)
	}

	logs := &logCounter{}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = []string{
		"REDIS_URL=" + o.redisURL, "JIRA_BASE_URL=" + f.fake.URL(), "JIRA_EMAIL=" + benchEmail, "JIRA_API_TOKEN=" + benchToken,
		"TRIAGE_BOT_ACCOUNT_ID=" + f.bot.AccountID, "TRIAGE_QUEUE=" + f.queue, "TRIAGE_CONCURRENCY=" + strconv.Itoa(o.concurrency),
		"TRIAGE_LISTEN=127.0.0.1:0", "TRIAGE_FOLLOWUP_WINDOW=1h", "TRIAGE_SHUTDOWN_TIMEOUT=5s", "TRIAGE_LOG_LEVEL=" + o.logLevel,
	}
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG"} {
		if v, ok := os.LookupEnv(k); ok {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, o.workerEnv...)
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, io.MultiWriter(logs, &stderr)
	if err := cmd.Start(); err != nil {
		return res, fmt.Errorf("start the worker: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	start := time.Now()
	var firstAt time.Time
	// a worker that dies early ends the wait at once
	errRunning := errors.New("running")
	wctx, wcancel := context.WithCancel(ctx)
	watch := make(chan error, 1)
	go func() {
		select {
		case err := <-exited:
			wcancel()
			watch <- fmt.Errorf("the worker exited early (%v): %s", err, stderr.String())
		case <-wctx.Done():
			watch <- errRunning
		}
	}()
	res.Processed, err = f.waitProcessed(wctx, a.inspector, time.Now().Add(o.timeout), func(done int) {
		_, rss := procRSS(pid)
		res.MaxSampledMiB = max(res.MaxSampledMiB, rss)
		if done > 0 && firstAt.IsZero() {
			firstAt, res.StartRSSMiB = time.Now(), rss
		}
	})
	// VmHWM lags VmRSS a little (the kernel batches its counters): the
	// peak is the larger of it and the largest sample
	hwm, _ := procRSS(pid)
	res.PeakRSSMiB = max(hwm, res.MaxSampledMiB)
	wcancel()
	if werr := <-watch; werr != errRunning {
		return res, werr
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
	}
	if err != nil {
		return res, fmt.Errorf("drain: %w", err)
	}
	res.Drain = time.Since(start)
	if !firstAt.IsZero() {
		res.Drain = time.Since(firstAt)
	}
	res.DrainPerSec = float64(res.Processed) / res.Drain.Seconds()
	var br benchResult
	f.analyse(&br, make([]time.Time, len(f.tickets)))
	res.Replied, res.WritesPerReplied = br.Replied, br.WritesPerReplied
	if info, err := a.inspector.GetQueueInfo(f.queue); err == nil {
		res.Failed = info.Failed + info.Archived
	}
	warns, first := logs.counts()
	fmt.Fprintf(out, "  worker process pid %s: %d tickets processed (replied %d), tasks failed %d, warnings and errors %d\n", pid, res.Processed, res.Replied, res.Failed, warns)
	for _, w := range first {
		fmt.Fprintf(out, "      %s\n", w)
	}
	fmt.Fprintf(out, "    RSS when it started processing  %s MiB (backlog of %d)\n", num(res.StartRSSMiB), o.queued)
	fmt.Fprintf(out, "    peak RSS over the drain         %s MiB (VmHWM %s MiB, largest VmRSS sample %s MiB); target ≤ 64 MiB: %s\n",
		num(res.PeakRSSMiB), num(hwm), num(res.MaxSampledMiB), verdict(res.PeakRSSMiB <= 64))
	fmt.Fprintf(out, "    drained in %s s (%s tickets/s), %s Jira writes per replied ticket\n", num(res.Drain.Seconds()), num(res.DrainPerSec), num(res.WritesPerReplied))
	fmt.Fprintln(out, res.Line())
	return res, nil
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
