package main

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/internal/bench"
)

func newBenchCmd() *cobra.Command {
	var (
		o         bench.Options
		workerBin string
	)
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
			samples, err := benchSamples()
			if err != nil {
				return err
			}
			o.Samples = samples
			if o.Queued > 0 {
				if o.WorkerArgv, err = workerArgv(workerBin); err != nil {
					return err
				}
				_, err := bench.RunQueued(cmd.Context(), cmd.OutOrStdout(), o)
				return err
			}
			o.Pipeline = benchPipeline
			_, err = bench.Run(cmd.Context(), cmd.OutOrStdout(), o)
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Tickets, "tickets", 1000, "tickets to send (and no-op tasks for the raw asynq baseline)")
	f.Float64Var(&o.Rate, "rate", 0, "send this many tickets per second (0: as fast as the senders go)")
	f.IntVar(&o.Senders, "senders", 8, "goroutines posting webhooks when --rate is 0")
	f.IntVar(&o.Concurrency, "concurrency", 10, "worker concurrency, for the pipeline and the raw asynq baseline")
	f.StringVar(&o.RedisURL, "redis", "", "Redis URL (default TEST_REDIS_URL, else redis://127.0.0.1:6379/14)")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "give up when the tickets are not all processed by then")
	f.StringVar(&o.LogLevel, "log-level", "info", "level of the worker's and intake's logs, which are formatted and discarded (warnings and errors are counted)")
	f.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the pipeline phase to this file")
	f.StringVar(&o.MemProfile, "memprofile", "", "write a heap profile at the end of the pipeline phase to this file")
	f.DurationVar(&o.TaskCheckInterval, "task-check-interval", 0, "what-if: run the worker with this asynq TaskCheckInterval (default: TRIAGE_TASK_CHECK_INTERVAL, 20ms)")
	f.IntVar(&o.JiraIdleConns, "jira-idle-conns", 0, "what-if: keep this many idle connections per host in http.DefaultTransport, under the Jira client (serve keeps max(concurrency, 16))")
	f.IntVar(&o.Queued, "queued", 0, "memory check: enqueue this many triage tasks, then measure a separate worker process draining them")
	f.StringVar(&workerBin, "worker-bin", "", "the triage binary run as the worker by --queued (default: this executable)")
	return cmd
}

// benchPipeline is what bench measures: serve's intake and worker, built
// from the bench's configuration.
func benchPipeline(ctx context.Context, c bench.PipelineConfig, ln net.Listener, logw io.Writer) error {
	cfg := config{
		RedisURL: c.RedisURL, JiraBaseURL: c.JiraBaseURL, JiraEmail: c.JiraEmail, JiraAPIToken: c.JiraAPIToken,
		BotAccountID: c.BotAccountID, WebhookSecret: c.WebhookSecret, Queue: c.Queue, Concurrency: c.Concurrency,
		TaskCheckInterval: c.TaskCheckInterval, ShutdownTimeout: c.ShutdownTimeout, FollowupWindow: c.FollowupWindow,
		LogLevel: c.LogLevel, Listen: ln.Addr().String(),
	}
	cfg.defaults()
	a, err := appFrom(cfg, logw, true, true)
	if err != nil {
		return err
	}
	defer a.Close()
	return serve(ctx, a, ln, true, true)
}

// benchSamples are the demo's tickets, which bench sends.
func benchSamples() ([]bench.Sample, error) {
	tickets, err := loadDemoTickets()
	if err != nil {
		return nil, err
	}
	samples := make([]bench.Sample, len(tickets))
	for i, t := range tickets {
		samples[i] = bench.Sample{Summary: t.Summary, Description: t.Description, Reporter: t.Reporter}
	}
	return samples, nil
}

// workerArgv is the command line of the worker process of the memory
// check: `<bin> worker`, bin being this executable unless named.
func workerArgv(bin string) ([]string, error) {
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(exe, ".test") {
			return nil, errors.New("running under go test: say which triage binary runs the worker")
		}
		bin = exe
	}
	return []string{bin, "worker"}, nil
}
