//go:build !race

// The race detector makes sync.Pool drop items on purpose, so allocation
// counts are only meaningful without it: `make test` runs this file in a
// second, race-free pass.

package classifier

import (
	"os"
	"testing"
)

// TestAllocsPerTicket holds Decide to at most 10 allocations per ticket on
// average over the realistic tickets.
func TestAllocsPerTicket(t *testing.T) {
	c, err := NewDefault()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../testdata/corpus/handwritten.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	labeled, err := ReadCorpus(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range labeled { // warm the scratch pool
		c.Decide(l.Ticket)
	}
	i := 0
	avg := testing.AllocsPerRun(len(labeled)*3, func() {
		c.Decide(labeled[i%len(labeled)].Ticket)
		i++
	})
	t.Logf("allocations per ticket: %.1f", avg)
	if avg > 10 {
		t.Errorf("Decide allocates %.1f times per ticket, want ≤ 10", avg)
	}
}
