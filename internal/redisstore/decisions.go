package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/redis/go-redis/v9"
)

var (
	_ triage.DecisionCounter = (*Store)(nil)
	_ triage.DecisionDays    = (*Store)(nil)
)

// decisionModes and decisionOutcomes are the names the per-day counts
// accept; anything else is refused, so a typo cannot add a field that no
// view reads.
var (
	decisionModes    = []string{triage.ModeAuto, triage.ModeSuggest, triage.ModeNone}
	decisionOutcomes = []string{triage.OutcomeSent, triage.OutcomeCorrected, triage.OutcomeOtherwise, triage.OutcomeReturned}
)

// Fields of a day's hash: "mode:<mode>" and "outcome:<outcome>".
const (
	modeField    = "mode:"
	outcomeField = "outcome:"
)

// MaxDecisionDays bounds the days one DecisionDays call reads.
const MaxDecisionDays = 1000

// dayLayout names a day's hash: <prefix>decisions:2026-12-06 (UTC).
const dayLayout = "2006-01-02"

func (s *Store) dayKey(day time.Time) string {
	return s.cfg.Prefix + "decisions:" + day.UTC().Format(dayLayout)
}

// CountDecision adds one decision in mode to the UTC day of at
// (triage.DecisionCounter).
func (s *Store) CountDecision(ctx context.Context, at time.Time, mode string) error {
	if !slices.Contains(decisionModes, mode) {
		return fmt.Errorf("count decision: unknown mode %q (want one of %s)", mode, strings.Join(decisionModes, ", "))
	}
	return s.countDay(ctx, at, modeField+mode)
}

// CountFeedback adds one helpdesk outcome to the UTC day of at
// (triage.DecisionCounter).
func (s *Store) CountFeedback(ctx context.Context, at time.Time, outcome string) error {
	if !slices.Contains(decisionOutcomes, outcome) {
		return fmt.Errorf("count feedback: unknown outcome %q (want one of %s)", outcome, strings.Join(decisionOutcomes, ", "))
	}
	return s.countDay(ctx, at, outcomeField+outcome)
}

// countDay increments a field of the day's hash and renews its expiry, in
// one round trip.
func (s *Store) countDay(ctx context.Context, at time.Time, field string) error {
	k := s.dayKey(at)
	pipe := s.rdb.TxPipeline()
	pipe.HIncrBy(ctx, k, field, 1)
	pipe.Expire(ctx, k, s.cfg.DecisionTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("count %s on %s: %w", field, at.UTC().Format(dayLayout), err)
	}
	return nil
}

// DecisionDays reads the counts of every UTC day from the day of from to
// the day of to, inclusive, oldest first, in one pipeline
// (triage.DecisionDays). Every known mode and outcome is in each day's
// maps, zeros included.
func (s *Store) DecisionDays(ctx context.Context, from, to time.Time) ([]triage.DecisionDay, error) {
	first, last := utcDay(from), utcDay(to)
	if last.Before(first) {
		return nil, fmt.Errorf("decision days: the range ends (%s) before it starts (%s)", last.Format(dayLayout), first.Format(dayLayout))
	}
	n := int(last.Sub(first)/(24*time.Hour)) + 1 // a UTC day is always 24 hours
	if n > MaxDecisionDays {
		return nil, fmt.Errorf("decision days: %s to %s is more than %d days", first.Format(dayLayout), last.Format(dayLayout), MaxDecisionDays)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, n)
	for i := range cmds {
		cmds[i] = pipe.HGetAll(ctx, s.dayKey(first.AddDate(0, 0, i)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("decision days %s to %s: %w", first.Format(dayLayout), last.Format(dayLayout), err)
	}
	days := make([]triage.DecisionDay, n)
	for i, c := range cmds {
		var err error
		if days[i], err = decisionDay(first.AddDate(0, 0, i), c.Val()); err != nil {
			return nil, err
		}
	}
	return days, nil
}

// decisionDay reads a day's hash. Fields of other names (written by a
// later version) are kept under their names.
func decisionDay(day time.Time, fields map[string]string) (triage.DecisionDay, error) {
	d := triage.DecisionDay{Day: day, Modes: map[string]int{}, Outcomes: map[string]int{}}
	for _, m := range decisionModes {
		d.Modes[m] = 0
	}
	for _, o := range decisionOutcomes {
		d.Outcomes[o] = 0
	}
	for f, v := range fields {
		n, err := strconv.Atoi(v)
		if err != nil {
			return triage.DecisionDay{}, fmt.Errorf("decision day %s: field %s is %q, not a count", day.Format(dayLayout), f, v)
		}
		if name, ok := strings.CutPrefix(f, modeField); ok {
			d.Modes[name] = n
		} else if name, ok := strings.CutPrefix(f, outcomeField); ok {
			d.Outcomes[name] = n
		}
	}
	return d, nil
}

// utcDay is midnight UTC of t's UTC day.
func utcDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
