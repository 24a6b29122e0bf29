package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/redisstore"
)

// Options are the knobs of a run. Zero values take the defaults noted.
type Options struct {
	Tickets     int     // tickets to send, and no-op tasks of the baseline; default 1000
	Rate        float64 // tickets/s; 0 sends as fast as the senders go
	Senders     int     // goroutines posting webhooks when Rate is 0; default 8
	Concurrency int     // worker concurrency, pipeline and baseline; default 10
	// RedisURL defaults to TEST_REDIS_URL, else redis://127.0.0.1:6379/14.
	RedisURL string
	Timeout  time.Duration // give up when the tickets are not all processed by then; default 5 minutes
	LogLevel string        // of the pipeline's logs, which are formatted and counted, not kept; default info

	CPUProfile string // write a CPU profile of the pipeline phase here
	MemProfile string // write a heap profile at the end of the pipeline phase here

	// TaskCheckInterval, when set, runs the worker with this asynq
	// TaskCheckInterval (a what-if).
	TaskCheckInterval time.Duration
	// JiraIdleConns, when set, raises http.DefaultTransport's idle
	// connections per host (a what-if).
	JiraIdleConns int

	// Queued is the backlog of the memory check (RunQueued).
	Queued int
	// WorkerArgv is the command line of the worker process that drains
	// the backlog (RunQueued), e.g. {"/usr/local/bin/triage", "worker"};
	// WorkerEnv extends its environment.
	WorkerArgv []string
	WorkerEnv  []string

	// Samples are the tickets sent, repeated under unique keys. Required.
	Samples []Sample
	// Pipeline runs what is measured. Required by Run.
	Pipeline Pipeline
}

// Sample is a ticket to send: its texts and a name for its reporter.
type Sample struct {
	Summary     string
	Description string
	Reporter    string
}

// Pipeline runs the webhook intake and the worker (the code of `triage
// serve`) with c, serving the intake on ln and logging to logw, until ctx
// ends; then it stops them and returns.
type Pipeline func(ctx context.Context, c PipelineConfig, ln net.Listener, logw io.Writer) error

// PipelineConfig is what a Pipeline needs of the run: the Redis and the
// fake Jira, the bot, a queue of the run's own and the worker's settings.
type PipelineConfig struct {
	RedisURL                             string
	JiraBaseURL, JiraEmail, JiraAPIToken string
	BotAccountID, WebhookSecret          string
	Queue                                string
	Concurrency                          int
	TaskCheckInterval                    time.Duration // 0: the pipeline's default
	ShutdownTimeout, FollowupWindow      time.Duration
	LogLevel                             string
}

