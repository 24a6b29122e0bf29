package classifier

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBestAlternative(t *testing.T) {
	alts := []string{"works now", "it works", "works", "got it now", "regist* again"}
	for text, want := range map[string]string{
		"works now":         "works now",
		"it works":          "it works",
		"works":             "works",
		"got it now":        "got it now",
		"registered again":  "regist* again",
		"it works now fine": "works now",
	} {
		if got := bestAlternative(alts, text); got != want {
			t.Errorf("bestAlternative(%q) = %q, want %q", text, got, want)
		}
	}
}

// TestRuleUse counts one ticket for the phrases it matches and none for
// the others.
func TestRuleUse(t *testing.T) {
	c, err := New(mustDefaultRules(t))
	if err != nil {
		t.Fatal(err)
	}
	use := c.RuleUse(mustDefaultRules(t), []Ticket{{Summary: "Printer", Description: "The printer on floor 2 jams."}})
	got := map[string]bool{}
	for _, u := range use {
		if u.Tickets > 1 {
			t.Errorf("%q counted %d tickets of one", u.Phrase, u.Tickets)
		}
		if u.Tickets > 0 {
			got[u.Class] = true
		}
	}
	if diff := cmp.Diff(map[string]bool{"off_topic": true}, got); diff != "" {
		t.Errorf("classes with a matched phrase (-want, +got):\n%s", diff)
	}
	if len(use) < 1000 {
		t.Errorf("only %d phrases listed; the rules have well over a thousand", len(use))
	}
}

func mustDefaultRules(t *testing.T) *Rules {
	t.Helper()
	rs, err := ParseRules(bytes.NewReader(DefaultRules()))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
