package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// benchRedisURL is the Redis the bench tests run on; they fail without one.
func benchRedisURL(t *testing.T) string {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/14"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("no Redis at %s (run `make test`, which starts one): %v", url, err)
	}
	return url
}

var benchNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)

// benchLine checks that out ends with a summary line of the given prefix
// and exactly these fields, in this order, each a number with at most two
// decimals, and returns the numbers.
func benchLine(t *testing.T, out, prefix string, fields ...string) map[string]float64 {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	last := lines[len(lines)-1]
	rest, ok := strings.CutPrefix(last, prefix+": ")
	if !ok {
		t.Fatalf("the output does not end with a %q line:\n%s", prefix, out)
	}
	got := map[string]float64{}
	pairs := strings.Fields(rest)
	if len(pairs) != len(fields) {
		t.Fatalf("%s line has %d fields, want %d (%s): %s", prefix, len(pairs), len(fields), strings.Join(fields, " "), last)
	}
	for i, p := range pairs {
		k, v, _ := strings.Cut(p, "=")
		if k != fields[i] {
			t.Fatalf("%s line field %d is %q, want %q: %s", prefix, i+1, k, fields[i], last)
		}
		if !benchNumber.MatchString(v) {
			t.Fatalf("%s=%q is not a number with at most two decimals: %s", k, v, last)
		}
		got[k], _ = strconv.ParseFloat(v, 64)
	}
	return got
}

// benchLeftovers counts the keys a run left in Redis under its queues and
// project.
func benchLeftovers(t *testing.T, url, project string, queues ...string) int {
	t.Helper()
	opt, _ := redis.ParseURL(url)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx := context.Background()
	n := 0
	patterns := []string{"triage:*{" + project + "-*", "triage:esc:*:" + project + "-*"}
	for _, q := range queues {
		patterns = append(patterns, "asynq:{"+q+"}*")
		if ok, _ := rdb.SIsMember(ctx, "asynq:queues", q).Result(); ok {
			n++
		}
	}
	for _, p := range patterns {
		keys, err := rdb.Keys(ctx, p).Result()
		if err != nil {
			t.Fatal(err)
		}
		n += len(keys)
	}
	return n
}

func TestBenchPipeline(t *testing.T) {
	url := benchRedisURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out bytes.Buffer
	const n = 200
	res, err := runBench(ctx, &out, benchOptions{tickets: n, concurrency: 4, redisURL: url, timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	f := benchLine(t, out.String(), "pipeline", "tickets_per_s", "raw_asynq_per_s", "ratio", "p50_ms", "p99_ms", "jira_writes_per_ticket", "rss_mib")

	if res.Processed != n || res.WebhookErrors != 0 || res.Failed != 0 {
		t.Errorf("processed %d of %d, %d webhook errors, %d failed tasks\n%s", res.Processed, n, res.WebhookErrors, res.Failed, out.String())
	}
	// the 20 sample tickets are mostly replies (13 of 20 today), some
	// escalations and some left to humans
	if res.Replied < n/2 || res.Replied+res.Escalated+res.Human+res.Resolved != n {
		t.Errorf("replied %d, escalated %d, human %d, resolved %d of %d tickets", res.Replied, res.Escalated, res.Human, res.Resolved, n)
	}
	if w := f["jira_writes_per_ticket"]; w != 1 {
		t.Errorf("jira_writes_per_ticket=%v, want 1 (one edit per reply)", w)
	}
	if res.LatencySamples != res.Replied+res.Escalated {
		t.Errorf("%d latency samples, want one per ticket with a comment (%d)", res.LatencySamples, res.Replied+res.Escalated)
	}
	for _, k := range []string{"tickets_per_s", "raw_asynq_per_s", "ratio", "p50_ms", "rss_mib"} {
		if f[k] <= 0 {
			t.Errorf("%s=%v, want > 0", k, f[k])
		}
	}
	if f["p99_ms"] < f["p50_ms"] || f["p99_ms"] > 20_000 {
		t.Errorf("p50 %v ms, p99 %v ms: out of order or beyond the run", f["p50_ms"], f["p99_ms"])
	}
	if f["rss_mib"] > 4096 {
		t.Errorf("rss_mib=%v: not MiB", f["rss_mib"])
	}
	if want := f["tickets_per_s"] / f["raw_asynq_per_s"]; f["ratio"] < want-0.011 || f["ratio"] > want+0.011 {
		t.Errorf("ratio=%v, want tickets_per_s/raw_asynq_per_s = %.3f", f["ratio"], want)
	}
	for _, s := range []string{"raw asynq (no-op handler, concurrency 4", "webhook → comment", "writes per replied ticket"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, out.String())
		}
	}
	if left := benchLeftovers(t, url, res.Project, res.Queue, res.RawQueue); left != 0 {
		t.Errorf("%d keys of the run left in Redis", left)
	}
}

func TestBenchPipelineRate(t *testing.T) {
	url := benchRedisURL(t)
	var out bytes.Buffer
	res, err := runBench(context.Background(), &out, benchOptions{tickets: 100, rate: 100, concurrency: 2, redisURL: url, timeout: 20 * time.Second})
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	benchLine(t, out.String(), "pipeline", "tickets_per_s", "raw_asynq_per_s", "ratio", "p50_ms", "p99_ms", "jira_writes_per_ticket", "rss_mib")
	if res.Processed != 100 {
		t.Errorf("processed %d of 100", res.Processed)
	}
	// 100 tickets at 100/s take about a second to send
	if res.SendElapsed < 900*time.Millisecond || res.SendElapsed > 10*time.Second {
		t.Errorf("sending 100 tickets at 100/s took %v", res.SendElapsed)
	}
}

// TestBenchQueued runs the memory check with this test binary as the
// worker process (see TestBenchWorkerChild). Under the race detector the
// RSS is not the figure to judge; the test checks the mechanics.
func TestBenchQueued(t *testing.T) {
	url := benchRedisURL(t)
	var out bytes.Buffer
	const n = 150
	res, err := runBenchQueued(context.Background(), &out, benchOptions{
		queued: n, concurrency: 4, redisURL: url, timeout: 20 * time.Second,
		workerArgv: []string{os.Args[0], "-test.run=^TestBenchWorkerChild$", "-test.count=1"},
		workerEnv:  []string{"TRIAGE_BENCH_WORKER_CHILD=1"},
	})
	if err != nil {
		t.Fatalf("bench --queued: %v\n%s", err, out.String())
	}
	f := benchLine(t, out.String(), "queued", "tasks", "worker_rss_start_mib", "worker_rss_peak_mib", "drain_per_s", "jira_writes_per_ticket")
	if res.Processed != n || res.Failed != 0 || f["tasks"] != n {
		t.Errorf("processed %d of %d, %d failed\n%s", res.Processed, n, res.Failed, out.String())
	}
	if f["worker_rss_start_mib"] <= 0 || f["worker_rss_peak_mib"] < f["worker_rss_start_mib"] || f["drain_per_s"] <= 0 {
		t.Errorf("implausible figures: %v", f)
	}
	if f["jira_writes_per_ticket"] != 1 {
		t.Errorf("jira_writes_per_ticket=%v, want 1", f["jira_writes_per_ticket"])
	}
	if left := benchLeftovers(t, url, res.Project, res.Queue); left != 0 {
		t.Errorf("%d keys of the run left in Redis", left)
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

func TestBenchQuantile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := quantile(d, c.q); got != c.want {
			t.Errorf("quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if quantile(nil, 0.5) != 0 || quantile(d[:1], 0.99) != time.Millisecond {
		t.Error("quantile of an empty or one-element sample")
	}
}
