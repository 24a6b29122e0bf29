package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
)

// AsynqFollowups schedules follow-ups as asynq tasks with deterministic
// task ids, and cancels them through the inspector.
type AsynqFollowups struct {
	Client    *asynq.Client
	Inspector *asynq.Inspector
	// Queue is the queue of the follow-up tasks. Default DefaultQueue.
	Queue string
}

var _ triage.Followups = (*AsynqFollowups)(nil)

func (f *AsynqFollowups) queue() string {
	if f.Queue == "" {
		return DefaultQueue
	}
	return f.Queue
}

// Schedule implements Followups; scheduling the same follow-up twice is a
// no-op.
func (f *AsynqFollowups) Schedule(ctx context.Context, key string, version int, window time.Duration) error {
	t, err := NewFollowupTask(key, version, window, asynq.Queue(f.queue()))
	if err != nil {
		return err
	}
	_, err = f.Client.EnqueueContext(ctx, t)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
		return fmt.Errorf("schedule follow-up of %s: %w", key, err)
	}
	return nil
}

// Cancel implements Followups; a follow-up that is not there is fine.
func (f *AsynqFollowups) Cancel(ctx context.Context, key string, version int) error {
	if f.Inspector == nil || version <= 0 {
		return nil
	}
	err := f.Inspector.DeleteTask(f.queue(), FollowupTaskID(key, version))
	if err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
		return fmt.Errorf("cancel follow-up of %s: %w", key, err)
	}
	return nil
}
