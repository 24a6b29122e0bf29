package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestDemoExitAfterSummary runs the demo as `triage demo
// --exit-after-summary` does and checks the summary's numbers: every
// sample ticket decided as the sample data says.
func TestDemoExitAfterSummary(t *testing.T) {
	t.Parallel()
	var out, logs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := runDemo(ctx, &out, &logs, demoOptions{listen: "127.0.0.1:0", followup: 2 * time.Second, exitAfterSummary: true, timeout: 90 * time.Second})
	if err != nil {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), logs.String())
	}
	for _, want := range []string{
		"summary of 20 tickets",
		"replied with the steps:            13",
		"escalated for an MFA reset:        6 (2 by the follow-up)",
		"escalated for a password reset:    1",
		"resolved:                          9",
		"left to a human:                   4",
		"admin page: http://127.0.0.1:",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
