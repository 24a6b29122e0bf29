package admin

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mfatriage/triage"
)

// DecisionDays reads the per-day counts of the bot's decisions by mode
// and of the helpdesk's outcomes, oldest first, one entry per UTC day from
// from to to inclusive. *redisstore.Store implements it.
type DecisionDays interface {
	DecisionDays(ctx context.Context, from, to time.Time) ([]triage.DecisionDay, error)
}

// every implementation of the domain's port serves the Decisions view
var _ DecisionDays = triage.DecisionDays(nil)

// The Decisions view's period: ?days=, default and bounds.
const (
	DefaultDecisionDays = 30
	MaxDecisionDays     = 365
)

// periodChoices are the periods the Decisions view links to.
var periodChoices = []int{7, 30, 90, 365}

// TrustedShare is the share of suggestions agents must send unchanged
// before the view says the auto threshold could be lowered: the
// autonomous precision the default threshold was chosen to keep.
const TrustedShare = 98 // percent

// MinJudged is how many suggestions agents must have acted on in the
// period before the view judges the threshold at all.
const MinJudged = 20

// The series of the two charts, in stacking order (bottom first).
var (
	modeSeries = []series{
		{triage.ModeAuto, "auto", "acted alone"},
		{triage.ModeSuggest, "suggest", "suggested to agents"},
		{triage.ModeNone, "none", "left to a person"},
	}
	outcomeSeries = []series{
		{triage.OutcomeSent, "sent", "sent unchanged"},
		{triage.OutcomeCorrected, "corrected", "corrected by the agent"},
		{triage.OutcomeOtherwise, "otherwise", "answered otherwise"},
		{triage.OutcomeReturned, "returned", "escalation returned by an admin"},
	}
)

