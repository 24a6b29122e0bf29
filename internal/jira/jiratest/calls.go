package jiratest

import (
	"slices"
	"time"
)

// Call is one request the server answered.
type Call struct {
	Time   time.Time // when it arrived, by the server clock
	Method string
	Path   string // URL path, e.g. /rest/api/2/issue/HD-1
	Query  string // raw query string
	// Issue is the key of the issue the path names (the id or key from the path
	// when no such issue exists), "" for other resources.
	Issue  string
	Status int
	// Write is true for a request that changed state (a 2xx PUT/POST/DELETE).
	Write bool
	Body  []byte // request body
	// Fault names the injected fault that answered the call, "" when none did:
	// "fail-next", "rate-limit", "error-rate" or "issue-write-limit".
	Fault string
	// Auth says how the request authenticated ("basic:<email>", "bearer",
	// "anonymous", ...); the secret itself is never recorded.
	Auth string
}

// Calls returns a copy of the call log, oldest first.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, len(s.calls))
	for i, c := range s.calls {
		c.Body = slices.Clone(c.Body)
		out[i] = c
	}
	return out
}

// ClearCalls empties the call log and nothing else.
func (s *Server) ClearCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = nil
}

// Writes counts the successful writes per issue key in the call log.
func (s *Server) Writes() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for _, c := range s.calls {
		if c.Write && c.Issue != "" {
			out[c.Issue]++
		}
	}
	return out
}
