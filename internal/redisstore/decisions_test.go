package redisstore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/internal/redistest"
)

// newDayStore is newStore that also gives the key of the day hash of
// 2026-03-01 under the test's own prefix.
func newDayStore(t *testing.T, cfg redisstore.Config) (*redisstore.Store, *redis.Client, string) {
	t.Helper()
	rdb := redistest.Client(t)
	cfg.Prefix = redistest.Prefix(t, rdb)
	return redisstore.New(rdb, cfg), rdb, cfg.Prefix + "decisions:2026-03-01"
}

// day builds a DecisionDay with every known mode and outcome, zeros
// included, and the counts given as "auto=2", "sent=1".
func day(t *testing.T, date string, counts ...string) triage.DecisionDay {
	t.Helper()
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		t.Fatal(err)
	}
	out := triage.DecisionDay{
		Day:      d,
		Modes:    map[string]int{triage.ModeAuto: 0, triage.ModeSuggest: 0, triage.ModeNone: 0},
		Outcomes: map[string]int{triage.OutcomeSent: 0, triage.OutcomeCorrected: 0, triage.OutcomeOtherwise: 0, triage.OutcomeReturned: 0},
	}
	for _, c := range counts {
		name, n, _ := strings.Cut(c, "=")
		v, err := strconv.Atoi(n)
		if err != nil {
			t.Fatalf("count %q: %v", c, err)
		}
		if _, ok := out.Modes[name]; ok {
			out.Modes[name] = v
		} else {
			out.Outcomes[name] = v
		}
	}
	return out
}

