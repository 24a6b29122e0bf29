package httpretry_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/httpretry"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

// maxWait is the longest wait RetryAfter may return: about 11 days.
const maxWait = 1e6 * time.Second

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	type result struct {
		Wait time.Duration
		OK   bool
	}
	tests := []struct {
		name  string
		value string
		want  result
	}{
		{"absent", "", result{0, false}},
		{"seconds", "120", result{2 * time.Minute, true}},
		{"fractional seconds", "1.5", result{1500 * time.Millisecond, true}},
		{"spaces around", "  7 ", result{7 * time.Second, true}},
		{"zero", "0", result{0, true}},
		{"negative", "-5", result{0, true}},
		{"absurd seconds", "99999999", result{0, true}},
		{"HTTP date ahead", now.Add(90 * time.Second).Format(http.TimeFormat), result{90 * time.Second, true}},
		{"HTTP date passed", now.Add(-time.Hour).Format(http.TimeFormat), result{0, true}},
		{"HTTP date years ahead", now.AddDate(30, 0, 0).Format(http.TimeFormat), result{0, true}},
		{"garbage", "soon", result{0, false}},
		{"not a number", "NaN", result{0, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			wait, ok := httpretry.RetryAfter(h, now)
			if diff := cmp.Diff(tt.want, result{wait, ok}); diff != "" {
				t.Errorf("RetryAfter(%q) (-want, +got):\n%s", tt.value, diff)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	whole := func(n time.Duration) time.Duration { return n } // the top of the range
	base, ceiling := 100*time.Millisecond, time.Second
	var got []time.Duration
	for attempt := range 7 {
		got = append(got, httpretry.Backoff(attempt, base, ceiling, whole))
	}
	want := []time.Duration{base, base, 2 * base, 4 * base, 8 * base, ceiling, ceiling}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("top of each attempt's range (-want, +got):\n%s", diff)
	}
	for range 100 {
		if d := httpretry.Backoff(3, base, ceiling, nil); d < 0 || d > 4*base {
			t.Fatalf("Backoff(3) = %v, want within [0, %v]", d, 4*base)
		}
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	if err := httpretry.Sleep(t.Context(), time.Millisecond); err != nil {
		t.Errorf("a short sleep: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := httpretry.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("an hour's sleep in an ended context = %v, want context.Canceled", err)
	}
	if err := httpretry.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("no sleep in an ended context = %v, want context.Canceled", err)
	}
}

func TestFitsDeadline(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	if !httpretry.FitsDeadline(ctx, time.Minute) {
		t.Error("a minute does not fit in an hour")
	}
	if httpretry.FitsDeadline(ctx, 2*time.Hour) {
		t.Error("two hours fit in an hour")
	}
	if !httpretry.FitsDeadline(t.Context(), 24*time.Hour) {
		t.Error("a day does not fit in a context without a deadline")
	}
	ended, stop := context.WithCancel(t.Context())
	stop()
	if httpretry.FitsDeadline(ended, 0) {
		t.Error("a wait fits in an ended context")
	}
}

func TestNeverSent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"refused dial", fmt.Errorf("get issue: %w", &net.OpError{Op: "dial", Err: errors.New("connection refused")}), true},
		{"unknown host", &net.DNSError{Err: "no such host", Name: "jira.invalid"}, true},
		{"reset while reading", &net.OpError{Op: "read", Err: errors.New("connection reset by peer")}, false},
		{"timeout", context.DeadlineExceeded, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		if got := httpretry.NeverSent(tt.err); got != tt.want {
			t.Errorf("NeverSent(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzRetryAfter feeds any header value: the wait is never negative nor
// longer than about 11 days, whatever a server or a proxy sends.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "120", "1.5", "-1", "1e300", "NaN", "+Inf", "Sun, 06 Dec 2026 12:01:30 GMT", "Fri, 31 Dec 9999 23:59:59 GMT", "Monday, 07-Dec-26 12:00:00 GMT", "soon"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		h := http.Header{"Retry-After": {v}}
		wait, _ := httpretry.RetryAfter(h, now)
		if wait < 0 || wait > maxWait {
			t.Errorf("RetryAfter(%q) = %v, want within [0, %v]", v, wait, maxWait)
		}
	})
}
