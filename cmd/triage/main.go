// Command triage is the MFA sign-in ticket triage worker: one binary with a
// subcommand per role (classify, eval, and the worker's roles as they land).
//
// This package only wires: it reads flags, files and the environment, builds
// the packages' configuration and runs them. No logic lives here.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the poller writes JQL dates in the bot's Jira time zone, on images without a zone database too
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "triage:", err)
		os.Exit(1)
	}
}
