package classifier

import (
	"math"
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

// TestWithhold checks the security caution on cross-validated verdicts:
// a verdict that would act from the caution up becomes a flag (human,
// confidence 1, right only on a human label with no category); the others
// are left as they were.
func TestApplyCaution(t *testing.T) {
	t.Parallel()
	rows := []calRow{
		{act: 0, psec: 0.5, conf: 0.9, right: true},                           // in scope, answered rightly: flagged, now wrong
		{act: 0, psec: 0.5, conf: 0.9, wantHuman: true, noCats: true, sec: 1}, // a report the combiner would answer
		{act: 1, psec: 0.3, conf: 0.6, wantHuman: true, sec: 0},               // human with a category: flagged, still wrong
		{act: 0, psec: 0.1, conf: 0.95, right: true},                          // below the caution
		{act: humanIdx, psec: 0.9, conf: 0.7, wantHuman: true, noCats: true},  // already left to a person
	}
	type row struct {
		Act   int
		Conf  float64
		Right bool
	}
	want := []row{{humanIdx, 1, false}, {humanIdx, 1, true}, {humanIdx, 1, false}, {0, 0.95, true}, {humanIdx, 0.7, false}}
	figures := applyCaution(rows, 0.2)
	var got []row
	for _, r := range rows {
		got = append(got, row{r.act, r.conf, r.right})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want, +got):\n%s", diff)
	}
	wantFigures := map[string]float64{"security_caution": 0.2, "security_caution_in_scope": 0.5, "security_caution_reports": 1}
	if diff := cmp.Diff(wantFigures, figures); diff != "" {
		t.Errorf("figures (-want, +got):\n%s", diff)
	}
}

// TestChooseSecCaution checks the security caution's threshold: as low as
// the in-scope budget allows, never below the flag's own threshold, off
// with the flag.
func TestChooseSecCaution(t *testing.T) {
	t.Parallel()
	inScope := func(psec float64, acts bool) calRow {
		r := calRow{psec: psec, act: humanIdx}
		if acts {
			r.act = 0
		}
		return r
	}
	// 10 in-scope tickets, 4 of them acting with a probability of an
	// attack of 0.9, 0.5, 0.5 and 0.2; one human-labeled ticket at 0.95
	rows := []calRow{inScope(0.9, true), inScope(0.5, true), inScope(0.5, true), inScope(0.2, true), inScope(0.99, false),
		inScope(0, true), inScope(0, true), inScope(0, false), inScope(0, false), inScope(0, false), {psec: 0.95, wantHuman: true}}
	tests := []struct {
		name          string
		floor, budget float64
		want          float64
	}{
		{"one in ten", 0.1, 0.1, 0.9},
		{"ties go together", 0.1, 0.2, 0.9},
		{"three in ten", 0.1, 0.3, 0.5},
		{"all from the floor", 0.1, 0.5, 0.1},
		{"the floor holds", 0.6, 0.5, 0.6},
		{"none allowed: above the surest", 0.1, 0.05, math.Nextafter(0.9, 2)},
		{"the flag off", 0, 0.5, 0},
		{"the flag never fires", 1.01, 0.5, 0},
	}
	for _, tt := range tests {
		if got := chooseSecCaution(rows, tt.floor, tt.budget); got != tt.want {
			t.Errorf("%s: chooseSecCaution(floor %v, budget %v) = %v, want %v", tt.name, tt.floor, tt.budget, got, tt.want)
		}
	}
}

// TestCalibLeftOut checks the calibration features that say how near a
// verdict came to a category it left out: the combiner's highest
// probability among them, whether the rules found one, whether the text
// model alone would add one.
func TestCalibLeftOut(t *testing.T) {
	t.Parallel()
	type left struct {
		LeftOut, RulesMore, TextMore float64
	}
	one := func(c int) (b [nCats]bool) { b[c] = true; return }
	tests := []struct {
		name  string
		r     rulesView
		textP [nCats]float64
		j     judgement
		want  left
	}{
		{"all agree on one", rulesView{cats: one(1)}, [nCats]float64{0.1, 0.9}, judgement{cats: one(1), catP: [nCats]float64{0.1, 0.95, 0.2}}, left{0.2, 0, 0}},
		{"the rules found a second", rulesView{cats: [nCats]bool{true, true}}, [nCats]float64{0.4, 0.9}, judgement{cats: one(1), catP: [nCats]float64{0.45, 0.95}}, left{0.45, 1, 0}},
		{"the text model would add one", rulesView{cats: one(1)}, [nCats]float64{0, 0.9, 0, 0.6}, judgement{cats: one(1), catP: [nCats]float64{0, 0.9, 0, 0.3}}, left{0.3, 0, 1}},
		{"nothing left out", rulesView{cats: [nCats]bool{true, true, true, true, true, true}}, [nCats]float64{}, judgement{cats: [nCats]bool{true, true, true, true, true, true}, catP: [nCats]float64{1, 1, 1, 1, 1, 1}}, left{}},
	}
	for _, tt := range tests {
		f := calibFeatures(tt.r, textProbs{cat: tt.textP}, tt.j)
		got := left{f[calLeftOut], f[calRulesMore], f[calTextMore]}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want, +got):\n%s", tt.name, diff)
		}
	}
}

