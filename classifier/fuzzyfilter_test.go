package classifier

import (
	"testing"
)

// defaultMatcher is the default rules' compiled matcher.
func defaultMatcher(t *testing.T) *matcher {
	t.Helper()
	c, err := NewDefault()
	if err != nil {
		t.Fatal(err)
	}
	return c.m
}

// TestDeletionHashes checks that the hash of a word with one letter left
// out, from its prefix's and suffix's hashes, is that word's own hash: the
// typo lookup's filter would miss keys otherwise.
func TestDeletionHashes(t *testing.T) {
	t.Parallel()
	for _, w := range []string{"a", "ab", "passkey", "authenticator", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"} {
		var hs [maxTypoLen]uint64
		if got, want := deletionHashes([]byte(w), hs[:]), keyHash(w); got != want {
			t.Errorf("%q: hash %x, want %x", w, got, want)
		}
		for i := range len(w) {
			d := w[:i] + w[i+1:]
			if got, want := hs[i], keyHash(d); got != want {
				t.Errorf("%q without letter %d (%q): hash %x, want %x", w, i, d, got, want)
			}
		}
	}
}

// TestKeyFilterHoldsEveryKey checks that the default rules' filter says
// yes to every key of the typo lookup's maps, and no to most other words.
func TestKeyFilterHoldsEveryKey(t *testing.T) {
	t.Parallel()
	m := defaultMatcher(t)
	for _, keys := range []map[string][]int32{m.deletes} {
		for k := range keys {
			if !m.keys.mayHold(keyHash(k)) {
				t.Fatalf("the filter misses the deletion %q", k)
			}
		}
	}
	for k := range m.vocab {
		if !m.keys.mayHold(keyHash(k)) {
			t.Fatalf("the filter misses the word %q", k)
		}
	}
	// words no map holds: the filter should turn most of them away
	yes, n := 0, 0
	for _, a := range "abcdefghijklmnopqrstuvwxyz" {
		for _, b := range "abcdefghijklmnopqrstuvwxyz" {
			w := "qx" + string(a) + string(b) + "zv"
			if _, ok := m.vocab[w]; ok {
				continue
			}
			if _, ok := m.deletes[w]; ok {
				continue
			}
			n++
			if m.keys.mayHold(keyHash(w)) {
				yes++
			}
		}
	}
	if yes*20 > n {
		t.Errorf("the filter lets %d of %d absent words through, want under 5 %%", yes, n)
	}
}

// TestTypoLookupUnchangedByFilter checks the typo lookup finds the same
// word with the filter as without it, for misspellings of vocabulary words.
func TestTypoLookupUnchangedByFilter(t *testing.T) {
	t.Parallel()
	with := defaultMatcher(t)
	without := *with
	without.keys = keyFilter{}
	tried, found := 0, 0
	for _, w := range with.words {
		if len(w) < with.fuzzyMin || !isASCIIWord(w) {
			continue
		}
		// a letter dropped, doubled and swapped
		for _, typo := range []string{w[1:], w[:2] + w[1:], w[:1] + w[2:3] + w[1:2] + w[3:]} {
			tried++
			got, want := with.lookup([]byte(typo)), without.lookup([]byte(typo))
			if got != want {
				t.Fatalf("lookup(%q) = %d with the filter, %d without", typo, got, want)
			}
			if got >= 0 {
				found++
			}
		}
	}
	if tried == 0 || found == 0 {
		t.Fatalf("tried %d misspellings, found %d: the test tests nothing", tried, found)
	}
}
