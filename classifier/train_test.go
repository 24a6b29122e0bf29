package classifier

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