// TestApplyDoubt checks the security doubt on cross-validated verdicts: a
// verdict that would act with a probability of a possible attack from the
// doubt up keeps its action and confidence but never counts as acting
// alone; the others are left as they were.
func TestApplyDoubt(t *testing.T) {
	t.Parallel()
	rows := []calRow{
		{act: 0, psec: 0.07, conf: 0.99, right: true},                                // in scope, sure: doubted
		{act: 0, psec: 0.07, conf: 0.99, wantHuman: true, noCats: true, sec: 1},      // a report the combiner would answer: doubted
		{act: 0, psec: 0.05, conf: 0.99, right: true},                                // below the doubt
		{act: humanIdx, psec: 0.9, conf: 0.99, right: true, wantHuman: true, sec: 1}, // left to a person already
	}
	figures := applyDoubt(rows, 0.06, 0.9)
	var got []bool
	for _, r := range rows {
		got = append(got, r.doubted)
	}
	if diff := cmp.Diff([]bool{true, true, false, false}, got); diff != "" {
		t.Errorf("doubted (-want, +got):\n%s", diff)
	}
	wantFigures := map[string]float64{"security_doubt": 0.06, "security_doubt_in_scope": 0.5, "security_doubt_reports": 1}
	if diff := cmp.Diff(wantFigures, figures); diff != "" {
		t.Errorf("figures (-want, +got):\n%s", diff)
	}
	cv := cvFigures(rows, 0.9)
	if cv["coverage"] != 0.5 || cv["false_autonomous_rate"] != 0 || cv["autonomous_precision"] != 1 {
		t.Errorf("figures with the doubt: coverage %v, false autonomous rate %v, precision %v; want 0.5, 0, 1 (only the verdict below the doubt acts alone)",
			cv["coverage"], cv["false_autonomous_rate"], cv["autonomous_precision"])
	}
	// a suggestion already (below the auto threshold) is not moved, nor
	// counted in the doubt's figures
	below := []calRow{{act: 0, psec: 0.07, conf: 0.5, right: true, sec: 1}}
	figures = applyDoubt(below, 0.06, 0.9)
	if below[0].doubted || figures["security_doubt_in_scope"] != 0 || figures["security_doubt_reports"] != 0 {
		t.Errorf("a suggestion below the auto threshold: doubted %v, figures %v; want not doubted, nothing counted", below[0].doubted, figures)
	}
}

// TestChooseSecondDoubt: the second-problem doubt is the one that would buy
// the most coverage at the precision target were the auto threshold chosen
// again without the verdicts it doubts, the highest of equals; off when
// none would.
func TestChooseSecondDoubt(t *testing.T) {
	t.Parallel()
	rows := func(wrongLeft float64) []calRow {
		var out []calRow
		for range 8 {
			out = append(out, calRow{act: 0, conf: 0.99, right: true, sentLeft: 0.1})
		}
		for range 2 {
			out = append(out, calRow{act: 0, conf: 0.98, sentLeft: wrongLeft})
		}
		for range 8 {
			out = append(out, calRow{act: 0, conf: 0.6, right: true, sentLeft: 0.1})
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		wrongLeft float64
		want      float64
	}{
		{"a sentence names what the wrong verdicts lack", 0.99, 0.98},
		{"less surely", 0.87, 0.85},
		{"no sentence does", 0.2, 0},
	} {
		if got := chooseSecondDoubt(rows(tc.wrongLeft), 0.9); got != tc.want {
			t.Errorf("%s: doubt %v, want %v", tc.name, got, tc.want)
		}
	}
	// the doubt's verdicts act alone no more, whatever their confidence
	r := rows(0.99)
	markSecondDoubt(r, 0.98)
	if cv := cvFigures(r, 0.6); cv["autonomous_precision"] != 1 || cv["coverage"] != 0.889 {
		t.Errorf("figures with the doubt: precision %v, coverage %v; want 1, 0.889", cv["autonomous_precision"], cv["coverage"])
	}
	if got := chooseThreshold(r, 0.9); got != 0.6 {
		t.Errorf("threshold over the doubted rows %v, want 0.6 (the doubted ones do not act)", got)
	}
}
