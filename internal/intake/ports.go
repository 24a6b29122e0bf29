package intake

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/internal/jira"
)

// Enqueuer puts tasks on the asynq queue. *asynq.Client implements it.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, task *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

var _ Enqueuer = (*asynq.Client)(nil)

// AgentRecorder records that a human agent commented on a ticket, so that
// the worker backs off. The worker's state store implements it.
type AgentRecorder interface {
	RecordAgent(ctx context.Context, issueKey, accountID string, at time.Time) error
}

// Pinger answers whether the queue's Redis is reachable; /readyz asks it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingFunc adapts a function to Pinger, e.g.
//
//	intake.PingFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
type PingFunc func(ctx context.Context) error

// Ping calls f.
func (f PingFunc) Ping(ctx context.Context) error { return f(ctx) }

var _ Pinger = PingFunc(nil)

// Searcher runs a JQL search page by page. *jira.Client implements it
// (GET /rest/api/2/search/jql with nextPageToken paging).
type Searcher interface {
	SearchJQL(ctx context.Context, jql string, fields []string, pageFn func([]jira.Issue) error) error
}

var _ Searcher = (*jira.Client)(nil)

// ZoneFinder tells the time zone Jira reads the searching user's JQL dates
// in (its profile's). *jira.Client implements it (GET /myself); a poller
// whose Searcher is also a ZoneFinder asks it once.
type ZoneFinder interface {
	TimeZone(ctx context.Context) (*time.Location, error)
}

var _ ZoneFinder = (*jira.Client)(nil)

// Cursor keeps the poller's position: the time up to which Jira was
// searched. RedisCursor implements it.
type Cursor interface {
	// Get returns the stored time; ok is false when none is stored yet.
	Get(ctx context.Context) (t time.Time, ok bool, err error)
	// Set stores t. An implementation may refuse to move backwards.
	Set(ctx context.Context, t time.Time) error
}

// StateChecker reports whether the worker keeps triage state for a ticket
// (its Redis copy). The worker's state store implements it.
type StateChecker interface {
	HasState(ctx context.Context, issueKey string) (bool, error)
}
