package worker

import (
	"errors"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
)

// Errors from adapters tell how to retry through these methods; the
// Jira adapter's errors implement them.
type (
	permanentError interface{ Permanent() bool }
	rateLimitError interface {
		RateLimited() bool
		RetryAfterDelay() time.Duration
	}
)

// notFoundError is an error of Jira's 404: the issue is gone.
type notFoundError interface{ NotFound() bool }

func isNotFound(err error) bool {
	var n notFoundError
	return errors.As(err, &n) && n.NotFound()
}

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p) && p.Permanent()
}

func rateLimited(err error) (time.Duration, bool) {
	var r rateLimitError
	if errors.As(err, &r) && r.RateLimited() {
		return r.RetryAfterDelay(), true
	}
	return 0, false
}

// RetryDelay is the asynq RetryDelayFunc: a rate limit waits as long as
// Jira asked (plus a little jitter), a busy ticket a moment, anything else
// backs off as asynq does by default.
func RetryDelay(n int, err error, t *asynq.Task) time.Duration {
	if d, ok := rateLimited(err); ok {
		if d <= 0 {
			d = 5 * time.Second
		}
		return d + time.Duration(rand.Int64N(int64(time.Second)))
	}
	if errors.Is(err, ErrBusy) {
		return time.Second + time.Duration(rand.Int64N(int64(2*time.Second)))
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// IsFailure is the asynq IsFailure hook: a rate limit and a busy ticket are
// waits, not failures. asynq (v0.26.0, rdb.Retry) increments a task's retry
// count only for a failure, so a wait spends none of the task's retries.
func IsFailure(err error) bool {
	if _, ok := rateLimited(err); ok {
		return false
	}
	return !errors.Is(err, ErrBusy)
}
