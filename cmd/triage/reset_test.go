package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/graph/graphtest"
)

// TestResetMFACLI runs the reset from the command line against the fake
// Graph (GRAPH_BASE_URL alone): Authenticator and the passkey go, the rest
// stays, the pass is printed once (and in no log line), the reporter gets
// one comment; the same command again removes and posts nothing more.
func TestResetMFACLI(t *testing.T) {
	t.Parallel()
	g := graphtest.Start()
	t.Cleanup(g.Close)
	g.AddUser(graphtest.User{UPN: "alice@example.com", DisplayName: "Alice Reporter", Enabled: true}, graphtest.StandardMethods()...)
	fake, key, cfgPath := cliEscalation(t, "RST", fmt.Sprintf("graph_base_url: %s\nlog_level: info\nlog_format: json\n", g.URL()))
	args := []string{"escalations", "reset-mfa", key, "--user", "alice@example.com", "--remove", "authenticator,fido2", "--tap", "--actor", "ada", "--config", cfgPath}

	if out, err := run(t, "", args...); err == nil || !strings.Contains(err.Error(), "add --yes") || len(g.IssuedTAPs()) != 0 {
		t.Fatalf("without --yes and without a terminal: %v\n%s", err, out)
	}
	out, err := run(t, "", append(args, "--yes")...)
	if err != nil {
		t.Fatalf("reset-mfa: %v\n%s", err, out)
	}
	passes := g.IssuedTAPs()
	if len(passes) != 1 || strings.Count(out, passes[0]) != 1 || !strings.Contains(out, "Temporary Access Pass (shown once") {
		t.Errorf("the pass is not printed exactly once (passes %d):\n%s", len(passes), out)
	}
	for _, want := range []string{"REMOVE Microsoft Authenticator", "keep   Phone (SMS or call)", `"graph_call":"remove a passkey method"`, `"request_id":"`, "is now done"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	again, err := run(t, "", append(args, "--yes")...)
	if err != nil || !strings.Contains(again, "already done: nothing removed, nothing posted") {
		t.Errorf("the same reset again: %v\n%s", err, again)
	}
	want := []string{graphtest.TypePhone, graphtest.TypeSoftwareOath, graphtest.TypePassword, graphtest.TypeTAP}
	if diff := cmp.Diff(want, g.Methods("alice@example.com")); diff != "" {
		t.Errorf("methods left (-want, +got):\n%s", diff)
	}
	if n := len(fake.Comments(key)); n != 1 || len(g.IssuedTAPs()) != 1 {
		t.Errorf("%d comments and %d passes, want 1 and 1", n, len(g.IssuedTAPs()))
	}
	if _, err := run(t, "", "escalations", "reset-mfa", key, "--user", "alice@example.com", "--remove", "password", "--yes", "--config", cfgPath); err == nil || !strings.Contains(err.Error(), `unknown method type "password"`) {
		t.Errorf("--remove password: %v", err)
	}
}