func TestDecisionDays(t *testing.T) {
	t.Parallel()
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type count struct {
		at       string
		decision string // a mode, or ""
		feedback string // an outcome, or ""
	}
	tests := []struct {
		name     string
		counts   []count
		from, to string
		want     []triage.DecisionDay
	}{
		{
			name: "nothing counted: every day, zeros",
			from: "2026-03-01T12:00:00Z", to: "2026-03-03T00:00:00Z",
			want: []triage.DecisionDay{day(t, "2026-03-01"), day(t, "2026-03-02"), day(t, "2026-03-03")},
		},
		{
			name: "the last nanosecond of a UTC day and the first of the next",
			counts: []count{
				{at: "2026-03-01T23:59:59.999999999Z", decision: triage.ModeAuto},
				{at: "2026-03-02T00:00:00Z", decision: triage.ModeSuggest},
				{at: "2026-03-02T00:00:00Z", decision: triage.ModeSuggest},
				{at: "2026-03-02T23:59:59Z", feedback: triage.OutcomeSent},
			},
			from: "2026-03-01T00:00:00Z", to: "2026-03-02T00:00:00Z",
			want: []triage.DecisionDay{day(t, "2026-03-01", "auto=1"), day(t, "2026-03-02", "suggest=2", "sent=1")},
		},
		{
			name: "other time zones count on their UTC day",
			counts: []count{
				{at: "2026-03-02T01:30:00+02:00", decision: triage.ModeNone},        // 1 March, 23:30 UTC
				{at: "2026-03-01T20:00:00-05:00", feedback: triage.OutcomeReturned}, // 2 March, 01:00 UTC
			},
			from: "2026-03-02T00:30:00+01:00", to: "2026-03-02T10:00:00+09:00", // 1 March 23:30 UTC to 2 March 01:00 UTC
			want: []triage.DecisionDay{day(t, "2026-03-01", "none=1"), day(t, "2026-03-02", "returned=1")},
		},
		{
			name: "days outside the range are left out; a gap is a zero day",
			counts: []count{
				{at: "2026-02-28T10:00:00Z", decision: triage.ModeAuto},
				{at: "2026-03-01T10:00:00Z", feedback: triage.OutcomeCorrected},
				{at: "2026-03-01T11:00:00Z", feedback: triage.OutcomeOtherwise},
				{at: "2026-03-03T10:00:00Z", decision: triage.ModeAuto},
				{at: "2026-03-04T10:00:00Z", decision: triage.ModeAuto},
			},
			from: "2026-03-01T00:00:00Z", to: "2026-03-03T23:00:00Z",
			want: []triage.DecisionDay{day(t, "2026-03-01", "corrected=1", "otherwise=1"), day(t, "2026-03-02"), day(t, "2026-03-03", "auto=1")},
		},
		{
			name: "across a month and a leap day",
			counts: []count{
				{at: "2028-02-29T12:00:00Z", decision: triage.ModeSuggest},
				{at: "2028-03-01T00:00:00Z", decision: triage.ModeAuto},
			},
			from: "2028-02-28T00:00:00Z", to: "2028-03-01T00:00:00Z",
			want: []triage.DecisionDay{day(t, "2028-02-28"), day(t, "2028-02-29", "suggest=1"), day(t, "2028-03-01", "auto=1")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := newStore(t, redisstore.Config{})
			ctx := context.Background()
			for _, c := range tt.counts {
				var err error
				if c.decision != "" {
					err = s.CountDecision(ctx, at(c.at), c.decision)
				} else {
					err = s.CountFeedback(ctx, at(c.at), c.feedback)
				}
				if err != nil {
					t.Fatalf("count %+v: %v", c, err)
				}
			}
			got, err := s.DecisionDays(ctx, at(tt.from), at(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecisionDays(%s, %s) (-want +got):\n%s", tt.from, tt.to, diff)
			}
		})
	}
}

func TestDecisionCountsRefuseUnknownNames(t *testing.T) {
	t.Parallel()
	s, rdb, key := newDayStore(t, redisstore.Config{})
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a mode that is an outcome", s.CountDecision(ctx, now, triage.OutcomeSent), `count decision: unknown mode "sent" (want one of auto, suggest, none)`},
		{"an empty mode", s.CountDecision(ctx, now, ""), `count decision: unknown mode "" (want one of auto, suggest, none)`},
		{"a mode in capitals", s.CountDecision(ctx, now, "AUTO"), `count decision: unknown mode "AUTO" (want one of auto, suggest, none)`},
		{"an outcome that is a mode", s.CountFeedback(ctx, now, triage.ModeAuto), `count feedback: unknown outcome "auto" (want one of sent, corrected, otherwise, returned)`},
		{"a field's full name", s.CountFeedback(ctx, now, "outcome:sent"), `count feedback: unknown outcome "outcome:sent" (want one of sent, corrected, otherwise, returned)`},
	}
	for _, tt := range tests {
		got := "<nil>"
		if tt.err != nil {
			got = tt.err.Error()
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if n, err := rdb.Exists(ctx, key).Result(); err != nil || n != 0 {
		t.Errorf("a refused count wrote %s (exists %d, %v)", key, n, err)
	}
}

func TestDecisionDaysExpire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ttl  time.Duration
		want time.Duration
	}{
		{"default", 0, 400 * 24 * time.Hour},
		{"negative is the default", -time.Hour, 400 * 24 * time.Hour},
		{"set", 48 * time.Hour, 48 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, rdb, key := newDayStore(t, redisstore.Config{DecisionTTL: tt.ttl})
			ctx := context.Background()
			at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
			if err := s.CountFeedback(ctx, at, triage.OutcomeSent); err != nil {
				t.Fatal(err)
			}
			ttl, err := rdb.TTL(ctx, key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if ttl > tt.want || ttl < tt.want-time.Minute {
				t.Errorf("%s expires in %v, want %v", key, ttl, tt.want)
			}
		})
	}
}

func TestDecisionDaysRange(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, redisstore.Config{})
	ctx := context.Background()
	d := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		from, to time.Time
		days     int
		err      string
	}{
		{"one day", d.Add(23 * time.Hour), d, 1, ""},
		{"the longest range", d, d.AddDate(0, 0, redisstore.MaxDecisionDays-1), redisstore.MaxDecisionDays, ""},
		{"one day too long", d, d.AddDate(0, 0, redisstore.MaxDecisionDays), 0, "decision days: 2026-03-10 to 2028-12-04 is more than 1000 days"},
		{"backwards", d, d.Add(-time.Second), 0, "decision days: the range ends (2026-03-09) before it starts (2026-03-10)"},
	}
	for _, tt := range tests {
		got, err := s.DecisionDays(ctx, tt.from, tt.to)
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if diff := cmp.Diff(tt.err, gotErr); diff != "" {
			t.Errorf("%s: error (-want +got):\n%s", tt.name, diff)
		}
		if len(got) != tt.days {
			t.Errorf("%s: %d days, want %d", tt.name, len(got), tt.days)
		}
	}
}
