package intake

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/worker"
)

// Defaults for the zero values of ReconcilerConfig.
const (
	DefaultReconcileWindow = 24 * time.Hour
	DefaultReconcileGrace  = 10 * time.Minute
)

// ticket with any of them is not swept again.

// ReconcilerConfig configures the Reconciler. Every optional field has a
// documented default for its zero value; Validate says in plain words what
// is wrong.
type ReconcilerConfig struct {
	// JQL selects the tickets to triage (as PollerConfig.JQL). Required,
	// without ORDER BY.
	JQL string

	// Queue is the asynq queue triage tasks go to. Default
	// worker.DefaultQueue.
	Queue string

	// Window is how far back the sweep looks, rounded up to whole hours:
	// `updated >= -<N>h`. Default 24 hours.
	Window time.Duration

	// Grace leaves alone tickets updated less than Grace ago: their
	// webhook may still be on its way or in the queue. Default 10
	// minutes; a negative value turns it off.
	Grace time.Duration

	// Labels mark a ticket as handled. Default triage.HandledLabels.
	Labels []string

	// Logger receives a line per enqueued ticket and per sweep. The zero
	// value logs nothing.
	Logger zerolog.Logger

	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Validate reports every problem in the configuration at once.
func (c ReconcilerConfig) Validate() error {
	errs := validateJQL(c.JQL)
	if c.Queue != "" && strings.TrimSpace(c.Queue) != c.Queue {
		errs = append(errs, fmt.Errorf("the queue name %q starts or ends with white space", c.Queue))
	}
	if c.Window < 0 {
		errs = append(errs, fmt.Errorf("the reconciliation window is negative (%v); use 0 for the default of %v", c.Window, DefaultReconcileWindow))
	}
	if c.Window > 366*24*time.Hour {
		errs = append(errs, fmt.Errorf("the reconciliation window of %v is longer than a year; a sweep that long would re-read every old ticket", c.Window))
	}
	return errors.Join(errs...)
}

// Reconciler re-enqueues the tickets that should have been triaged and
// carry no sign of it, so that a ticket lost anywhere (a webhook never
// delivered, Redis data lost) is still triaged.
type Reconciler struct {
	cfg    ReconcilerConfig
	search Searcher
	state  StateChecker
	enq    Enqueuer
	log    zerolog.Logger
}

// NewReconciler builds a reconciler. search is the Jira adapter, state the
// worker's state store, enq an *asynq.Client. All are required.
func NewReconciler(cfg ReconcilerConfig, search Searcher, state StateChecker, enq Enqueuer) (*Reconciler, error) {
	errs := []error{cfg.Validate()}
	if search == nil {
		errs = append(errs, errors.New("the reconciler needs a Jira searcher and got none"))
	}
	if state == nil {
		errs = append(errs, errors.New("the reconciler needs a triage state checker and got none"))
	}
	if enq == nil {
		errs = append(errs, errors.New("the reconciler needs an enqueuer (an asynq client) and got none"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("reconciler: %w", err)
	}
	if cfg.Queue == "" {
		cfg.Queue = worker.DefaultQueue
	}
	if cfg.Window == 0 {
		cfg.Window = DefaultReconcileWindow
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultReconcileGrace
	}
	if cfg.Labels == nil {
		cfg.Labels = triage.HandledLabels
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Reconciler{cfg: cfg, search: search, state: state, enq: enq, log: cfg.Logger}, nil
}

// JQL returns the query a sweep runs.
func (r *Reconciler) JQL() string {
	hours := int(math.Ceil(r.cfg.Window.Hours()))
	return fmt.Sprintf("(%s) AND updated >= -%dh ORDER BY updated ASC", r.cfg.JQL, max(hours, 1))
}

// Sweep searches the tickets of the window and enqueues, as reconcile
// events with the delivery id "reconcile:<key>:<updated, unix ms>", those
// with none of the triage labels and no triage state, except the ones
// updated within the grace period. It returns how many tasks it enqueued.
func (r *Reconciler) Sweep(ctx context.Context) (enqueued int, err error) {
	now := r.cfg.Now()
	seen, handled, recent, dup := 0, 0, 0, 0
	err = r.search.SearchJQL(ctx, r.JQL(), SearchFields, func(issues []jira.Issue) error {
		for _, is := range issues {
			seen++
			if r.cfg.Grace > 0 && is.Updated.After(now.Add(-r.cfg.Grace)) {
				recent++
				continue
			}
			if slices.ContainsFunc(is.Labels, func(l string) bool { return slices.Contains(r.cfg.Labels, l) }) {
				handled++
				continue
			}
			has, err := r.state.HasState(ctx, is.Key)
			if err != nil {
				return fmt.Errorf("triage state of %s: %w", is.Key, err)
			}
			if has {
				handled++
				continue
			}
			id := fmt.Sprintf("reconcile:%s:%d", is.Key, is.Updated.UnixMilli())
			added, err := enqueueIssue(ctx, r.enq, r.cfg.Queue, triage.EventReconcile, id, is, now)
			if err != nil {
				return err
			}
			if added {
				enqueued++
			} else {
				dup++
			}
			r.log.Info().Str("event", triage.EventReconcile).Str("issue_key", is.Key).Str("delivery_id", id).
				Str("status", statusOf(added)).Msg("reconcile: ticket without triage state")
		}
		return nil
	})
	if err != nil {
		r.log.Error().Err(err).Int("enqueued", enqueued).Msg("reconciliation failed")
		return enqueued, fmt.Errorf("reconcile: %w", err)
	}
	r.log.Info().Str("event", triage.EventReconcile).Int("seen", seen).Int("handled", handled).Int("recent", recent).
		Int("enqueued", enqueued).Int("duplicates", dup).Msg("reconciliation done")
	return enqueued, nil
}
