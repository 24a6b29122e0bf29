package classifier

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBoostLogit checks how a tree routes a verdict: above a split's
// threshold to the right, at or below it (or at a split that does not
// split) to the left.
func TestBoostLogit(t *testing.T) {
	t.Parallel()
	var tree BoostTree
	for n := range tree.Feat {
		tree.Feat[n] = -1
	}
	tree.Feat[0], tree.Thr[0] = calActLogit, 2 // root: the action's log-odds above 2
	tree.Feat[2], tree.Thr[2] = calNoCats, 0.5 // right: no category
	for l := range tree.Leaf {
		tree.Leaf[l] = float64(l)
	}
	b := &Boost{Base: 10, Trees: []BoostTree{tree}}
	tests := []struct {
		name            string
		actLogit, noCat float64
		want            float64
	}{
		{"at the root's threshold: left, then left at the splits that do not split", 2, 1, 10},
		{"above it, with a category: right, then left", 3, 0, 10 + 4},
		{"above it, no category: right, right", 3, 1, 10 + 6},
	}
	for _, tt := range tests {
		var f [nCalib]float64
		f[calActLogit], f[calNoCats] = tt.actLogit, tt.noCat
		if got := b.logit(&f); got != tt.want {
			t.Errorf("%s: logit %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFitBoost checks that the boosted calibration learns a verdict kind
// that is right less often than its parts say (two features that are
// each a good sign, together a bad one), where the logistic calibration
// cannot, and that fitting is deterministic.
func TestFitBoost(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 4))
	rate := map[[2]bool]float64{{false, false}: 0.7, {true, false}: 0.9, {false, true}: 0.9, {true, true}: 0.6}
	var rows []calRow
	for i := range 8000 {
		a, b := i%2 == 1, i/2%2 == 1
		var r calRow
		r.f[calBias] = 1
		r.f[calAgreeAct] = b2f(a)
		r.f[calRulesCats] = b2f(b)
		r.f[calMargin] = rng.Float64() / 2 // noise
		r.right = rng.Float64() < rate[[2]bool{a, b}]
		rows = append(rows, r)
	}
	boost := fitBoost(rows)
	logistic := fitCalib(rows)
	// each kind's mean confidence against how often it is right
	type sums struct{ n, right, boost, logistic float64 }
	got := map[[2]bool]sums{}
	for _, r := range rows {
		cell := [2]bool{r.f[calAgreeAct] == 1, r.f[calRulesCats] == 1}
		s := got[cell]
		s.n++
		s.right += b2f(r.right)
		s.boost += boost.prob(&r.f)
		s.logistic += confidence(&logistic, r.f)
		got[cell] = s
	}
	for cell, s := range got {
		right := s.right / s.n
		if b := s.boost / s.n; math.Abs(b-right) > 0.03 {
			t.Errorf("boosted, features %v: mean confidence %.3f, right %.3f of the time", cell, b, right)
		}
		if l := s.logistic / s.n; cell == [2]bool{true, true} && math.Abs(l-right) < 0.06 {
			t.Errorf("logistic, features %v: mean confidence %.3f, right %.3f: the test does not tell the two apart", cell, l, right)
		}
	}
	if diff := cmp.Diff(boost, fitBoost(rows)); diff != "" {
		t.Errorf("a second fit differs (-first, +second):\n%s", diff)
	}
}
