package intake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/worker"
)

// SearchFields are the fields the poller, the reconciler and the backfill
// ask Jira for: what the task payload carries.
var SearchFields = []string{"summary", "description", "reporter", "labels", "status", "updated"}

// searchEnqueue is intake's one search-and-enqueue, shared by the poller,
// the reconciler and the backfill: a JQL search of every page for the
// fields the task payload carries, and a triage task per ticket as one
// event, with the delivery id "<event>:<key>:<updated, unix ms>", so that
// an update is enqueued once however often, and by however many replicas,
// it is found.
type searchEnqueue struct {
	search Searcher
	enq    Enqueuer
	event  string
	queue  string
	now    func() time.Time
}

// newSearchEnqueue checks what the named user ("poller", "reconciler",
// "backfill") was given, and fills in the defaults of queue
// (worker.DefaultQueue) and now (time.Now).
func newSearchEnqueue(who, event string, search Searcher, enq Enqueuer, queue string, now func() time.Time) (searchEnqueue, []error) {
	var errs []error
	if search == nil {
		errs = append(errs, fmt.Errorf("the %s needs a Jira searcher and got none", who))
	}
	if enq == nil {
		errs = append(errs, fmt.Errorf("the %s needs an enqueuer (an asynq client) and got none", who))
	}
	if queue == "" {
		queue = worker.DefaultQueue
	}
	if now == nil {
		now = time.Now
	}
	return searchEnqueue{search: search, enq: enq, event: event, queue: queue, now: now}, errs
}

// validateSearch checks the JQL and the queue name of a configuration.
func validateSearch(jql, queue string) []error {
	errs := validateJQL(jql)
	if queue != "" && strings.TrimSpace(queue) != queue {
		errs = append(errs, fmt.Errorf("the queue name %q starts or ends with white space", queue))
	}
	return errs
}

// each runs jql, every page, and calls fn for each ticket found; an error
// of fn ends the search.
func (s searchEnqueue) each(ctx context.Context, jql string, fn func(jira.Issue) error) error {
	return s.search.SearchJQL(ctx, jql, SearchFields, func(issues []jira.Issue) error {
		for _, is := range issues {
			if err := fn(is); err != nil {
				return err
			}
		}
		return nil
	})
}

// enqueue enqueues a triage task for a ticket found by a search. added is
// false when its delivery was already enqueued.
func (s searchEnqueue) enqueue(ctx context.Context, is jira.Issue) (deliveryID string, added bool, err error) {
	deliveryID = fmt.Sprintf("%s:%s:%d", s.event, is.Key, is.Updated.UnixMilli())
	p := worker.TriagePayload{
		Event:      s.event,
		DeliveryID: deliveryID,
		ReceivedAt: s.now(),
		Issue:      issueFromJira(is),
	}
	task, err := worker.NewTriageTask(p, asynq.Queue(s.queue))
	if err != nil {
		return deliveryID, false, fmt.Errorf("triage task of %s: %w", is.Key, err)
	}
	_, err = s.enq.EnqueueContext(ctx, task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		return deliveryID, false, nil
	case err != nil:
		return deliveryID, false, fmt.Errorf("enqueue %s: %w", is.Key, err)
	}
	return deliveryID, true, nil
}

// tally counts what a search enqueued.
type tally struct{ seen, enqueued, duplicates int }

// add counts one enqueue and returns its status for the log.
func (t *tally) add(added bool) string {
	if added {
		t.enqueued++
	} else {
		t.duplicates++
	}
	return statusOf(added)
}

func statusOf(added bool) string {
	if added {
		return StatusEnqueued
	}
	return StatusDuplicate
}

// issueFromJira maps a searched issue to the payload's issue, with the
// identities the webhook path uses (account id, else user name).
func issueFromJira(is jira.Issue) triage.Issue {
	rep := user{accountID: is.Reporter.AccountID, name: is.Reporter.Name, displayName: is.Reporter.DisplayName}
	return triage.Issue{
		Key:           is.Key,
		ID:            is.ID,
		Summary:       truncate(is.Summary, MaxTextBytes),
		Description:   truncate(is.Description, MaxTextBytes),
		ReporterID:    rep.id(),
		ReporterName:  rep.displayName,
		ReporterEmail: is.Reporter.Email,
		Labels:        is.Labels,
		Status:        is.Status,
		Updated:       is.Updated,
	}
}
