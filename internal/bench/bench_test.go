package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/redistest"
)

var samples = []Sample{
	{Summary: "passkey", Description: "my passkey can no longer be used", Reporter: "alice"},
	{Summary: "number", Description: "which number do I tap?", Reporter: "bob"},
	{Summary: "locked", Description: "my account is locked", Reporter: "alice"},
}

// options are the options of a test run: the test Redis, the samples, the
// stand-in pipeline.
func options(t *testing.T, o Options) Options {
	t.Helper()
	redistest.Options(t) // fails when the test Redis is missing
	o.RedisURL, o.Samples, o.Timeout, o.Pipeline = redistest.URL(), samples, 20*time.Second, standInPipeline
	return o
}

var number = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,2})?$`)

// summary checks that out ends with a summary line of the given prefix
// and exactly these fields, in this order, each a number with at most two
// decimals, and returns the numbers.
func summary(t *testing.T, out, prefix string, fields ...string) map[string]float64 {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	last := lines[len(lines)-1]
	rest, ok := strings.CutPrefix(last, prefix+": ")
	if !ok {
		t.Fatalf("the output does not end with a %q line:\n%s", prefix, out)
	}
	got := map[string]float64{}
	var names []string
	for _, p := range strings.Fields(rest) {
		k, v, _ := strings.Cut(p, "=")
		names = append(names, k)
		if !number.MatchString(v) {
			t.Errorf("%s=%q is not a number with at most two decimals: %s", k, v, last)
		}
		got[k], _ = strconv.ParseFloat(v, 64)
	}
	if diff := cmp.Diff(fields, names); diff != "" {
		t.Fatalf("%s line fields (-want, +got):\n%s", prefix, diff)
	}
	return got
}

// leftovers counts the keys a run left in Redis under its queues and
// project.
func leftovers(t *testing.T, project string, queues ...string) int {
	t.Helper()
	rdb := redistest.Client(t)
	ctx := context.Background()
	n := 0
	patterns := []string{"triage:*{" + project + "-*", "triage:*esc:*:" + project + "-*"}
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

var pipelineFields = []string{"tickets_per_s", "raw_asynq_per_s", "ratio", "p50_ms", "p99_ms", "jira_writes_per_ticket", "rss_mib"}

func TestRun(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	const n = 120
	res, err := Run(context.Background(), &out, options(t, Options{Tickets: n, Concurrency: 4}))
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	f := summary(t, out.String(), "pipeline", pipelineFields...)
	want := Result{Tickets: n, Processed: n, Replied: n, LatencySamples: n, JiraCalls: n, JiraWrites: n, WritesPerReplied: 1, CallsPerTicket: 1, RawTasks: n}
	got := Result{Tickets: res.Tickets, Processed: res.Processed, Replied: res.Replied, LatencySamples: res.LatencySamples,
		JiraCalls: res.JiraCalls, JiraWrites: res.JiraWrites, WritesPerReplied: res.WritesPerReplied, CallsPerTicket: res.CallsPerTicket, RawTasks: res.RawTasks}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("counts (-want, +got):\n%s", diff)
	}
	for _, k := range []string{"tickets_per_s", "raw_asynq_per_s", "ratio", "p50_ms", "rss_mib"} {
		if f[k] <= 0 {
			t.Errorf("%s=%v, want > 0", k, f[k])
		}
	}
	if f["p99_ms"] < f["p50_ms"] || f["p99_ms"] > 20_000 {
		t.Errorf("p50 %v ms, p99 %v ms: out of order or beyond the run", f["p50_ms"], f["p99_ms"])
	}
	if want := f["tickets_per_s"] / f["raw_asynq_per_s"]; f["ratio"] < want-0.011 || f["ratio"] > want+0.011 {
		t.Errorf("ratio=%v, want tickets_per_s/raw_asynq_per_s = %.3f", f["ratio"], want)
	}
	for _, s := range []string{"raw asynq (no-op handler, concurrency 4", "webhook → comment", "writes per replied ticket", "1 Jira write per reply       met"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("the table lacks %q:\n%s", s, out.String())
		}
	}
	if left := leftovers(t, res.Project, res.Queue, res.RawQueue); left != 0 {
		t.Errorf("%d keys of the run left in Redis", left)
	}
}

func TestRunAtARate(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	res, err := Run(context.Background(), &out, options(t, Options{Tickets: 50, Rate: 100, Concurrency: 2}))
	if err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	summary(t, out.String(), "pipeline", pipelineFields...)
	if res.Processed != 50 {
		t.Errorf("processed %d of 50", res.Processed)
	}
	// ticket i leaves at i/rate: the 50th after 490 ms
	if res.SendElapsed < 490*time.Millisecond || res.SendElapsed > 10*time.Second {
		t.Errorf("sending 50 tickets at 100/s took %v", res.SendElapsed)
	}
	if !strings.Contains(out.String(), "triage bench: 50 tickets (100.00 tickets/s)") {
		t.Errorf("the header lacks the rate:\n%s", out.String())
	}
}

// TestRunQueued runs the memory check with this test binary as the worker
// process (see TestStandInWorkerChild).
func TestRunQueued(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	const n = 60
	res, err := RunQueued(context.Background(), &out, options(t, Options{
		Queued: n, Concurrency: 4,
		WorkerArgv: []string{os.Args[0], "-test.run=^TestStandInWorkerChild$", "-test.count=1"},
		WorkerEnv:  []string{"BENCH_STANDIN_WORKER=1"},
	}))
	if err != nil {
		t.Fatalf("bench --queued: %v\n%s", err, out.String())
	}
	f := summary(t, out.String(), "queued", "tasks", "worker_rss_start_mib", "worker_rss_peak_mib", "drain_per_s", "jira_writes_per_ticket")
	if res.Processed != n || res.Replied != n || res.Failed != 0 || f["tasks"] != n {
		t.Errorf("processed %d, replied %d of %d, %d failed\n%s", res.Processed, res.Replied, n, res.Failed, out.String())
	}
	if f["worker_rss_start_mib"] <= 0 || f["worker_rss_peak_mib"] < f["worker_rss_start_mib"] || f["drain_per_s"] <= 0 || f["jira_writes_per_ticket"] != 1 {
		t.Errorf("implausible figures: %v", f)
	}
	if left := leftovers(t, res.Project, res.Queue); left != 0 {
		t.Errorf("%d keys of the run left in Redis", left)
	}
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	failing := func(context.Context, PipelineConfig, net.Listener, io.Writer) error {
		return errors.New("the worker cannot start")
	}
	tests := []struct {
		name    string
		mod     func(*Options)
		queued  bool
		wantErr string
	}{
		{"no pipeline", func(o *Options) { o.Pipeline = nil }, false, "no pipeline"},
		{"no samples", func(o *Options) { o.Samples = nil }, false, "no sample tickets"},
		{"no Redis", func(o *Options) { o.RedisURL = "redis://127.0.0.1:1/14" }, false, "no Redis at redis://127.0.0.1:1/14"},
		{"a pipeline that does not start", func(o *Options) { o.Pipeline = failing }, false, "the pipeline stopped before it served: the worker cannot start"},
		{"no worker process", func(o *Options) { o.Queued = 10 }, true, "which worker process"},
		{"a worker process that exits", func(o *Options) { o.Queued = 10; o.WorkerArgv = []string{"false"} }, true, "the worker exited early"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := options(t, Options{Tickets: 10})
			tc.mod(&o)
			var err error
			if tc.queued {
				_, err = RunQueued(context.Background(), io.Discard, o)
			} else {
				_, err = Run(context.Background(), io.Discard, o)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestQuantile(t *testing.T) {
	t.Parallel()
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"p50", d, 0.5, 50 * time.Millisecond},
		{"p95", d, 0.95, 95 * time.Millisecond},
		{"p99", d, 0.99, 99 * time.Millisecond},
		{"max", d, 1, 100 * time.Millisecond},
		{"empty", nil, 0.5, 0},
		{"one", d[:1], 0.99, time.Millisecond},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, quantile(tc.sorted, tc.q)); diff != "" {
			t.Errorf("%s (-want, +got):\n%s", tc.name, diff)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"Anmeldung läuft nicht", 10, "Anmeldung…"},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, clip(tc.s, tc.n)); diff != "" {
			t.Errorf("clip(%q, %d) (-want, +got):\n%s", tc.s, tc.n, diff)
		}
	}
}