func (o *Options) defaults() {
	if o.Tickets <= 0 {
		o.Tickets = 1000
	}
	if o.Senders <= 0 {
		o.Senders = 8
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 10
	}
	if o.RedisURL == "" {
		o.RedisURL = os.Getenv("TEST_REDIS_URL")
	}
	if o.RedisURL == "" {
		o.RedisURL = "redis://127.0.0.1:6379/14"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.LogLevel == "" {
		o.LogLevel = "info"
	}
}

// Result is what one pipeline run measured.
type Result struct {
	Tickets, Processed        int
	Replied, Escalated, Human int
	Resolved                  int
	// Suggested tickets got an internal note for the agents (mode
	// suggest): a comment, not a reply.
	Suggested                 int
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
func (r Result) Line() string {
	return fmt.Sprintf("pipeline: tickets_per_s=%s raw_asynq_per_s=%s ratio=%s p50_ms=%s p99_ms=%s jira_writes_per_ticket=%s rss_mib=%s",
		num(r.TicketsPerSec), num(r.RawPerSec), num(r.Ratio), ms(r.P50), ms(r.P99), num(r.WritesPerReplied), num(r.RSSPeakMiB))
}

// num prints at most two decimals.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

func ms(d time.Duration) string { return num(float64(d) / float64(time.Millisecond)) }

// Run runs the pipeline on o.Tickets tickets, then the raw asynq baseline,
// prints the table and the summary line to out, and deletes what the run
// left in Redis.
func Run(ctx context.Context, out io.Writer, o Options) (Result, error) {
	o.defaults()
	res := Result{Tickets: o.Tickets}
	if o.Pipeline == nil {
		return res, errors.New("bench: no pipeline to measure")
	}
	f, err := newFixture(o.Tickets, o.Samples)
	if err != nil {
		return res, err
	}
	defer f.fake.Close()
	res.Queue, res.RawQueue, res.Project = f.queue, f.rawQ, f.proj
	r, err := connect(ctx, o.RedisURL)
	if err != nil {
		return res, err
	}
	defer r.close()
	r.prefix = redisstore.SitePrefix(f.fake.URL())
	defer r.cleanup(f.proj, r.auditEnd(ctx), f.queue, f.rawQ)

	printHeader(out, o, f.queue)
	if o.JiraIdleConns > 0 {
		if t, ok := http.DefaultTransport.(*http.Transport); ok {
			defer func(n int) { t.MaxIdleConnsPerHost = n }(t.MaxIdleConnsPerHost)
			t.MaxIdleConnsPerHost = o.JiraIdleConns
			fmt.Fprintf(out, "what-if: the Jira client keeps %d idle connections to Jira\n", o.JiraIdleConns)
		}
	}
	if err := runPipeline(ctx, f, r, o, &res); err != nil {
		return res, err
	}

	// The baseline, on the same Redis, nothing else running.
	res.RawTasks = o.Tickets
	res.RawElapsed, res.RawEnqueuePerSec, err = rawAsynq(ctx, r.conn, f.rawQ, o.Tickets, o.Concurrency, o.Timeout)
	if err != nil {
		return res, fmt.Errorf("raw asynq: %w", err)
	}
	res.RawPerSec = float64(o.Tickets) / res.RawElapsed.Seconds()
	if res.RawPerSec > 0 {
		res.Ratio = res.TicketsPerSec / res.RawPerSec
	}
	res.print(out, o)
	return res, nil
}

func printHeader(out io.Writer, o Options, queue string) {
	mode := "unthrottled, " + strconv.Itoa(o.Senders) + " senders"
	if o.Rate > 0 {
		mode = num(o.Rate) + " tickets/s"
	}
	fmt.Fprintf(out, "triage bench: %d tickets (%s), worker concurrency %d, GOMAXPROCS %d, Redis %s, queue %s\n",
		o.Tickets, mode, o.Concurrency, runtime.GOMAXPROCS(0), redactURL(o.RedisURL), queue)
	if o.TaskCheckInterval > 0 {
		fmt.Fprintf(out, "what-if: the worker runs with asynq TaskCheckInterval %v (default: TRIAGE_TASK_CHECK_INTERVAL)\n", o.TaskCheckInterval)
	}
}

// runPipeline starts the pipeline, sends the webhooks, waits until every
// ticket is processed and measures, then stops the pipeline.
func runPipeline(ctx context.Context, f *fixture, r *redisConns, o Options, res *Result) (err error) {
	logs := &logCounter{}
	addr, stop, err := startPipeline(ctx, o.Pipeline, f.pipelineConfig(o), logs)
	if err != nil {
		return err
	}
	defer func() {
		if serr := stop(); serr != nil && err == nil {
			err = fmt.Errorf("stop the pipeline: %w", serr)
		}
	}()

	// The webhooks, built and signed before the clock starts: that is
	// Jira's work, not ours.
	reqs, err := f.webhooks(ctx, "http://"+addr+intake.WebhookPath)
	if err != nil {
		return err
	}
	stopProfile := func() {}
	if o.CPUProfile != "" {
		if stopProfile, err = startCPUProfile(o.CPUProfile); err != nil {
			return err
		}
		defer stopProfile()
	}

	logs.reset()
	sendAt, errs, firstErr, sendElapsed := f.send(ctx, reqs, o)
	res.WebhookErrors, res.FirstWebhookError, res.SendElapsed = errs, firstErr, sendElapsed
	if errs == len(reqs) {
		return fmt.Errorf("every webhook failed: %s", firstErr)
	}
	res.Processed, err = f.waitProcessed(ctx, r.insp, time.Now().Add(o.Timeout), nil)
	stopProfile()
	if err != nil {
		return fmt.Errorf("pipeline: %w", err)
	}
	// Peak RSS before the analysis below copies the call log.
	res.RSSPeakMiB, res.RSSNowMiB = procRSS("self")
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	res.HeapInuseMiB = float64(mem.HeapInuse) / (1 << 20)
	if o.MemProfile != "" {
		if err := writeHeapProfile(o.MemProfile); err != nil {
			return err
		}
	}
	if info, err := r.insp.GetQueueInfo(f.queue); err == nil {
		res.Failed = info.Failed + info.Archived
	}
	f.analyse(res, sendAt)
	res.Warnings, res.FirstWarnings = logs.counts()
	return nil
}

// startPipeline runs the pipeline on a loopback listener and returns its
// address once the intake answers, and how to stop it.
func startPipeline(ctx context.Context, p Pipeline, c PipelineConfig, logw io.Writer) (addr string, stop func() error, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen on the loopback: %w", err)
	}
	addr = ln.Addr().String()
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		err := p(sctx, c, ln, logw)
		ln.Close()
		done <- err
	}()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return errors.New("the pipeline did not stop within 20s")
		}
	}
	if err := waitHealthy(ctx, addr, done); err != nil {
		cancel()
		return "", nil, err
	}
	return addr, stop, nil
}

// waitHealthy waits until the intake on addr answers its health check, or
// the pipeline stops, or 10 seconds have passed.
func waitHealthy(ctx context.Context, addr string, done <-chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + intake.HealthPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the intake did not answer on %s: %v", addr, err)
		}
		select {
		case err := <-done:
			return fmt.Errorf("the pipeline stopped before it served: %w", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
