package intake

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
)

// SchedulerConfig configures the Scheduler. An interval of 0 schedules
// nothing of its kind.
type SchedulerConfig struct {
	// PollInterval is how often a poll task (TypePoll) is enqueued.
	PollInterval time.Duration

	// ReconcileInterval is how often a reconcile task (TypeReconcile) is
	// enqueued.
	ReconcileInterval time.Duration

	// Queue is the asynq queue the tasks go to. Default
	// worker.DefaultQueue.
	Queue string

	// Logger receives a warning when an enqueue fails. The zero value logs
	// nothing.
	Logger zerolog.Logger
}

// Scheduler enqueues the poll and reconcile tasks: each at once, then on
// its interval. Every worker replica runs one; the task ids of a time
// bucket (NewPollTask, NewReconcileTask) keep the replicas from doubling
// the polls, and the refused duplicates are not logged.
type Scheduler struct {
	cfg SchedulerConfig
	enq Enqueuer
}

// NewScheduler builds a scheduler that enqueues with enq (an
// *asynq.Client).
func NewScheduler(cfg SchedulerConfig, enq Enqueuer) (*Scheduler, error) {
	var errs []error
	if cfg.PollInterval < 0 || cfg.ReconcileInterval < 0 {
		errs = append(errs, fmt.Errorf("the poll and reconcile intervals cannot be negative (%v, %v); use 0 to schedule none", cfg.PollInterval, cfg.ReconcileInterval))
	}
	if enq == nil {
		errs = append(errs, errors.New("the scheduler needs an enqueuer (an asynq client) and got none"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("scheduler: %w", err)
	}
	return &Scheduler{cfg: cfg, enq: enq}, nil
}

// Run schedules until ctx ends and returns when it has stopped.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, k := range []struct {
		every time.Duration
		build func(time.Time, time.Duration, ...asynq.Option) (*asynq.Task, error)
	}{
		{s.cfg.PollInterval, NewPollTask},
		{s.cfg.ReconcileInterval, NewReconcileTask},
	} {
		if k.every > 0 {
			wg.Go(func() { s.tick(ctx, k.every, k.build) })
		}
	}
	wg.Wait()
}

// tick enqueues the task of the current time bucket at once and at every
// tick of every, until ctx ends.
func (s *Scheduler) tick(ctx context.Context, every time.Duration, build func(time.Time, time.Duration, ...asynq.Option) (*asynq.Task, error)) {
	var opts []asynq.Option
	if s.cfg.Queue != "" {
		opts = append(opts, asynq.Queue(s.cfg.Queue))
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		task, err := build(time.Now(), every, opts...)
		if err == nil {
			_, err = s.enq.EnqueueContext(ctx, task)
		}
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) && ctx.Err() == nil {
			s.cfg.Logger.Warn().Err(err).Msg("schedule")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
