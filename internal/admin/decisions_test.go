package admin_test

import (
	"context"
	"errors"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/admin"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeDecisions is a hand-written DecisionDays: the counts of some days
// (by "2006-01-02"), zeros for the others, and the periods it was asked.
type fakeDecisions struct {
	mu    sync.Mutex
	days  map[string]triage.DecisionDay
	err   error
	asked [][2]time.Time
}

var _ admin.DecisionDays = (*fakeDecisions)(nil)

func (f *fakeDecisions) DecisionDays(_ context.Context, from, to time.Time) ([]triage.DecisionDay, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, [2]time.Time{from, to})
	if f.err != nil {
		return nil, f.err
	}
	var out []triage.DecisionDay
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		day, ok := f.days[d.Format(time.DateOnly)]
		if !ok {
			day = triage.DecisionDay{Modes: map[string]int{}, Outcomes: map[string]int{}}
		}
		day.Day = d
		out = append(out, day)
	}
	return out, nil
}

func (f *fakeDecisions) lastAsked() [2]time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.asked) == 0 {
		return [2]time.Time{}
	}
	return f.asked[len(f.asked)-1]
}

// decisionsNow is the tests' clock: 5 March 2026, in the afternoon UTC.
var decisionsNow = time.Date(2026, 3, 5, 15, 4, 5, 0, time.UTC)

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

// weekOfDecisions is a week of counts ending on decisionsNow's day: a
// quiet day, an empty one, a busy one.
func weekOfDecisions() map[string]triage.DecisionDay {
	dd := func(auto, suggest, none, sent, corrected, otherwise, returned int) triage.DecisionDay {
		return triage.DecisionDay{
			Modes:    map[string]int{triage.ModeAuto: auto, triage.ModeSuggest: suggest, triage.ModeNone: none},
			Outcomes: map[string]int{triage.OutcomeSent: sent, triage.OutcomeCorrected: corrected, triage.OutcomeOtherwise: otherwise, triage.OutcomeReturned: returned},
		}
	}
	return map[string]triage.DecisionDay{
		"2026-02-27": dd(12, 4, 3, 3, 1, 0, 0),
		"2026-02-28": dd(2, 1, 0, 1, 0, 0, 0),
		// 1 March: nothing
		"2026-03-02": dd(20, 6, 5, 5, 0, 1, 1),
		"2026-03-03": dd(15, 3, 2, 3, 0, 0, 0),
		"2026-03-04": dd(9, 2, 1, 2, 0, 0, 0),
		"2026-03-05": dd(4, 1, 1, 0, 0, 0, 2),
	}
}

// decisionsEnv is an env whose admin server reads f, at decisionsNow.
func decisionsEnv(t *testing.T, f *fakeDecisions) *env {
	t.Helper()
	e := newEnv(t, func(c *admin.Config) { c.Decisions = f })
	e.clock.Advance(decisionsNow.Sub(e.clock.Now()))
	return e
}

var svgRE = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// TestDecisionsChartGolden compares the two charts of a week with
// testdata/decisions-week.golden.svg (go test -update rewrites it).
func TestDecisionsChartGolden(t *testing.T) {
	t.Parallel()
	e := decisionsEnv(t, &fakeDecisions{days: weekOfDecisions()})
	b := e.browser()
	b.login("Ada Admin")
	p := b.get("/decisions?days=7")
	if p.Status != http.StatusOK {
		t.Fatalf("GET /decisions?days=7: %d\n%s", p.Status, p.Body)
	}
	got := strings.Join(svgRE.FindAllString(p.Body, -1), "\n") + "\n"
	golden := filepath.Join("testdata", "decisions-week.golden.svg")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("the charts differ from %s (-want +got):\n%s", golden, diff)
	}
}

