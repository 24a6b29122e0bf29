package intake

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/mfatriage/triage"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/jira"
)

// Defaults for the zero values of ReconcilerConfig.
const (
	DefaultReconcileWindow = 24 * time.Hour
	DefaultReconcileGrace  = 10 * time.Minute
)

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
	errs := validateSearch(c.JQL, c.Queue)
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
	cfg   ReconcilerConfig
	se    searchEnqueue
	state StateChecker
	log   zerolog.Logger
}

// NewReconciler builds a reconciler. search is the Jira adapter, state the
// worker's state store, enq an *asynq.Client. All are required.
func NewReconciler(cfg ReconcilerConfig, search Searcher, state StateChecker, enq Enqueuer) (*Reconciler, error) {
	se, seErrs := newSearchEnqueue("reconciler", triage.EventReconcile, search, enq, cfg.Queue, cfg.Now)
	errs := append([]error{cfg.Validate()}, seErrs...)
	if state == nil {
		errs = append(errs, errors.New("the reconciler needs a triage state checker and got none"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("reconciler: %w", err)
	}
	cfg.Queue, cfg.Now = se.queue, se.now
	if cfg.Window == 0 {
		cfg.Window = DefaultReconcileWindow
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultReconcileGrace
	}
	if cfg.Labels == nil {
		cfg.Labels = triage.HandledLabels
	}
	return &Reconciler{cfg: cfg, se: se, state: state, log: cfg.Logger}, nil
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
	var n tally
	handled, recent := 0, 0
	err = r.se.each(ctx, r.JQL(), func(is jira.Issue) error {
		n.seen++
		if r.cfg.Grace > 0 && is.Updated.After(now.Add(-r.cfg.Grace)) {
			recent++
			return nil
		}
		if slices.ContainsFunc(is.Labels, func(l string) bool { return slices.Contains(r.cfg.Labels, l) }) {
			handled++
			return nil
		}
		has, err := r.state.HasState(ctx, is.Key)
		if err != nil {
			return fmt.Errorf("triage state of %s: %w", is.Key, err)
		}
		if has {
			handled++
			return nil
		}
		id, added, err := r.se.enqueue(ctx, is)
		if err != nil {
			return err
		}
		r.log.Info().Str("event", triage.EventReconcile).Str("issue_key", is.Key).Str("delivery_id", id).
			Str("status", n.add(added)).Msg("reconcile: ticket without triage state")
		return nil
	})
	if err != nil {
		r.log.Error().Err(err).Int("enqueued", n.enqueued).Msg("reconciliation failed")
		return n.enqueued, fmt.Errorf("reconcile: %w", err)
	}
	r.log.Info().Str("event", triage.EventReconcile).Int("seen", n.seen).Int("handled", handled).Int("recent", recent).
		Int("enqueued", n.enqueued).Int("duplicates", n.duplicates).Msg("reconciliation done")
	return n.enqueued, nil
}
