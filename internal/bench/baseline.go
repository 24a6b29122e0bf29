package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
)

// rawAsynq enqueues n no-op tasks, then processes them with an asynq server
// of the given concurrency, and returns how long the processing took (from
// the server's start to the last task's handler) and the enqueue rate.
func rawAsynq(ctx context.Context, conn asynq.RedisConnOpt, queue string, n, concurrency int, timeout time.Duration) (time.Duration, float64, error) {
	client := asynq.NewClient(conn)
	defer client.Close()
	var next, nerr atomic.Int64
	var firstErr atomic.Value
	enqStart := time.Now()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				if i := next.Add(1); i > int64(n) || ctx.Err() != nil {
					return
				}
				if _, err := client.EnqueueContext(ctx, asynq.NewTask("bench:noop", nil), asynq.Queue(queue)); err != nil {
					nerr.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		})
	}
	wg.Wait()
	enqPerSec := float64(n) / time.Since(enqStart).Seconds()
	if nerr.Load() > 0 {
		return 0, 0, fmt.Errorf("%d enqueues failed: %v", nerr.Load(), firstErr.Load())
	}
	var done atomic.Int64
	finished := make(chan time.Time, 1)
	srv := asynq.NewServer(conn, asynq.Config{
		Concurrency: concurrency, Queues: map[string]int{queue: 1},
		LogLevel: asynq.FatalLevel, ShutdownTimeout: 5 * time.Second,
	})
	start := time.Now()
	if err := srv.Start(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		if done.Add(1) == int64(n) {
			finished <- time.Now()
		}
		return nil
	})); err != nil {
		return 0, 0, err
	}
	defer srv.Shutdown()
	select {
	case end := <-finished:
		return end.Sub(start), enqPerSec, nil
	case <-time.After(timeout):
		return 0, 0, fmt.Errorf("timed out: %d of %d no-op tasks processed", done.Load(), n)
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
}