// parseDays reads ?days= (default 30, 1 to 365).
func parseDays(q url.Values) (int, error) {
	v := strings.TrimSpace(q.Get("days"))
	if v == "" {
		return DefaultDecisionDays, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxDecisionDays {
		return 0, fmt.Errorf("days must be a whole number from 1 to %d, not %q", MaxDecisionDays, truncate(v, 20))
	}
	return n, nil
}

// decisionPeriod is the last n UTC days up to now's, inclusive.
func decisionPeriod(now time.Time, n int) (from, to time.Time) {
	y, m, d := now.UTC().Date()
	to = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return to.AddDate(0, 0, 1-n), to
}

// errNoDecisions: the server was built without DecisionDays.
var errNoDecisions = errors.New("this server does not read the decision counts (no store configured)")

// readDecisions reads the last n days' counts.
func (s *Server) readDecisions(ctx context.Context, n int) (from, to time.Time, days []triage.DecisionDay, err error) {
	if s.cfg.Decisions == nil {
		return from, to, nil, errNoDecisions
	}
	from, to = decisionPeriod(s.cfg.Now(), n)
	days, err = s.cfg.Decisions.DecisionDays(ctx, from, to)
	return from, to, days, err
}

// DecisionTotals are a period's counts, every mode and outcome present
// (zeros included).
type DecisionTotals struct {
	Modes    map[string]int `json:"modes"`
	Outcomes map[string]int `json:"outcomes"`
}

func sumDays(days []triage.DecisionDay) DecisionTotals {
	t := DecisionTotals{Modes: map[string]int{}, Outcomes: map[string]int{}}
	for _, s := range modeSeries {
		t.Modes[s.Key] = 0
	}
	for _, s := range outcomeSeries {
		t.Outcomes[s.Key] = 0
	}
	for _, d := range days {
		for k, v := range d.Modes {
			t.Modes[k] += v
		}
		for k, v := range d.Outcomes {
			t.Outcomes[k] += v
		}
	}
	return t
}

// guidance is the one line that tells an admin how far agents trusted the
// suggestions: the share sent as they were, and what it means for the
// auto threshold.
func guidance(t DecisionTotals, n int) string {
	period := "in the last " + strconv.Itoa(n) + " days"
	if n == 1 {
		period = "today (UTC)"
	}
	sent := t.Outcomes[triage.OutcomeSent]
	acted := sent + t.Outcomes[triage.OutcomeCorrected] + t.Outcomes[triage.OutcomeOtherwise]
	if acted == 0 {
		if t.Modes[triage.ModeSuggest] == 0 {
			return "The bot made no suggestions " + period + ": nothing yet to judge the threshold by."
		}
		return fmt.Sprintf("Agents acted on none of the %s %s: nothing yet to judge the threshold by.", suggestions(t.Modes[triage.ModeSuggest]), period)
	}
	pct := sent * 100 / acted // rounded down: 97.9 % never reads as 98 %
	line := fmt.Sprintf("Agents sent %d of %s (%d\u00a0%%) unchanged %s.", sent, suggestions(acted), pct, period)
	switch {
	case acted < MinJudged:
		return line + fmt.Sprintf(" Too few to judge the threshold by (%d at least).", MinJudged)
	case sent*100 >= TrustedShare*acted:
		return line + fmt.Sprintf(" As good as the %d\u00a0%% the bot keeps when it acts alone: TRIAGE_AUTO_THRESHOLD could be lowered.", TrustedShare)
	default:
		return line + fmt.Sprintf(" Below the %d\u00a0%% the bot keeps when it acts alone: keep TRIAGE_AUTO_THRESHOLD as it is.", TrustedShare)
	}
}

// suggestions counts them in words: "1 suggestion", "12 suggestions".
func suggestions(n int) string {
	if n == 1 {
		return "1 suggestion"
	}
	return strconv.Itoa(n) + " suggestions"
}

// --- the page ---

type decisionsData struct {
	base
	Days     int
	Periods  []tab
	Range    string // "6 Nov – 5 Dec 2026"
	Guidance string
	Charts   []chart
}

func (s *Server) decisions(w http.ResponseWriter, r *http.Request, sess session) {
	n, err := parseDays(r.URL.Query())
	if err != nil {
		s.errorPage(w, sess, http.StatusBadRequest, "That period could not be read: "+err.Error()+".")
		return
	}
	from, to, days, err := s.readDecisions(r.Context(), n)
	if errors.Is(err, errNoDecisions) {
		s.errorPage(w, sess, http.StatusNotFound, "This server does not read the decision counts.")
		return
	}
	if err != nil {
		s.serverError(w, sess, "read the decision counts", err)
		return
	}
	t := sumDays(days)
	d := decisionsData{
		base:     s.base(sess, "Decisions · last "+strconv.Itoa(n)+" days"),
		Days:     n,
		Range:    dayRange(from, to),
		Guidance: guidance(t, n),
		Charts: []chart{
			newChart("modes", "Tickets per day by mode",
				"How the bot handled each day's tickets: acted alone (auto), suggested to agents (suggest), or left to a person (none).",
				modeSeries, true, days, func(d triage.DecisionDay) map[string]int { return d.Modes }),
			// no column of totals: suggestions and escalations do not add up
			newChart("outcomes", "How agents treated the suggestions, per day",
				"Suggestions agents sent as they were, corrected or answered otherwise, and escalations admins returned as not an MFA problem.",
				outcomeSeries, false, days, func(d triage.DecisionDay) map[string]int { return d.Outcomes }),
		},
	}
	d.Section = "decisions"
	for _, p := range periodChoices {
		d.Periods = append(d.Periods, tab{Label: "Last " + strconv.Itoa(p) + " days", URL: "/decisions?days=" + strconv.Itoa(p), Active: p == n})
	}
	s.render(w, http.StatusOK, "decisions", d)
}

// dayRange says a period in words: "6 Nov – 5 Dec 2026", "5 Dec 2026".
func dayRange(from, to time.Time) string {
	switch {
	case from.Equal(to):
		return to.Format("2 Jan 2006")
	case from.Year() == to.Year():
		return from.Format("2 Jan") + " – " + to.Format("2 Jan 2006")
	default:
		return from.Format("2 Jan 2006") + " – " + to.Format("2 Jan 2006")
	}
}

// --- the API ---

// DecisionsResponse is the answer of GET /api/decisions.
type DecisionsResponse struct {
	From     time.Time            `json:"from"` // midnight UTC of the first day
	To       time.Time            `json:"to"`   // midnight UTC of the last day (today)
	Days     []triage.DecisionDay `json:"days"` // oldest first, zero days included
	Totals   DecisionTotals       `json:"totals"`
	Guidance string               `json:"guidance"`
}

func (s *Server) apiDecisions(w http.ResponseWriter, r *http.Request) {
	n, err := parseDays(r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, ErrorResponse{err.Error()})
		return
	}
	from, to, days, err := s.readDecisions(r.Context(), n)
	if errors.Is(err, errNoDecisions) {
		writeJSON(w, http.StatusNotFound, ErrorResponse{err.Error()})
		return
	}
	if err != nil {
		s.apiError(w, "read the decision counts", err)
		return
	}
	t := sumDays(days)
	writeJSON(w, http.StatusOK, DecisionsResponse{From: from, To: to, Days: days, Totals: t, Guidance: guidance(t, n)})
}

// --- the charts: inline SVG, drawn here, escaped by html/template ---

// series is one stacked series: its key in the day's map, its CSS class
// (s-<Class>) and its name in the legend.
type series struct {
	Key, Class, Label string
}

