package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mfatriage/triage/internal/bench"
	"github.com/mfatriage/triage/internal/redistest"
)

// benchOptions are the options of the bench tests: the test Redis and the
// demo's tickets.
func benchOptions(t *testing.T, o bench.Options) bench.Options {
	t.Helper()
	redistest.Options(t) // fails when the test Redis is missing
	samples, err := benchSamples()
	if err != nil {
		t.Fatal(err)
	}
	o.RedisURL, o.Samples, o.Timeout = redistest.URL(), samples, 20*time.Second
	return o
}

// lastLine is the summary line that ends a bench's output.
func lastLine(out string) string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestBenchPipeline measures the real pipeline, serve's intake and worker,
// as `triage bench` does: every ticket decided, one Jira write per reply.
// The mechanics of the bench are internal/bench's tests.
func TestBenchPipeline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	const n = 200
	res, err := bench.Run(ctx, &out, benchOptions(t, bench.Options{Tickets: n, Concurrency: 4, Pipeline: benchPipeline}))
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	if res.Processed != n || res.WebhookErrors != 0 || res.Failed != 0 {
		t.Errorf("processed %d of %d, %d webhook errors, %d failed tasks\n%s", res.Processed, n, res.WebhookErrors, res.Failed, out.String())
	}
	// the 20 sample tickets are mostly replies (12 of 20 today), some
	// escalations, some suggestions to agents and some left to humans
	if res.Replied < n/2 || res.Replied+res.Escalated+res.Suggested+res.Human+res.Resolved != n {
		t.Errorf("replied %d, escalated %d, suggested %d, human %d, resolved %d of %d tickets", res.Replied, res.Escalated, res.Suggested, res.Human, res.Resolved, n)
	}
	if res.WritesPerReplied != 1 {
		t.Errorf("%v Jira writes per replied ticket, want 1 (one edit per reply)", res.WritesPerReplied)
	}
	if res.LatencySamples != res.Replied+res.Escalated+res.Suggested {
		t.Errorf("%d latency samples, want one per ticket with a comment (%d)", res.LatencySamples, res.Replied+res.Escalated+res.Suggested)
	}
	if line := lastLine(out.String()); !strings.HasPrefix(line, "pipeline: tickets_per_s=") {
		t.Errorf("the output ends with %q, not the summary line", line)
	}
}

// TestBenchQueued runs the memory check with this test binary as the
// `triage worker` process (see TestBenchWorkerChild). Under the race
// detector the RSS is not the figure to judge; the test checks that the
// real worker drains the backlog.
func TestBenchQueued(t *testing.T) {
	var out bytes.Buffer
	const n = 150
	res, err := bench.RunQueued(context.Background(), &out, benchOptions(t, bench.Options{
		Queued: n, Concurrency: 4,
		WorkerArgv: []string{os.Args[0], "-test.run=^TestBenchWorkerChild$", "-test.count=1"},
		WorkerEnv:  []string{"TRIAGE_BENCH_WORKER_CHILD=1"},
	}))
	if err != nil {
		t.Fatalf("bench --queued: %v\n%s", err, out.String())
	}
	if res.Processed != n || res.Failed != 0 || res.WritesPerReplied != 1 {
		t.Errorf("processed %d of %d, %d failed, %v writes per reply\n%s", res.Processed, n, res.Failed, res.WritesPerReplied, out.String())
	}
	if line := lastLine(out.String()); !strings.HasPrefix(line, "queued: tasks=150 ") {
		t.Errorf("the output ends with %q, not the summary line", line)
	}
}

// TestBenchWorkerChild is the worker process of TestBenchQueued: `triage
// worker`, configured by the environment, until SIGTERM. Run directly, it
// does nothing.
func TestBenchWorkerChild(t *testing.T) {
	if os.Getenv("TRIAGE_BENCH_WORKER_CHILD") != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	root := newRootCmd()
	root.SetArgs([]string{"worker"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBenchWorkerArgv(t *testing.T) {
	t.Parallel()
	if got, err := workerArgv("/usr/local/bin/triage"); err != nil || strings.Join(got, " ") != "/usr/local/bin/triage worker" {
		t.Errorf("workerArgv(bin) = %q, %v", got, err)
	}
	if _, err := workerArgv(""); err == nil || !strings.Contains(err.Error(), "under go test") {
		t.Errorf("workerArgv of the test binary: %v, want a refusal", err)
	}
}
