package intake

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/worker"
)

// Task types of the scheduled searches.
const (
	// TypePoll runs Poller.Poll.
	TypePoll = "ticket:poll"
	// TypeReconcile runs Reconciler.Sweep.
	TypeReconcile = "ticket:reconcile"
)

// PollTaskID and ReconcileTaskID name the task of the time bucket that
// holds at: the same for every replica that schedules it in that bucket.
func PollTaskID(at time.Time, every time.Duration) string {
	return fmt.Sprintf("%s:%d", TypePoll, at.Truncate(every).Unix())
}

// ReconcileTaskID is PollTaskID for TypeReconcile.
func ReconcileTaskID(at time.Time, every time.Duration) string {
	return fmt.Sprintf("%s:%d", TypeReconcile, at.Truncate(every).Unix())
}

// NewPollTask builds the poll task of the time bucket (of length every)
// that holds at. Its TaskID is the bucket's, so replicas that each
// schedule a poll every interval enqueue one between them; a duplicate
// enqueue fails with asynq.ErrTaskIDConflict, which the scheduler should
// ignore. The task is kept for one interval after it ran (Retention) and
// not retried: the next bucket's poll picks up where it failed. opts may
// override the queue (worker.DefaultQueue) and the rest.
//
// The bucket is an argument because asynq.Scheduler enqueues one fixed
// task (fixed TaskID) at every tick: schedule with a ticker that calls
// NewPollTask(tick, every) instead.
func NewPollTask(at time.Time, every time.Duration, opts ...asynq.Option) (*asynq.Task, error) {
	if every <= 0 {
		return nil, fmt.Errorf("poll task: the interval must be positive, got %v", every)
	}
	return asynq.NewTask(TypePoll, nil, scheduledOptions(PollTaskID(at, every), every, opts)...), nil
}

// NewReconcileTask is NewPollTask for the reconciliation sweep.
func NewReconcileTask(at time.Time, every time.Duration, opts ...asynq.Option) (*asynq.Task, error) {
	if every <= 0 {
		return nil, fmt.Errorf("reconcile task: the interval must be positive, got %v", every)
	}
	return asynq.NewTask(TypeReconcile, nil, scheduledOptions(ReconcileTaskID(at, every), every, opts)...), nil
}

func scheduledOptions(id string, every time.Duration, opts []asynq.Option) []asynq.Option {
	base := []asynq.Option{asynq.TaskID(id), asynq.Queue(worker.DefaultQueue), asynq.MaxRetry(0), asynq.Retention(every)}
	return append(base, opts...)
}

// ProcessTask runs a poll; it implements asynq.Handler for TypePoll.
func (p *Poller) ProcessTask(ctx context.Context, t *asynq.Task) error {
	if t.Type() != TypePoll {
		return fmt.Errorf("poller got a %q task: %w", t.Type(), asynq.SkipRetry)
	}
	_, err := p.Poll(ctx)
	return err
}

// ProcessTask runs a sweep; it implements asynq.Handler for TypeReconcile.
func (r *Reconciler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	if t.Type() != TypeReconcile {
		return fmt.Errorf("reconciler got a %q task: %w", t.Type(), asynq.SkipRetry)
	}
	_, err := r.Sweep(ctx)
	return err
}

var (
	_ asynq.Handler = (*Poller)(nil)
	_ asynq.Handler = (*Reconciler)(nil)
)
