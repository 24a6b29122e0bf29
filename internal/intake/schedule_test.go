package intake

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/logtest"
)

// enqueuerFunc adapts a function to Enqueuer.
type enqueuerFunc func(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)

func (f enqueuerFunc) EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
	return f(ctx, task, opts...)
}

// signalling passes every enqueue to enq and then sends the task's type on
// the returned channel, so that a test waits for the enqueues, not for a
// time.
func signalling(enq Enqueuer) (Enqueuer, <-chan string) {
	c := make(chan string, 16)
	return enqueuerFunc(func(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error) {
		info, err := enq.EnqueueContext(ctx, task, opts...)
		c <- task.Type()
		return info, err
	}), c
}

// runScheduler runs a scheduler until stop is called; stop returns when Run
// has returned.
func runScheduler(t *testing.T, cfg SchedulerConfig, enq Enqueuer) (stop func()) {
	t.Helper()
	s, err := NewScheduler(cfg, enq)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.Run(ctx)
		close(done)
	}()
	return func() {
		cancel()
		<-done
	}
}

// TestSchedulerEnqueuesAtOnceOncePerBucket: each scheduled kind is enqueued
// as soon as the scheduler runs, on its queue; two replicas scheduling at
// once enqueue one task of each between them, and the refused duplicate is
// not a warning.
func TestSchedulerEnqueuesAtOnceOncePerBucket(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour // one bucket for the whole test
	tests := []struct {
		name                     string
		poll, reconcile          time.Duration
		replicas                 int
		wantTypes                []string
		wantEnqueuesPerScheduler int
	}{
		{"both", day, day, 1, []string{TypePoll, TypeReconcile}, 2},
		{"poll only", day, 0, 1, []string{TypePoll}, 1},
		{"reconcile only", 0, day, 1, []string{TypeReconcile}, 1},
		{"two replicas", day, day, 2, []string{TypePoll, TypeReconcile}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := newTestQueue(t)
			logs := &logtest.Buffer{}
			enq, calls := signalling(q.client)
			cfg := SchedulerConfig{PollInterval: tc.poll, ReconcileInterval: tc.reconcile, Queue: q.name, Logger: zerolog.New(logs)}
			var stops []func()
			for range tc.replicas {
				stops = append(stops, runScheduler(t, cfg, enq))
			}
			for range tc.replicas * tc.wantEnqueuesPerScheduler {
				<-calls
			}
			for _, stop := range stops {
				stop()
			}
			if n := len(calls); n != 0 {
				t.Errorf("%d enqueues more than the %d at start", n, tc.replicas*tc.wantEnqueuesPerScheduler)
			}
			infos, err := q.insp.ListPendingTasks(q.name)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, in := range infos {
				types = append(types, in.Type)
				if !strings.HasPrefix(in.ID, in.Type+":") {
					t.Errorf("task id %q is not the time bucket's of %s", in.ID, in.Type)
				}
			}
			slices.Sort(types)
			if diff := cmp.Diff(tc.wantTypes, types); diff != "" {
				t.Errorf("pending task types (-want, +got):\n%s", diff)
			}
			if logs.String() != "" {
				t.Errorf("logged:\n%s", logs.String())
			}
		})
	}
}

func TestSchedulerLogsAFailedEnqueue(t *testing.T) {
	t.Parallel()
	logs := &logtest.Buffer{}
	enq, calls := signalling(enqueuerFunc(func(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
		return nil, errRedisDown
	}))
	stop := runScheduler(t, SchedulerConfig{PollInterval: time.Hour, Logger: zerolog.New(logs)}, enq)
	<-calls
	stop()
	if got := logs.String(); !strings.Contains(got, `"level":"warn"`) || !strings.Contains(got, "connection refused") {
		t.Errorf("the failed enqueue was not logged as a warning:\n%s", got)
	}
}

func TestNewSchedulerErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     SchedulerConfig
		enq     Enqueuer
		wantErr string
	}{
		{"no enqueuer", SchedulerConfig{PollInterval: time.Minute}, nil, "needs an enqueuer"},
		{"negative interval", SchedulerConfig{ReconcileInterval: -time.Minute}, &memQueue{}, "cannot be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewScheduler(tc.cfg, tc.enq)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	if _, err := NewScheduler(SchedulerConfig{}, &memQueue{}); err != nil {
		t.Errorf("a scheduler of nothing: %v, want none", err)
	}
}
