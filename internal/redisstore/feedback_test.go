package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/redisstore"
)

// TestFeedback: the text and the latest outcome of a ticket come back for
// the export, oldest outcome first, within --since; the text is capped and
// expires with its bounded TTL.
func TestFeedback(t *testing.T) {
	t.Parallel()
	s, rdb := newStore(t, redisstore.Config{Feedback: redisstore.FeedbackConfig{TTL: time.Hour, MaxBytes: 2000}})
	ctx := context.Background()
	now := time.Now().UTC()
	long := strings.Repeat("é", 3000) // 6,000 bytes
	big := classifier.Ticket{Summary: "passkey", Description: long, Comments: []classifier.Comment{{Author: classifier.AuthorReporter, Body: long}}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.KeepText(ctx, "HD-1", big))
	must(s.KeepText(ctx, "HD-2", classifier.Ticket{Summary: "new phone"}))
	must(s.RecordFeedback(ctx, triage.Feedback{Key: "HD-2", Outcome: triage.OutcomeSent, At: now.Add(-time.Minute), Expect: triage.HumanExpect("")}))
	must(s.RecordFeedback(ctx, triage.Feedback{Key: "HD-1", Outcome: triage.OutcomeCorrected, At: now, Expect: triage.HumanExpect("ios")}))
	must(s.RecordFeedback(ctx, triage.Feedback{Key: "HD-3", Outcome: triage.OutcomeReturned, At: now, Expect: triage.HumanExpect("")}))

	got, err := s.FeedbackSince(ctx, now.Add(-30*time.Minute))
	must(err)
	var keys []string
	for _, f := range got {
		keys = append(keys, f.Feedback.Key)
	}
	if strings.Join(keys, " ") != "HD-2 HD-1 HD-3" && strings.Join(keys, " ") != "HD-2 HD-3 HD-1" {
		t.Fatalf("keys %v, want HD-2 first (oldest outcome), then HD-1 and HD-3", keys)
	}
	for _, f := range got {
		switch f.Feedback.Key {
		case "HD-1":
			if f.Ticket == nil || f.Ticket.Summary != "passkey" || len(f.Ticket.Description) >= len(long) || !utf8.ValidString(f.Ticket.Description) ||
				len(f.Ticket.Comments) != 1 || !utf8.ValidString(f.Ticket.Comments[0].Body) || f.Feedback.Expect.Platform != "ios" {
				t.Errorf("HD-1: %+v, text cut to %d bytes", f.Feedback, len(f.Ticket.Description))
			}
		case "HD-3":
			if f.Ticket != nil {
				t.Errorf("HD-3 has text %+v; none was kept", f.Ticket)
			}
		}
	}
	if got, _ := s.FeedbackSince(ctx, now.Add(-30*time.Second)); len(got) != 2 {
		t.Errorf("%d tickets since 30 s ago, want 2", len(got))
	}
	keys, err = rdb.Keys(ctx, "test:*:feedback-text:{HD-1}").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("text keys %v, %v", keys, err)
	}
	ttl, err := rdb.TTL(ctx, keys[0]).Result()
	must(err)
	if ttl <= 0 || ttl > time.Hour {
		t.Errorf("the text's TTL is %v, want at most the configured hour", ttl)
	}
}
