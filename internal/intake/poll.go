package intake

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/mfatriage/triage"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/jira"
)

// Defaults for the zero values of PollerConfig.
const (
	DefaultPollOverlap  = time.Minute
	DefaultPollLookback = 24 * time.Hour
)

// jqlDateLayout is Jira's "yyyy/MM/dd HH:mm".
const jqlDateLayout = "2006/01/02 15:04"

// PollerConfig configures the Poller. Every optional field has a documented
// default for its zero value; Validate says in plain words what is wrong.
type PollerConfig struct {
	// JQL selects the tickets to triage, e.g. `project = HD AND issuetype =
	// "Service Request"`. Required, without ORDER BY: the poller adds
	// `AND updated >= "<cursor>" ORDER BY updated ASC`.
	JQL string

	// Queue is the asynq queue triage tasks go to. Default
	// worker.DefaultQueue.
	Queue string

	// Overlap is how far behind the newest update seen the cursor is left,
	// because Jira's search is eventually consistent: an update indexed
	// late is still found. Default 1 minute. Updates seen twice are not
	// enqueued twice (their delivery id is the same).
	Overlap time.Duration

	// Lookback is how far back the first poll searches, when the cursor is
	// not set yet. Default 24 hours.
	Lookback time.Duration

	// Location is the time zone Jira reads JQL dates in: the searching
	// (bot) user's zone in Jira's profile settings. Default: asked of
	// Jira at the first poll when the searcher is also a ZoneFinder (as
	// *jira.Client is), else UTC. A date written in the wrong zone makes
	// the poll miss the updates of as many hours as the zones differ.
	Location *time.Location

	// Logger receives a line per enqueued ticket and per poll. The zero
	// value logs nothing.
	Logger zerolog.Logger

	// Now is the clock. Default time.Now.
	Now func() time.Time
}

var orderByRE = regexp.MustCompile(`(?i)\border\s+by\b`)

func validateJQL(jql string) []error {
	switch {
	case strings.TrimSpace(jql) == "":
		return []error{errors.New("the JQL is empty: set the query that selects the tickets to triage, e.g. project = HD")}
	case orderByRE.MatchString(jql):
		return []error{fmt.Errorf("the JQL %q has an ORDER BY: leave it out, intake adds its own", jql)}
	}
	return nil
}

// Validate reports every problem in the configuration at once.
func (c PollerConfig) Validate() error {
	errs := validateSearch(c.JQL, c.Queue)
	if c.Overlap < 0 {
		errs = append(errs, fmt.Errorf("the poll overlap is negative (%v); use 0 for the default of %v", c.Overlap, DefaultPollOverlap))
	}
	if c.Lookback < 0 {
		errs = append(errs, fmt.Errorf("the first poll's lookback is negative (%v); use 0 for the default of %v", c.Lookback, DefaultPollLookback))
	}
	return errors.Join(errs...)
}

// Poller enqueues the tickets updated since its cursor: the intake of
// sites that cannot register webhooks, and a safety net for those that
// can.
type Poller struct {
	cfg    PollerConfig
	se     searchEnqueue
	zones  ZoneFinder // nil when cfg.Location is set or search is none
	cursor Cursor
	log    zerolog.Logger

	locMu sync.Mutex
	loc   *time.Location // cfg.Location, or the zone Jira told; nil until known
}