func TestDecisionsPage(t *testing.T) {
	t.Parallel()
	f := &fakeDecisions{days: weekOfDecisions()}
	e := decisionsEnv(t, f)
	b := e.browser()
	b.login("Ada Admin")
	tests := []struct {
		query      string
		wantStatus int
		wantFrom   string // the first day the store was asked for
		want       []string
	}{
		{"", 200, "2026-02-04", []string{
			`<a href="/decisions" aria-current="page">Decisions</a>`,
			`<a href="/decisions?days=30" class="tab active" aria-current="page">Last 30 days</a>`,
			"4 Feb – 5 Mar 2026 (UTC)",
			"Agents sent 14 of 16 suggestions (87 %) unchanged in the last 30 days. Too few to judge the threshold by (20 at least).",
			`<title id="modes-title">Tickets per day by mode</title>`,
			`<desc id="modes-desc">How the bot handled each day&#39;s tickets`,
			`aria-labelledby="outcomes-title outcomes-desc"`,
			`<tr><th scope="row">2 Mar 2026</th><td>20</td><td>6</td><td>5</td><td>31</td></tr>`,
			`<tr><th scope="row">2 Mar 2026</th><td>5</td><td>0</td><td>1</td><td>1</td></tr>`,
			`<tr><th scope="row">1 Mar 2026</th><td>0</td><td>0</td><td>0</td><td>0</td></tr>`,
			`<tr><th scope="row">Total</th><td>62</td><td>17</td><td>12</td><td>91</td></tr>`,
			`<tr><th scope="row">Total</th><td>14</td><td>1</td><td>1</td><td>3</td></tr>`,
			`<title>2 Mar 2026: 20 auto, 6 suggest, 5 none</title>`,
		}},
		{"?days=7", 200, "2026-02-27", []string{"27 Feb – 5 Mar 2026 (UTC)", "in the last 7 days", `class="tab active" aria-current="page">Last 7 days</a>`}},
		{"?days=1", 200, "2026-03-05", []string{"5 Mar 2026 (UTC)", "Agents acted on none of the 1 suggestion today (UTC): nothing yet to judge the threshold by."}},
		{"?days=365", 200, "2025-03-06", []string{"6 Mar 2025 – 5 Mar 2026 (UTC)", "Last 365 days"}},
		{"?days=0", 400, "", []string{"days must be a whole number from 1 to 365, not &#34;0&#34;"}},
		{"?days=366", 400, "", []string{"days must be a whole number from 1 to 365"}},
		{"?days=-3", 400, "", []string{"days must be a whole number from 1 to 365"}},
		{"?days=7.5", 400, "", []string{"days must be a whole number from 1 to 365"}},
		{"?days=%3Cscript%3Ealert(1)%3C/script%3E", 400, "", []string{"not &#34;&lt;script&gt;alert(1)&lt;/s…&#34;"}},
	}
	for _, tt := range tests {
		before := f.lastAsked()
		p := b.get("/decisions" + tt.query)
		if p.Status != tt.wantStatus {
			t.Errorf("GET /decisions%s: %d, want %d\n%s", tt.query, p.Status, tt.wantStatus, p.Body)
			continue
		}
		var missing []string
		for _, w := range tt.want {
			if !strings.Contains(p.Body, w) {
				missing = append(missing, w)
			}
		}
		if missing != nil {
			t.Errorf("GET /decisions%s lacks\n%s\nin:\n%s", tt.query, strings.Join(missing, "\n"), p.Body)
		}
		if strings.Contains(p.Body, "<script") {
			t.Errorf("GET /decisions%s has a script element", tt.query)
		}
		asked := f.lastAsked()
		if tt.wantFrom == "" {
			if asked != before {
				t.Errorf("GET /decisions%s read the store for %v", tt.query, asked)
			}
			continue
		}
		if diff := cmp.Diff([2]time.Time{date(tt.wantFrom), date("2026-03-05")}, asked); diff != "" {
			t.Errorf("GET /decisions%s asked the store for (-want +got):\n%s", tt.query, diff)
		}
	}
}

func TestDecisionsPageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		decisions  admin.DecisionDays
		wantStatus int
		want       string
	}{
		{"no store configured", nil, 404, "This server does not read the decision counts."},
		{"the store fails", &fakeDecisions{err: errors.New("redis: connection refused")}, 500, "Could not read the decision counts: redis: connection refused."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, func(c *admin.Config) { c.Decisions = tt.decisions })
			b := e.browser()
			b.login("Ada Admin")
			p := b.get("/decisions")
			if p.Status != tt.wantStatus || !strings.Contains(p.Body, tt.want) {
				t.Errorf("GET /decisions: %d, want %d with %q:\n%s", p.Status, tt.wantStatus, tt.want, p.Body)
			}
			status, data, _ := e.api("GET", "/api/decisions", testToken, "")
			if status != tt.wantStatus {
				t.Errorf("GET /api/decisions: %d %s, want %d", status, data, tt.wantStatus)
			}
		})
	}
}

