package worker_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// TestEvidenceNoteOutsideServiceManagement escalates the same ticket in a
// Service Management project and in a software project, where the sandbox,
// as Jira, ignores the sd.public.comment property: there the note must
// carry the configured visibility, and with none configured it must not be
// posted at all, the audit saying why, while the escalation itself goes
// through.
func TestEvidenceNoteOutsideServiceManagement(t *testing.T) {
	t.Parallel()
	const skipped = "internal note skipped: project SW is not Service Management and TRIAGE_INTERNAL_VISIBILITY is unset"
	for _, tt := range []struct {
		name, key, visibility string
		wantVisibility        string // "" with wantInternal: the property
		wantInternal          bool
		wantNote              bool
	}{
		{"service management", "SD-1", "", "", true, true},
		{"software with a role", "SW-1", "role:Administrators", `{"type":"role","value":"Administrators"}`, false, true},
		{"software with no visibility", "SW-1", "", "", false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, withSite(func(c *jira.Config) { c.InternalVisibility = tt.visibility },
				jiratest.WithProject("SD", jiratest.ProjectServiceDesk), jiratest.WithProject("SW", jiratest.ProjectSoftware)))
			h.start()
			h.jira.AddIssue(jiratest.Issue{Key: tt.key, Summary: "passkey", Description: "My passkey can no longer be used.", Reporter: alice,
				Comments: []jiratest.Comment{{Author: botUser, Body: botSteps}}})
			p := commented(tt.key, alice, "Did exactly that, removed the old passkey and set up a new one. Defender still says it can no longer be used.", "d-"+tt.key)
			addComment(h, tt.key, alice, p.Comment.Body)
			h.wait(h.enqueue(p))

			var notes []jiratest.Comment
			for _, c := range h.botComments(tt.key) {
				if strings.Contains(c.Body, "can no longer be used") && c.Body != botSteps {
					notes = append(notes, c)
				}
			}
			if !tt.wantNote {
				if len(notes) != 0 {
					t.Fatalf("a note was posted where nothing keeps it from the reporter: %+v", notes)
				}
			} else {
				if len(notes) != 1 {
					t.Fatalf("%d evidence notes, want 1", len(notes))
				}
				if n := notes[0]; n.Internal != tt.wantInternal || string(n.Visibility) != tt.wantVisibility {
					t.Errorf("note internal %v, visibility %s; want %v, %q", n.Internal, n.Visibility, tt.wantInternal, tt.wantVisibility)
				}
			}
			if labels := h.jira.Labels(tt.key); !contains(labels, "triage-escalated") {
				t.Errorf("labels %v: the escalation's write must go through", labels)
			}
			hist, err := h.store.History(context.Background(), tt.key)
			if err != nil || len(hist) == 0 {
				t.Fatalf("audit: %v, %v", hist, err)
			}
			writes := hist[len(hist)-1].Writes
			if got := slices.Contains(writes, skipped); got == tt.wantNote {
				t.Errorf("audit writes %q: the skipped note recorded %v, want %v", writes, got, !tt.wantNote)
			}
			if got := slices.Contains(writes, "internal evidence note"); got != tt.wantNote {
				t.Errorf("audit writes %q: claims a note %v, want %v", writes, got, tt.wantNote)
			}
			if !tt.wantNote && !strings.Contains(h.logs.String(), `"reason":"project SW is not Service Management`) {
				t.Errorf("no warning with the reason in the log:\n%s", h.logs.String())
			}
		})
	}
}
