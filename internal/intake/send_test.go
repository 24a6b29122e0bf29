package intake

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"
)

// TestSentWebhooksAreEnqueued: the bodies and the request the sender's side
// builds are what the handler takes, signature and all.
func TestSentWebhooksAreEnqueued(t *testing.T) {
	t.Parallel()
	alice := WebhookUser{AccountID: "557058:alice", DisplayName: "Alice Reporter"}
	tests := []struct {
		name     string
		body     []byte
		wantKind string
		want     triage.Issue
		wantBody string // the comment's
	}{
		{
			"issue created", IssueCreatedBody("HD-1", "passkey", "my passkey can no longer be used", alice), triage.EventIssueCreated,
			triage.Issue{Key: "HD-1", Summary: "passkey", Description: "my passkey can no longer be used", ReporterID: alice.AccountID, ReporterName: alice.DisplayName}, "",
		},
		{
			"comment created", CommentCreatedBody("HD-2", alice, alice, "works now, thanks"), triage.EventCommentCreated,
			triage.Issue{Key: "HD-2", ReporterID: alice.AccountID, ReporterName: alice.DisplayName}, "works now, thanks",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newHookEnv(t, nil)
			req, err := NewWebhookRequest(context.Background(), WebhookPath, testSecret, "sent-"+tc.want.Key, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if code, resp, _ := serve(t, e.h, req); code != http.StatusAccepted {
				t.Fatalf("answered %d %+v, want 202", code, resp)
			}
			ps, _ := e.q.pending(t)
			if len(ps) != 1 {
				t.Fatalf("%d tasks pending, want 1", len(ps))
			}
			got := ps[0]
			if got.Event != tc.wantKind || got.DeliveryID != "sent-"+tc.want.Key {
				t.Errorf("event %q, delivery %q; want %q, %q", got.Event, got.DeliveryID, tc.wantKind, "sent-"+tc.want.Key)
			}
			got.Issue.Updated = tc.want.Updated
			if diff := cmp.Diff(tc.want, got.Issue); diff != "" {
				t.Errorf("issue (-want, +got):\n%s", diff)
			}
			if gotBody := commentBody(got.Comment); gotBody != tc.wantBody {
				t.Errorf("comment %q, want %q", gotBody, tc.wantBody)
			}
		})
	}
}

func commentBody(c *triage.Comment) string {
	if c == nil {
		return ""
	}
	return c.Body
}
