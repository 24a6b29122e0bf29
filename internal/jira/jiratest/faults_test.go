package jiratest

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFailNext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     Fault
		wantHdr   map[string]string
		wantBody  string
		wantCount int
	}{
		{
			name:  "429 with Retry-After seconds",
			fault: Fault{Status: 429, RetryAfter: 2 * time.Second},
			wantHdr: map[string]string{
				"Retry-After": "2", "X-Ratelimit-Reset": "2025-03-10T09:00:02Z",
				"Ratelimit-Reason": "jira-burst-based", "X-Ratelimit-Remaining": "0",
			},
			wantBody: `{"errorMessages":["Rate limit exceeded."],"errors":{}}`,
		},
		{
			name:     "429 with an HTTP-date Retry-After",
			fault:    Fault{Status: 429, RetryAfter: 90 * time.Second, RetryAfterDate: true},
			wantHdr:  map[string]string{"Retry-After": "Mon, 10 Mar 2025 09:01:30 GMT", "X-Ratelimit-Reset": "2025-03-10T09:01:30Z"},
			wantBody: `{"errorMessages":["Rate limit exceeded."],"errors":{}}`,
		},
		{
			name:     "429 with only X-RateLimit-Reset",
			fault:    Fault{Status: 429, RateLimitReset: time.Date(2025, 3, 10, 9, 1, 0, 0, time.UTC)},
			wantHdr:  map[string]string{"Retry-After": "", "X-Ratelimit-Reset": "2025-03-10T09:01Z"},
			wantBody: `{"errorMessages":["Rate limit exceeded."],"errors":{}}`,
		},
		{
			name:     "503 with Retry-After",
			fault:    Fault{Status: 503, RetryAfter: 1500 * time.Millisecond},
			wantHdr:  map[string]string{"Retry-After": "2", "Ratelimit-Reason": ""},
			wantBody: `{"errorMessages":["Service is temporarily unavailable. Please try again later."],"errors":{}}`,
		},
		{
			name:     "custom messages",
			fault:    Fault{Status: 403, Messages: []string{"You do not have the permission to comment on this issue."}},
			wantBody: `{"errorMessages":["You do not have the permission to comment on this issue."],"errors":{}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := seeded(t)
			s.FailNextWith(2, tt.fault)
			for i := range 2 {
				r := call(t, s, "GET", "/rest/api/2/issue/HD-1", "")
				if r.status != tt.fault.Status {
					t.Fatalf("call %d: status %d, want %d", i, r.status, tt.fault.Status)
				}
				for k, v := range tt.wantHdr {
					if got := r.header.Get(k); got != v {
						t.Errorf("header %s = %q, want %q", k, got, v)
					}
				}
				if diff := cmp.Diff(tt.wantBody, string(r.body)); diff != "" {
					t.Errorf("body (-want +got):\n%s", diff)
				}
			}
			if r := call(t, s, "GET", "/rest/api/2/issue/HD-1", ""); r.status != 200 {
				t.Errorf("third call: %d, want 200 once the queue is empty", r.status)
			}
			var faults []string
			for _, c := range s.Calls() {
				faults = append(faults, c.Fault)
			}
			if diff := cmp.Diff([]string{"fail-next", "fail-next", ""}, faults); diff != "" {
				t.Errorf("call log faults (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFailNextMatching(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t)
	s.FailNextWith(1, Fault{Status: 500, Method: "POST", Path: "/transitions"})
	steps := []struct {
		method, path, body string
		want               int
	}{
		{"GET", "/rest/api/2/issue/HD-1/transitions", "", 200},
		{"POST", "/rest/api/2/issue/HD-1/comment", `{"body":"x"}`, 201},
		{"POST", "/rest/api/2/issue/HD-1/transitions", `{"transition":{"id":"31"}}`, 500},
		{"POST", "/rest/api/2/issue/HD-1/transitions", `{"transition":{"id":"31"}}`, 204},
	}
	for i, st := range steps {
		if r := call(t, s, st.method, st.path, st.body); r.status != st.want {
			t.Errorf("step %d: %s %s = %d, want %d", i, st.method, st.path, r.status, st.want)
		}
	}
}

func TestFaultRatesAreDeterministic(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []int {
		s := New(WithSeed(seed), WithFaults(Faults{RateLimitRate: 0.2, ErrorRate: 0.3, ErrorStatus: 503, RetryAfter: time.Second}))
		defer s.Close()
		var got []int
		for range 40 {
			got = append(got, call(t, s, "GET", "/rest/api/2/myself", "").status)
		}
		return got
	}
	a, b, c := run(7), run(7), run(8)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, different faults (-a +b):\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Errorf("different seeds gave the same 40 answers: %v", a)
	}
	count := map[int]int{}
	for _, st := range a {
		count[st]++
	}
	if count[429] == 0 || count[503] == 0 || count[200] == 0 {
		t.Errorf("status mix %v, want some 200, 429 and 503", count)
	}
}

func TestIssueWriteLimit(t *testing.T) {
	t.Parallel()
	s, clk := seeded(t)
	s.SetFaults(Faults{IssueWriteLimit: 2, IssueWriteWindow: 10 * time.Second})
	put := func(key string) response {
		return call(t, s, "PUT", "/rest/api/2/issue/"+key+"/properties/p", `1`)
	}
	for i := range 2 {
		if r := put("HD-1"); r.status/100 != 2 {
			t.Fatalf("write %d: %d", i, r.status)
		}
		clk.Advance(3 * time.Second)
	}
	r := put("HD-1")
	if r.status != http.StatusTooManyRequests {
		t.Fatalf("third write: %d, want 429", r.status)
	}
	// The first write was at 0 s, now is 6 s: room again at 10 s.
	if got := []string{r.header.Get("Retry-After"), r.header.Get("RateLimit-Reason")}; !cmp.Equal(got, []string{"4", "jira-per-issue-on-write"}) {
		t.Errorf("headers = %v", got)
	}
	if r := put("HD-2"); r.status/100 != 2 {
		t.Errorf("another issue is limited too: %d", r.status)
	}
	if r := call(t, s, "GET", "/rest/api/2/issue/HD-1", ""); r.status != 200 {
		t.Errorf("reads are limited too: %d", r.status)
	}
	clk.Advance(4 * time.Second)
	if r := put("HD-1"); r.status/100 != 2 {
		t.Errorf("after the window: %d", r.status)
	}
	if diff := cmp.Diff(map[string]int{"HD-1": 3, "HD-2": 1}, s.Writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if got := s.Faults().IssueWriteLimit; got != 2 {
		t.Errorf("Faults() = %d", got)
	}
	s.ClearFaults()
	if got := s.Faults(); got != (Faults{}) {
		t.Errorf("after ClearFaults: %+v", got)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	s := New(WithFaults(Faults{Latency: 40 * time.Millisecond, LatencyJitter: 10 * time.Millisecond}))
	t.Cleanup(s.Close)
	start := time.Now()
	call(t, s, "GET", "/rest/api/2/myself", "")
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("answered after %v, want at least 40ms", d)
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t)
	done := make(chan struct{})
	for i := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			call(t, s, "POST", "/rest/api/2/issue/HD-2/comment", fmt.Sprintf(`{"body":"c%d"}`, i))
			_ = s.Calls()
			_ = s.Writes()
		}()
	}
	for range 8 {
		<-done
	}
	if n := len(s.Comments("HD-2")); n != 8 {
		t.Errorf("comments = %d, want 8", n)
	}
}
