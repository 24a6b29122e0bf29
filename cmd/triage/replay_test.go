package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/classifier"
)

// TestRulesReplay checks that `rules replay` prints what the rules alone
// decide, in the format train reads back with --replays.
func TestRulesReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	corpus := filepath.Join(dir, "newset.jsonl")
	lines := `{"id": "n-1", "summary": "Defender says Authenticator did not complete login", "description": "on my iPhone", "expect": {"categories": ["authenticator-incomplete"], "platform": "ios", "action": "reply"}}
{"id": "n-2", "summary": "lunch menu", "description": "what is for lunch on friday?", "expect": {"categories": [], "platform": "unknown", "action": "human"}}
`
	if err := os.WriteFile(corpus, []byte(lines), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "rules", "replay", "--corpus", corpus)
	if err != nil {
		t.Fatalf("rules replay: %v\n%s", err, out)
	}
	replays := filepath.Join(dir, "replays.jsonl")
	if err := os.WriteFile(replays, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readReplays(replays)
	if err != nil {
		t.Fatal(err)
	}
	want := []classifier.Replay{
		{Set: "newset", ID: "n-1", Action: classifier.ActionReply, Categories: []string{"authenticator-incomplete"}, Platform: "ios"},
		{Set: "newset", ID: "n-2", Action: classifier.ActionHuman, Categories: []string{}, Platform: "unknown"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("replays (-want, +got):\n%s", diff)
	}
}
