package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/internal/redistest"
)

// TestFeedbackExportRoundTrip: the outcomes kept in Redis come out of
// triage feedback export as labeled tickets (the text as triaged, expect
// from the outcome), a ticket whose text is gone is left out, and triage
// train accepts the file.
func TestFeedbackExportRoundTrip(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(redistest.Options(t))
	t.Cleanup(func() { rdb.Close() })
	store := redisstore.New(rdb, redisstore.Config{}) // the app's prefix
	ctx := context.Background()
	proj := fmt.Sprintf("FB%d", time.Now().UnixNano()%1_000_000)
	human := classifier.Ticket{Summary: "Passkey problem", Description: "Defender says my passkey can no longer be used. iPhone 15.",
		Comments: []classifier.Comment{{Author: classifier.AuthorReporter, Body: "any news?"}}}
	reply := classifier.Ticket{Summary: "New phone", Description: "I got a new Pixel, how do I set up the passkey?"}
	now := time.Now().UTC()
	for _, step := range []error{
		store.KeepText(ctx, proj+"-1", human),
		store.RecordFeedback(ctx, triage.Feedback{Key: proj + "-1", Outcome: triage.OutcomeCorrected, Actor: "ann", At: now, Expect: triage.HumanExpect("ios")}),
		store.KeepText(ctx, proj+"-2", reply),
		store.RecordFeedback(ctx, triage.Feedback{Key: proj + "-2", Outcome: triage.OutcomeSent, Actor: "ann", At: now,
			Expect: classifier.Expect{Categories: []string{"passkey-setup", "new-device"}, Platform: "android", Action: classifier.ActionReply}}),
		// no text kept: left out
		store.RecordFeedback(ctx, triage.Feedback{Key: proj + "-3", Outcome: triage.OutcomeReturned, At: now, Expect: triage.HumanExpect("")}),
		// too old for --since 1h
		store.KeepText(ctx, proj+"-4", reply),
		store.RecordFeedback(ctx, triage.Feedback{Key: proj + "-4", Outcome: triage.OutcomeSent, At: now.Add(-2 * time.Hour), Expect: triage.HumanExpect("")}),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "triage.yaml")
	if err := os.WriteFile(cfgPath, []byte("redis_url: "+redistest.URL()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "feedback", "export", "--since", "1h", "--config", cfgPath)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	var lines []string
	for _, ln := range strings.Split(out, "\n") {
		if strings.HasPrefix(ln, "{") {
			lines = append(lines, ln) // other tests' outcomes may be there too
		}
	}
	corpus, err := classifier.ReadCorpus(strings.NewReader(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatalf("the export is not a corpus: %v\n%s", err, out)
	}
	got := map[string]classifier.Labeled{}
	for _, l := range corpus {
		if strings.HasPrefix(l.ID, proj+"-") {
			got[l.ID] = l
		}
	}
	want := map[string]classifier.Labeled{
		proj + "-1": {Ticket: classifier.Ticket{ID: proj + "-1", Summary: human.Summary, Description: human.Description, Comments: human.Comments},
			Expect: &classifier.Expect{Categories: []string{}, Platform: "ios", Action: classifier.ActionHuman}},
		proj + "-2": {Ticket: classifier.Ticket{ID: proj + "-2", Summary: reply.Summary, Description: reply.Description},
			Expect: &classifier.Expect{Categories: []string{"passkey-setup", "new-device"}, Platform: "android", Action: classifier.ActionReply}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exported tickets (-want +got):\n%s", diff)
	}
	if !strings.Contains(out, "left out (their text is no longer kept)") {
		t.Errorf("no summary on standard error:\n%s", out)
	}

	file := filepath.Join(dir, "feedback.jsonl")
	if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "", "train", "--corpus", filepath.Join("..", "..", "testdata", "corpus", "languages.jsonl"), "--corpus", file, "--out", filepath.Join(dir, "model.bin.gz")); err != nil {
		t.Errorf("triage train does not take the export: %v\n%s", err, out)
	}
}
