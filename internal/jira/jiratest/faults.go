package jiratest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are the standing faults the server injects. The zero value injects
// nothing. Rates are drawn from the seeded random source (see WithSeed).
type Faults struct {
	// Latency delays every answer; LatencyJitter adds a random extra delay in
	// [0, LatencyJitter).
	Latency       time.Duration
	LatencyJitter time.Duration

	// RateLimitRate is the fraction of calls (0..1) answered 429 with a
	// Retry-After of RetryAfter (0 means one second) and X-RateLimit-Reset.
	RateLimitRate float64
	RetryAfter    time.Duration

	// ErrorRate is the fraction of calls (0..1) answered with ErrorStatus
	// (default 500). A 503 carries Retry-After when RetryAfter is set.
	ErrorRate   float64
	ErrorStatus int

	// IssueWriteLimit allows at most this many writes to one issue per
	// IssueWriteWindow (default one second); further writes get 429 with
	// RateLimit-Reason: jira-per-issue-on-write. Zero means no limit.
	IssueWriteLimit  int
	IssueWriteWindow time.Duration
}

// Fault is one injected failure, queued with FailNext or FailNextWith.
type Fault struct {
	Status int // HTTP status to answer, e.g. 429, 500, 503, 401
	// RetryAfter, when positive, is sent as Retry-After in whole seconds
	// (rounded up), or as an HTTP date when RetryAfterDate is set.
	RetryAfter     time.Duration
	RetryAfterDate bool
	// RateLimitReset, when set, is sent as X-RateLimit-Reset. A 429 with a
	// RetryAfter gets now+RetryAfter when this is zero.
	RateLimitReset time.Time
	// Reason is sent as RateLimit-Reason on a 429 (default "jira-burst-based").
	Reason string
	// Messages are the errorMessages of the body; a default fits the status.
	Messages []string
	// Method and Path, when set, make a queued fault wait for a call with
	// that method and a path containing Path; other calls pass it by.
	Method string
	Path   string
}

func (f Fault) matches(method, path string) bool {
	return (f.Method == "" || f.Method == method) && (f.Path == "" || strings.Contains(path, f.Path))
}

type firedFault struct {
	Fault
	Name string
}

// SetFaults replaces the standing faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Faults returns the standing faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// FailNext answers the next k calls, whatever they are, with status and Jira's
// error body.
func (s *Server) FailNext(k int, status int) { s.FailNextWith(k, Fault{Status: status}) }

// FailNextWith answers the next k calls (those matching f.Method and f.Path,
// when set) with f. Queued faults come before the standing ones and before
// the auth check.
func (s *Server) FailNextWith(k int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range k {
		s.failQueue = append(s.failQueue, f)
	}
}

// ClearFaults drops the standing faults and the queued ones.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = Faults{}
	s.failQueue = nil
}

// pickFaultLocked decides whether this call fails and how long it waits.
func (s *Server) pickFaultLocked(method, path string) (*firedFault, time.Duration) {
	f := s.faults
	var fired *firedFault
	queued := slices.IndexFunc(s.failQueue, func(q Fault) bool { return q.matches(method, path) })
	switch {
	case queued >= 0:
		fired = &firedFault{Fault: s.failQueue[queued], Name: "fail-next"}
		s.failQueue = slices.Delete(s.failQueue, queued, queued+1)
	case f.RateLimitRate > 0 && s.rng.Float64() < f.RateLimitRate:
		ra := f.RetryAfter
		if ra <= 0 {
			ra = time.Second
		}
		fired = &firedFault{Fault: Fault{Status: http.StatusTooManyRequests, RetryAfter: ra}, Name: "rate-limit"}
	case f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate:
		st := f.ErrorStatus
		if st == 0 {
			st = http.StatusInternalServerError
		}
		ff := Fault{Status: st}
		if st == http.StatusServiceUnavailable {
			ff.RetryAfter = f.RetryAfter
		}
		fired = &firedFault{Fault: ff, Name: "error-rate"}
	}
	delay := f.Latency
	if f.LatencyJitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(f.LatencyJitter)))
	}
	return fired, delay
}

func (s *Server) faultReply(f firedFault) reply {
	msgs := f.Messages
	if len(msgs) == 0 {
		msgs = []string{defaultMessage(f.Status)}
	}
	rep := errReply(f.Status, msgs...)
	rep.header = http.Header{}
	now := s.now()
	if f.RetryAfter > 0 {
		if f.RetryAfterDate {
			rep.header.Set("Retry-After", now.Add(f.RetryAfter).UTC().Format(http.TimeFormat))
		} else {
			rep.header.Set("Retry-After", strconv.Itoa(ceilSeconds(f.RetryAfter)))
		}
	}
	if f.Status == http.StatusTooManyRequests {
		reset := f.RateLimitReset
		if reset.IsZero() && f.RetryAfter > 0 {
			reset = now.Add(f.RetryAfter)
		}
		if !reset.IsZero() {
			rep.header.Set("X-RateLimit-Reset", formatReset(reset))
		}
		reason := f.Reason
		if reason == "" {
			reason = "jira-burst-based"
		}
		rep.header.Set("RateLimit-Reason", reason)
		rep.header.Set("X-RateLimit-Limit", "100")
		rep.header.Set("X-RateLimit-Remaining", "0")
	}
	return rep
}

// issueWriteLimitLocked answers 429 when the issue had IssueWriteLimit writes
// within the window.
func (s *Server) issueWriteLimitLocked(key string) (reply, bool) {
	limit := s.faults.IssueWriteLimit
	if limit <= 0 {
		return reply{}, false
	}
	window := s.faults.IssueWriteWindow
	if window <= 0 {
		window = time.Second
	}
	now := s.now()
	times := s.writeTimes[key]
	kept := times[:0]
	for _, t := range times {
		if now.Sub(t) < window {
			kept = append(kept, t)
		}
	}
	s.writeTimes[key] = kept
	if len(kept) < limit {
		return reply{}, false
	}
	wait := kept[0].Add(window).Sub(now)
	return s.faultReply(firedFault{Fault: Fault{
		Status:     http.StatusTooManyRequests,
		RetryAfter: wait,
		Reason:     "jira-per-issue-on-write",
		Messages:   []string{"Too many write requests for issue " + key + ". Space out writes to this issue."},
	}}), true
}

func ceilSeconds(d time.Duration) int {
	n := int((d + time.Second - 1) / time.Second)
	return max(n, 1)
}

// formatReset formats X-RateLimit-Reset the way Jira documents it,
// yyyy-MM-ddTHH:mmZ, when the time falls on a whole minute, and with seconds
// (rounded up) otherwise so that short waits stay exact.
func formatReset(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond() != 0 {
		t = t.Truncate(time.Second).Add(time.Second)
	}
	if t.Second() != 0 {
		return t.Format("2006-01-02T15:04:05Z")
	}
	return t.Format("2006-01-02T15:04Z")
}

func defaultMessage(status int) string {
	switch status {
	case http.StatusTooManyRequests:
		return "Rate limit exceeded."
	case http.StatusUnauthorized:
		return "Client must be authenticated to access this resource."
	case http.StatusForbidden:
		return "You do not have permission to perform this operation."
	case http.StatusNotFound:
		return "Issue does not exist or you do not have permission to see it."
	case http.StatusInternalServerError:
		return "Internal server error."
	case http.StatusServiceUnavailable:
		return "Service is temporarily unavailable. Please try again later."
	}
	if t := http.StatusText(status); t != "" {
		return t + "."
	}
	return "Error " + strconv.Itoa(status) + "."
}
