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
		if got := b.logit(f[:]); got != tt.want {
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
	boost := fitBoost(calXY(rows))
	logistic := fitCalib(rows)
	// each kind's mean confidence against how often it is right
	type sums struct{ n, right, boost, logistic float64 }
	got := map[[2]bool]sums{}
	for _, r := range rows {
		cell := [2]bool{r.f[calAgreeAct] == 1, r.f[calRulesCats] == 1}
		s := got[cell]
		s.n++
		s.right += b2f(r.right)
		s.boost += boost.prob(r.f[:])
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
	if diff := cmp.Diff(boost, fitBoost(calXY(rows))); diff != "" {
		t.Errorf("a second fit differs (-first, +second):\n%s", diff)
	}
}

// TestCombinerJudge checks the boosted combiner's inputs and outputs: a
// category's tree that splits on what the rules found for it, an action's
// on the text model's probability of it, and the actions' probabilities
// normalised to sum to 1.
func TestCombinerJudge(t *testing.T) {
	t.Parallel()
	const setup, escalate = 1, 1 // passkey-setup; escalate-mfa
	split := func(feat int, thr, left, right float64) Boost {
		var tree BoostTree
		for n := range tree.Feat {
			tree.Feat[n] = -1
		}
		tree.Feat[0], tree.Thr[0] = int8(feat), thr
		for l := range tree.Leaf {
			tree.Leaf[l] = left
		}
		// right of the root, then left at the splits that do not split
		tree.Leaf[4] = right
		return Boost{Trees: []BoostTree{tree}}
	}
	var cb Combiner
	for c := range nCats {
		cb.Cat[c] = Boost{Base: -6}
	}
	cb.Cat[setup] = split(setup, 0.5, -6, 6) // the rules found passkey-setup
	for a := range nActs {
		cb.Act[a] = Boost{Base: -2}
	}
	cb.Act[escalate] = split(2*nCats+nActs+escalate, 0.6, -2, 4) // the text model's escalate-mfa above 0.6
	tests := []struct {
		name     string
		r        rulesView
		p        textProbs
		wantCats [nCats]bool
		wantAct  int
	}{
		{"nothing found", rulesView{act: humanIdx}, textProbs{act: [nActs]float64{humanIdx: 1}}, [nCats]bool{}, 0},
		{"the rules' passkey-setup", rulesView{cats: [nCats]bool{setup: true}, act: humanIdx}, textProbs{}, [nCats]bool{setup: true}, 0},
		{"the text model's passkey-setup alone", rulesView{act: humanIdx}, textProbs{cat: [nCats]float64{setup: 1}}, [nCats]bool{}, 0},
		{"the text model's escalation", rulesView{act: 0}, textProbs{act: [nActs]float64{escalate: 0.7, 0: 0.3}}, [nCats]bool{}, escalate},
		{"the rules' escalation alone", rulesView{act: escalate}, textProbs{act: [nActs]float64{escalate: 0.5, 0: 0.5}}, [nCats]bool{}, 0},
	}
	for _, tt := range tests {
		var j judgement
		cb.judge(tt.r, tt.p, &j)
		sum := 0.0
		for _, p := range j.actP {
			sum += p
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("%s: the actions' probabilities sum to %v", tt.name, sum)
		}
		if got := argmax(j.actP[:]); j.cats != tt.wantCats || got != tt.wantAct {
			t.Errorf("%s: categories %v, action %d; want %v, %d", tt.name, j.cats, got, tt.wantCats, tt.wantAct)
		}
	}
}

// TestFitMeta checks that the boosted combiner learns what a sum of its
// inputs cannot (a category the rules find, except when the text model
// reads a reply: a rules' habit the text model corrects), and that the
// fits done side by side give the same combiner every time.
func TestFitMeta(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(5, 6))
	var rows []metaRow
	for range 4000 {
		var r metaRow
		r.r.act = rng.IntN(nActs)
		r.r.cats[0] = rng.IntN(2) == 1
		r.p.act[rng.IntN(nActs)] = 1
		for c := range nCats {
			r.p.cat[c] = rng.Float64()
		}
		r.cats[0] = r.r.cats[0] != (r.p.act[0] == 1) // xor
		r.act = r.r.act
		rows = append(rows, r)
	}
	mt := fitMeta(rows)
	right := 0
	for _, r := range rows {
		j := mt.judge(r.r, r.p)
		right += int(b2f(j.cats[0] == r.cats[0] && j.act == r.act))
	}
	if acc := float64(right) / float64(len(rows)); acc < 0.99 {
		t.Errorf("the boosted combiner is right on %.3f of the rows, want 0.99 or more", acc)
	}
	for range 3 {
		if diff := cmp.Diff(mt.Combiner, fitMeta(rows).Combiner); diff != "" {
			t.Fatalf("a second fit differs (-first, +second):\n%s", diff)
		}
	}
}