// chart is a stacked bar chart of one bar a day and its table.
type chart struct {
	ID, Title, Desc string
	ViewBox         string // "0 0 640 220"
	Left, Right     string // the plot's edges, for the grid lines
	LabelX, TickY   string // where the grid's labels end; the day labels' baseline
	Series          []series
	Grid            []gridLine
	Ticks           []tick
	Bars            []bar
	Rows            []chartRow // the table: one row a day
	Totals          []int      // per series
	Total           int
	ShowTotal       bool // the table has a column of the day's total
	Open            bool // the table shows without a click (a month or less)
}

type gridLine struct {
	Y, Label string
}

type tick struct {
	X, Anchor, Label string
}

type bar struct {
	Title string
	Segs  []seg
}

type seg struct {
	Class, X, Y, W, H string
}

type chartRow struct {
	Day    string
	Values []int
	Total  int
}

// The chart's geometry, in the SVG's viewBox units; the SVG scales to the
// page's width.
const (
	chartW, chartH                       = 640, 220
	padLeft, padRight, padTop, padBottom = 48, 8, 10, 26
	plotW, plotH                         = chartW - padLeft - padRight, chartH - padTop - padBottom
	maxTicks                             = 6  // day labels when there are more than denseTicks days
	denseTicks                           = 8  // up to this many days, every day is labelled
	minLabelSlot                         = 44 // narrower bars: the first and last labels end at the plot's edges
	openTableDays                        = 31 // longer tables are folded (a disclosure) under their chart
)

func newChart(id, title, desc string, ss []series, showTotal bool, days []triage.DecisionDay, counts func(triage.DecisionDay) map[string]int) chart {
	c := chart{
		ID: id, Title: title, Desc: desc, Series: ss, Totals: make([]int, len(ss)), ShowTotal: showTotal, Open: len(days) <= openTableDays,
		ViewBox: fmt.Sprintf("0 0 %d %d", chartW, chartH),
		Left:    coord(padLeft), Right: coord(chartW - padRight),
		LabelX: coord(padLeft - 6), TickY: coord(chartH - 8),
	}
	top := 0
	for _, d := range days {
		row := chartRow{Day: d.Day.Format("2 Jan 2006"), Values: make([]int, len(ss))}
		for i, s := range ss {
			v := counts(d)[s.Key]
			row.Values[i] = v
			row.Total += v
			c.Totals[i] += v
		}
		c.Total += row.Total
		top = max(top, row.Total)
		c.Rows = append(c.Rows, row)
	}
	step := niceStep(top)
	top = max(step, (top+step-1)/step*step)
	scale := float64(plotH) / float64(top)
	for v := 0; v <= top; v += step {
		c.Grid = append(c.Grid, gridLine{Y: coord(float64(padTop+plotH) - float64(v)*scale), Label: strconv.Itoa(v)})
	}
	n := len(days)
	if n == 0 {
		return c
	}
	slot := float64(plotW) / float64(n)
	width := slot * 0.8
	if n > 60 {
		width = slot * 0.9
	}
	for i, row := range c.Rows {
		x := padLeft + float64(i)*slot + (slot-width)/2
		b := bar{Title: row.Day + ": " + describe(ss, row.Values)}
		base := float64(padTop + plotH)
		for j, v := range row.Values {
			if v == 0 {
				continue
			}
			h := float64(v) * scale
			base -= h
			b.Segs = append(b.Segs, seg{Class: "s-" + ss[j].Class, X: coord(x), Y: coord(base), W: coord(width), H: coord(h)})
		}
		c.Bars = append(c.Bars, b)
	}
	for _, i := range tickDays(n) {
		t := tick{X: coord(padLeft + (float64(i)+0.5)*slot), Anchor: "middle", Label: days[i].Day.Format("2 Jan")}
		switch {
		case slot >= minLabelSlot:
			// the label fits under its bar
		case i == 0:
			t.X, t.Anchor = coord(padLeft), "start"
		case i == n-1:
			t.X, t.Anchor = coord(chartW-padRight), "end"
		}
		c.Ticks = append(c.Ticks, t)
	}
	return c
}

// describe says a day's counts in words: "3 auto, 1 suggest, 0 none".
func describe(ss []series, values []int) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = strconv.Itoa(values[i]) + " " + s.Class
	}
	return strings.Join(parts, ", ")
}

// niceStep is the grid's step for a largest value: 1, 2 or 5 times a
// power of ten, so that about four lines cover it.
func niceStep(top int) int {
	if top <= 4 {
		return 1
	}
	raw := float64(top) / 4
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return int(m * p)
		}
	}
	return int(10 * p)
}

// tickDays are the days the x axis names: every day up to denseTicks
// days, else maxTicks spread evenly, the first and the last among them.
func tickDays(n int) []int {
	if n <= denseTicks {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	out := make([]int, maxTicks)
	for k := range out {
		out[k] = int(math.Round(float64(k) * float64(n-1) / float64(maxTicks-1)))
	}
	return out
}

// coord writes a coordinate to a tenth of a unit.
func coord(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}
