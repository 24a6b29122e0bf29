package jira

import (
	"context"
	"testing"

	"github.com/mfatriage/triage"
)

// TestWriteSetsPriority checks that a write with a priority sets it in the
// same call as its labels, and that Jira's refusal of an unknown one comes
// back as an error.
func TestWriteSetsPriority(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	before := len(e.srv.Calls())
	if err := NewTriage(e.c).Write(context.Background(), "HD-1", triage.Write{AddLabels: []string{triage.LabelSecurity}, Priority: "Highest"}); err != nil {
		t.Fatal(err)
	}
	is, _ := e.srv.Issue("HD-1")
	if is.Priority != "Highest" {
		t.Errorf("priority %q, want Highest", is.Priority)
	}
	if got := len(e.srv.Calls()) - before; got != 1 {
		t.Errorf("%d calls, want 1", got)
	}
	if err := NewTriage(e.c).Write(context.Background(), "HD-1", triage.Write{Priority: "Urgentest"}); err == nil {
		t.Error("an unknown priority was accepted")
	}
}
