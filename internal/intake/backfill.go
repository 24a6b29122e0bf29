package intake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/internal/jira"
)

// BackfillConfig configures the Backfill. Every field is optional.
type BackfillConfig struct {
	// Queue is the asynq queue triage tasks go to. Default
	// worker.DefaultQueue.
	Queue string

	// Logger receives a line per enqueued ticket, at debug level. The
	// zero value logs nothing.
	Logger zerolog.Logger

	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Backfill triages the tickets that were there before triage ran: Find
// lists every ticket of a JQL search and Enqueue enqueues one as a
// backfill event with the delivery id "backfill:<key>:<updated, unix ms>",
// so that a ticket is enqueued once however often it is backfilled, until
// it changes. It is the poller's search-and-enqueue, run once on a query
// of the operator's.
type Backfill struct {
	se  searchEnqueue
	log zerolog.Logger
}

// NewBackfill builds a backfill. search is the Jira adapter
// (*jira.Client), enq an *asynq.Client. Both are required.
func NewBackfill(cfg BackfillConfig, search Searcher, enq Enqueuer) (*Backfill, error) {
	se, errs := newSearchEnqueue("backfill", triage.EventBackfill, search, enq, cfg.Queue, cfg.Now)
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	return &Backfill{se: se, log: cfg.Logger}, nil
}

// Find returns every ticket jql finds, all pages, with the fields the task
// payload carries. The query is used as given (an ORDER BY is kept).
func (b *Backfill) Find(ctx context.Context, jql string) ([]jira.Issue, error) {
	if strings.TrimSpace(jql) == "" {
		return nil, errors.New("backfill: the JQL is empty: say which tickets to triage, e.g. project = HD")
	}
	var found []jira.Issue
	if err := b.se.each(ctx, jql, func(is jira.Issue) error {
		found = append(found, is)
		return nil
	}); err != nil {
		return found, fmt.Errorf("backfill: %w", err)
	}
	return found, nil
}

// Enqueue enqueues a triage task for a ticket Find returned. added is
// false when the same update of the ticket was already enqueued.
func (b *Backfill) Enqueue(ctx context.Context, is jira.Issue) (added bool, err error) {
	id, added, err := b.se.enqueue(ctx, is)
	if err != nil {
		return false, fmt.Errorf("backfill: %w", err)
	}
	b.log.Debug().Str("event", triage.EventBackfill).Str("issue_key", is.Key).Str("delivery_id", id).
		Str("status", statusOf(added)).Msg("backfill")
	return added, nil
}