// TestDecisionsGuidance checks the line that says how far agents trusted
// the suggestions, through the API, for a month of totals on one day.
func TestDecisionsGuidance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                       string
		suggest                    int
		sent, corrected, otherwise int
		returned                   int
		want                       string
	}{
		{"nothing", 0, 0, 0, 0, 0, "The bot made no suggestions in the last 30 days: nothing yet to judge the threshold by."},
		{"suggestions, none acted on", 12, 0, 0, 0, 3, "Agents acted on none of the 12 suggestions in the last 30 days: nothing yet to judge the threshold by."},
		{"too few", 10, 9, 1, 0, 0, "Agents sent 9 of 10 suggestions (90 %) unchanged in the last 30 days. Too few to judge the threshold by (20 at least)."},
		{"the issue's example", 55, 47, 2, 1, 0, "Agents sent 47 of 50 suggestions (94 %) unchanged in the last 30 days. Below the 98 % the bot keeps when it acts alone: keep TRIAGE_AUTO_THRESHOLD as it is."},
		{"exactly 98 %", 50, 49, 1, 0, 0, "Agents sent 49 of 50 suggestions (98 %) unchanged in the last 30 days. As good as the 98 % the bot keeps when it acts alone: TRIAGE_AUTO_THRESHOLD could be lowered."},
		{"just under 98 % is not rounded up", 200, 195, 4, 0, 0, "Agents sent 195 of 199 suggestions (97 %) unchanged in the last 30 days. Below the 98 % the bot keeps when it acts alone: keep TRIAGE_AUTO_THRESHOLD as it is."},
		{"returned escalations are not suggestions", 20, 20, 0, 0, 9, "Agents sent 20 of 20 suggestions (100 %) unchanged in the last 30 days. As good as the 98 % the bot keeps when it acts alone: TRIAGE_AUTO_THRESHOLD could be lowered."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeDecisions{days: map[string]triage.DecisionDay{"2026-03-01": {
				Modes:    map[string]int{triage.ModeSuggest: tt.suggest},
				Outcomes: map[string]int{triage.OutcomeSent: tt.sent, triage.OutcomeCorrected: tt.corrected, triage.OutcomeOtherwise: tt.otherwise, triage.OutcomeReturned: tt.returned},
			}}}
			e := decisionsEnv(t, f)
			status, data, _ := e.api("GET", "/api/decisions", testToken, "")
			if status != http.StatusOK {
				t.Fatalf("GET /api/decisions: %d %s", status, data)
			}
			if diff := cmp.Diff(tt.want, decode[admin.DecisionsResponse](t, data).Guidance); diff != "" {
				t.Errorf("guidance (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAPIDecisions(t *testing.T) {
	t.Parallel()
	e := decisionsEnv(t, &fakeDecisions{days: weekOfDecisions()})
	status, data, h := e.api("GET", "/api/decisions?days=3", testToken, "")
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /api/decisions?days=3: %d %s", status, data)
	}
	want := admin.DecisionsResponse{
		From: date("2026-03-03"), To: date("2026-03-05"),
		Days: []triage.DecisionDay{
			{Day: date("2026-03-03"), Modes: weekOfDecisions()["2026-03-03"].Modes, Outcomes: weekOfDecisions()["2026-03-03"].Outcomes},
			{Day: date("2026-03-04"), Modes: weekOfDecisions()["2026-03-04"].Modes, Outcomes: weekOfDecisions()["2026-03-04"].Outcomes},
			{Day: date("2026-03-05"), Modes: weekOfDecisions()["2026-03-05"].Modes, Outcomes: weekOfDecisions()["2026-03-05"].Outcomes},
		},
		Totals: admin.DecisionTotals{
			Modes:    map[string]int{"auto": 28, "suggest": 6, "none": 4},
			Outcomes: map[string]int{"sent": 5, "corrected": 0, "otherwise": 0, "returned": 2},
		},
		Guidance: "Agents sent 5 of 5 suggestions (100 %) unchanged in the last 3 days. Too few to judge the threshold by (20 at least).",
	}
	if diff := cmp.Diff(want, decode[admin.DecisionsResponse](t, data)); diff != "" {
		t.Errorf("GET /api/decisions?days=3 (-want +got):\n%s", diff)
	}

	for _, tt := range []struct {
		path, auth string
		wantStatus int
		wantError  string
	}{
		{"/api/decisions", "", 401, "Authorization: Bearer"},
		{"/api/decisions", "not-the-admin-token-at-all", 401, "wrong token"},
		{"/api/decisions?days=0", testToken, 400, `days must be a whole number from 1 to 365, not "0"`},
		{"/api/decisions?days=400", testToken, 400, `days must be a whole number from 1 to 365, not "400"`},
		{"/api/decisions?days=week", testToken, 400, `days must be a whole number from 1 to 365, not "week"`},
	} {
		status, data, _ := e.api("GET", tt.path, tt.auth, "")
		if status != tt.wantStatus || !strings.Contains(decode[admin.ErrorResponse](t, data).Error, tt.wantError) {
			t.Errorf("GET %s: %d %s, want %d with %q", tt.path, status, data, tt.wantStatus, tt.wantError)
		}
	}
}
