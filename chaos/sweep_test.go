package chaos_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/redisstore"
)

// sweeper runs the production reconciliation sweep in the test process:
// Jira through internal/jira against the fake (faults and all), the state
// copy and the queue through the test's Redis client.
type sweeper struct {
	r        *intake.Reconciler
	sweeps   int
	enqueued int
	failed   int
}

// newSweeper builds the reconciler for project proj with its default
// window and grace (10 minutes: the seeded tickets were updated an hour
// ago, so a ticket the worker never touched is swept, one it wrote to is
// not).
func newSweeper(t *testing.T, f *fakeJira, rdb redis.UniversalClient, client *asynq.Client, queue, proj string) *sweeper {
	t.Helper()
	jc, err := jira.New(jira.Config{BaseURL: f.url, Email: botEmail, APIToken: botToken, BotAccountID: bot.AccountID})
	if err != nil {
		t.Fatal(err)
	}
	r, err := intake.NewReconciler(intake.ReconcilerConfig{JQL: "project = " + proj, Queue: queue}, jc, redisstore.New(rdb, redisstore.Config{}), client)
	if err != nil {
		t.Fatal(err)
	}
	return &sweeper{r: r}
}

// sweep runs one sweep; a failed sweep (Jira or Redis down) is counted and
// tried again at the next call.
func (s *sweeper) sweep(ctx context.Context) (int, error) {
	s.sweeps++
	n, err := s.r.Sweep(ctx)
	s.enqueued += n
	if err != nil {
		s.failed++
	}
	return n, err
}