// NewPoller builds a poller. search is the Jira adapter (*jira.Client),
// cursor a RedisCursor, enq an *asynq.Client. All are required.
func NewPoller(cfg PollerConfig, search Searcher, cursor Cursor, enq Enqueuer) (*Poller, error) {
	se, seErrs := newSearchEnqueue("poller", triage.EventPoll, search, enq, cfg.Queue, cfg.Now)
	errs := append([]error{cfg.Validate()}, seErrs...)
	if cursor == nil {
		errs = append(errs, errors.New("the poller needs a cursor store and got none"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("poller: %w", err)
	}
	cfg.Queue, cfg.Now = se.queue, se.now
	if cfg.Overlap == 0 {
		cfg.Overlap = DefaultPollOverlap
	}
	if cfg.Lookback == 0 {
		cfg.Lookback = DefaultPollLookback
	}
	p := &Poller{cfg: cfg, se: se, cursor: cursor, log: cfg.Logger, loc: cfg.Location}
	if zf, ok := search.(ZoneFinder); ok && cfg.Location == nil {
		p.zones = zf
	}
	return p, nil
}

// JQL returns the query a poll from since runs, its date in the zone Jira
// reads it in (UTC while that zone is not known yet).
func (p *Poller) JQL(since time.Time) string {
	p.locMu.Lock()
	loc := p.loc
	p.locMu.Unlock()
	if loc == nil {
		loc = time.UTC
	}
	return fmt.Sprintf(`(%s) AND updated >= "%s" ORDER BY updated ASC`, p.cfg.JQL, since.In(loc).Format(jqlDateLayout))
}

// location learns the zone Jira reads the poll's dates in, once: from the
// configuration, else from Jira (a failed question fails the poll and is
// asked again at the next), else UTC.
func (p *Poller) location(ctx context.Context) error {
	p.locMu.Lock()
	defer p.locMu.Unlock()
	if p.loc != nil {
		return nil
	}
	if p.zones == nil {
		p.loc = time.UTC
		return nil
	}
	loc, err := p.zones.TimeZone(ctx)
	if err != nil {
		return fmt.Errorf("the time zone Jira reads the poll's dates in: %w", err)
	}
	p.loc = loc
	p.log.Info().Str("time_zone", loc.String()).Msg("poll: JQL dates are written in the bot's Jira time zone")
	return nil
}

// Poll searches the tickets updated since the cursor (all pages) and
// enqueues each as a poll event with the delivery id
// "poll:<key>:<updated, unix ms>", so that one update is enqueued once
// however often it is seen, by however many replicas. Then it advances the
// cursor to the newest update seen minus the overlap. It returns how many
// tasks it enqueued; on an error the cursor stays where it was.
func (p *Poller) Poll(ctx context.Context) (enqueued int, err error) {
	if err := p.location(ctx); err != nil {
		p.log.Error().Err(err).Msg("poll failed; the cursor stays")
		return 0, fmt.Errorf("poll: %w", err)
	}
	since, ok, err := p.cursor.Get(ctx)
	if err != nil {
		return 0, fmt.Errorf("poll: %w", err)
	}
	if !ok {
		since = p.cfg.Now().Add(-p.cfg.Lookback)
	}
	var newest time.Time
	var n tally
	err = p.se.each(ctx, p.JQL(since), func(is jira.Issue) error {
		n.seen++
		if is.Updated.After(newest) {
			newest = is.Updated
		}
		id, added, err := p.se.enqueue(ctx, is)
		if err != nil {
			return err
		}
		p.log.Debug().Str("event", triage.EventPoll).Str("issue_key", is.Key).Str("delivery_id", id).
			Str("status", n.add(added)).Msg("poll")
		return nil
	})
	if err != nil {
		p.log.Error().Err(err).Int("enqueued", n.enqueued).Msg("poll failed; the cursor stays")
		return n.enqueued, fmt.Errorf("poll: %w", err)
	}
	if !newest.IsZero() {
		if next := newest.Add(-p.cfg.Overlap); next.After(since) {
			if err := p.cursor.Set(ctx, next); err != nil {
				return n.enqueued, fmt.Errorf("poll: %w", err)
			}
			since = next
		}
	}
	p.log.Info().Str("event", triage.EventPoll).Int("seen", n.seen).Int("enqueued", n.enqueued).Int("duplicates", n.duplicates).
		Time("cursor", since).Msg("poll done")
	return n.enqueued, nil
}
