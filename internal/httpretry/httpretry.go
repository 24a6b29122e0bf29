// Package httpretry holds what the HTTP adapters (Jira, Microsoft Graph)
// share to retry calls the same way: the wait a server asks for in
// Retry-After, exponential backoff with full jitter, and sleeps that end
// with their context.
package httpretry

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads Retry-After, in seconds or as an HTTP date, as a wait
// from now; ok is false when it is absent or unreadable. The wait is zero
// when not positive or absurd (over about 11 days).
func RetryAfter(h http.Header, now time.Time) (wait time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		if !(n > 0 && n <= maxRetryAfter.Seconds()) { // NaN too
			return 0, true
		}
		return time.Duration(n * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 && d <= maxRetryAfter {
			return d, true
		}
		return 0, true
	}
	return 0, false
}

// maxRetryAfter is the longest Retry-After taken at its word.
const maxRetryAfter = 1e6 * time.Second

// Backoff is full jitter: a random wait in [0, min(ceiling,
// base·2^(attempt-1))]. jitter, when set, picks the wait in [0, n) instead
// of the random source (for tests).
func Backoff(attempt int, base, ceiling time.Duration, jitter func(n time.Duration) time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < ceiling; i++ {
		d *= 2
	}
	d = min(d, ceiling)
	if jitter != nil {
		return jitter(d)
	}
	return time.Duration(rand.Int64N(int64(d) + 1))
}

// Sleep waits for d or until ctx ends, whichever comes first, and returns
// the context's error when it ended first.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// FitsDeadline reports whether waiting d still leaves the context alive.
// Deadlines are wall-clock time, so this uses the real clock.
func FitsDeadline(ctx context.Context, d time.Duration) bool {
	if ctx.Err() != nil {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || d < time.Until(dl)
}

// NeverSent reports errors that happen before a request reaches the
// server (a refused dial, a name that does not resolve): such a request may
// be repeated even when it is not idempotent.
func NeverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}
