package classifier

import (
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCrossFitConfNeverSeesItself checks the cross-fitted check on the
// threshold: a verdict's confidence there comes from a calibration fitted
// without its fold. Turning every verdict of one fold from right to wrong
// leaves that fold's confidences alone, and moves the other folds'.
func TestCrossFitConfNeverSeesItself(t *testing.T) {
	t.Parallel()
	const folds = 4
	rng := rand.New(rand.NewPCG(1, 2))
	rows := make([]calRow, 200)
	for i := range rows {
		rows[i].fold = i % folds
		rows[i].f[calBias] = 1
		rows[i].f[calActLogit] = rng.NormFloat64()
		rows[i].right = rows[i].f[calActLogit]+rng.NormFloat64() > 0
	}
	before := make([]calRow, len(rows))
	copy(before, rows)
	crossFitConf(before, folds)
	after := make([]calRow, len(rows))
	copy(after, rows)
	for i := range after {
		if after[i].fold == 0 {
			after[i].right = false
		}
	}
	crossFitConf(after, folds)
	moved := 0
	for i := range rows {
		if rows[i].fold == 0 && after[i].conf != before[i].conf {
			t.Fatalf("row %d (fold 0): confidence %v became %v when its fold's labels changed: it learned from itself", i, before[i].conf, after[i].conf)
		}
		if rows[i].fold != 0 && after[i].conf != before[i].conf {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no other fold's confidence moved: the labels of fold 0 reach no calibration")
	}
}

// TestChooseSecThreshold checks the learned security flag's threshold:
// the lowest probability at which the false flags it adds stay within
// both budgets, the rules' own flags not counted against it.
func TestChooseSecThreshold(t *testing.T) {
	t.Parallel()
	// 4 attacks; 200 tickets that are not: 100 in scope, 100 not
	rows := []secRow{{p: 0.9, sec: true}, {p: 0.8, sec: true}, {p: 0.5, sec: true}, {p: 0.2, sec: true}}
	for range 100 {
		rows = append(rows, secRow{p: 0.01, inScope: true}, secRow{p: 0.01})
	}
	with := func(extra ...secRow) []secRow { return append(append([]secRow{}, rows...), extra...) }
	tests := []struct {
		name         string
		rows         []secRow
		all, inScope float64
		want         float64
	}{
		{"no false flag above the attacks", rows, 0.01, 0.005, 0.2},
		{"one out-of-scope false flag fits 1 %", with(secRow{p: 0.7}), 0.01, 0.005, 0.2},
		{"three do not", with(secRow{p: 0.7}, secRow{p: 0.6}, secRow{p: 0.55}), 0.01, 0.005, 0.6},
		{"an in-scope false flag is over 0.5 %", with(secRow{p: 0.7, inScope: true}), 0.01, 0.005, 0.8},
		{"unless the rules flag it too", with(secRow{p: 0.7, inScope: true, rules: true}), 0.01, 0.005, 0.2},
		{"the surest is a false flag: never", with(secRow{p: 0.95, inScope: true}), 0.01, 0.005, 1.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := chooseSecThreshold(tt.rows, tt.all, tt.inScope)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("threshold (-want, +got):\n%s", diff)
			}
		})
	}
}
