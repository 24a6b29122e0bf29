//go:build !race

// Training takes seconds without the race detector and minutes with it:
// `make test` runs this file in its second, race-free pass.

package classifier

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbeddedModelIsWhatMakeModelBuilds trains on the inputs `make model`
// reads and compares the bytes with the embedded model: the model is
// deterministic and the embedded one is not stale.
func TestEmbeddedModelIsWhatMakeModelBuilds(t *testing.T) {
	c, err := New(mustDefaultRules(t))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Train(c, trainingSets(t), readReplays(t, "../testdata/model/rules-firstrun.jsonl"), TrainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), DefaultModel()) {
		t.Fatalf("the embedded model (%d bytes) is not what `make model` builds (%d bytes): run `make model` and commit classifier/model.bin.gz", len(DefaultModel()), buf.Len())
	}
}

// trainingSets are the corpora `make model` reads, in its order.
func trainingSets(t *testing.T) []TrainSet {
	t.Helper()
	files, err := filepath.Glob("../testdata/corpus/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no training corpora: %v", err)
	}
	files = append(files, "../../shared/corpus/dev.jsonl")
	var sets []TrainSet
	for _, f := range files {
		sets = append(sets, TrainSet{Name: strings.TrimSuffix(filepath.Base(f), ".jsonl"), Tickets: readLabeled(t, f)})
	}
	return sets
}

func readReplays(t *testing.T, path string) []Replay {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []Replay
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r Replay
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestUnscoredSetsLeaveTheFigures: an unscored set is learned from but
// counted nowhere in the cross-validated figures.
func TestUnscoredSetsLeaveTheFigures(t *testing.T) {
	c, err := New(mustDefaultRules(t))
	if err != nil {
		t.Fatal(err)
	}
	sets := trainingSets(t)[:4]
	scored := 0
	for _, s := range sets[:3] {
		scored += len(s.Tickets)
	}
	for _, unscored := range []bool{false, true} {
		sets[3].Unscored = unscored
		m, err := Train(c, sets, nil, TrainOptions{Epochs: 3})
		if err != nil {
			t.Fatal(err)
		}
		want := scored
		if !unscored {
			want += len(sets[3].Tickets)
		}
		if got := int(m.Meta().Info.CV["tickets"]); got != want {
			t.Errorf("unscored=%v: the figures count %d tickets, want %d", unscored, got, want)
		}
	}
}

// TestEmbeddedModelMeetsItsTarget: at the embedded model's auto threshold,
// the verdicts of cross-validation, with confidences no calibration
// fitted on them gave, are right at least 0.98 of the time.
func TestEmbeddedModelMeetsItsTarget(t *testing.T) {
	m, err := LoadDefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	cv := m.Meta().Info.CV
	if got := cv["crossfit_autonomous_precision"]; got < 0.98 {
		t.Errorf("cross-fitted autonomous precision %.3f at the auto threshold %.3f, want at least 0.98", got, m.Meta().AutoThreshold)
	}
}
