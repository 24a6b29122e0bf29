package worker

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"
)

// LoggingMiddleware logs every task's end with its type, id, duration and
// outcome.
func LoggingMiddleware(log zerolog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			start := time.Now()
			err := next.ProcessTask(ctx, t)
			id, _ := asynq.GetTaskID(ctx)
			ev := log.Info()
			if err != nil {
				ev = log.Warn().Err(err)
			}
			ev.Str("task_type", t.Type()).Str("task_id", id).Dur("duration", time.Since(start)).Msg("task")
			return err
		})
	}
}

// RecoveryMiddleware turns a handler panic into an error with the stack
// logged, so one bad ticket cannot take the worker down.
func RecoveryMiddleware(log zerolog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
			defer func() {
				if p := recover(); p != nil {
					id, _ := asynq.GetTaskID(ctx)
					log.Error().Str("task_type", t.Type()).Str("task_id", id).Str("panic", fmt.Sprint(p)).Str("stack", string(debug.Stack())).Msg("handler panicked")
					err = fmt.Errorf("panic in %s: %v", t.Type(), p)
				}
			}()
			return next.ProcessTask(ctx, t)
		})
	}
}
