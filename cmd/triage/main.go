// Command triage is the MFA sign-in ticket triage worker: one binary with a
// subcommand per role (classify, eval, and the worker's roles as they land).
//
// This package only wires: it reads flags, files and the environment, builds
// the packages' configuration and runs them. No logic lives here.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // the poller writes JQL dates in the bot's Jira time zone, on images without a zone database too
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	signalsHeard()
	root := newRootCmd()
	go onSignals(sigs, cancel, func() bool { return finishesOnSignal(root) }, os.Exit)
	if err := root.ExecuteContext(ctx); err != nil {
		var sig stoppedBy
		if errors.As(context.Cause(ctx), &sig) { // the command ended because of the signal
			fmt.Fprintf(os.Stderr, "triage: stopped by %v\n", sig.Signal)
			os.Exit(sig.exitCode())
		}
		fmt.Fprintln(os.Stderr, "triage:", err)
		os.Exit(1)
	}
}

// signalsHeard is called once main listens for SIGINT and SIGTERM: a test
// that starts the command as a process signals it only then.
var signalsHeard = func() {}

// stoppedBy is the cause of a context a signal ended.
type stoppedBy struct{ os.Signal }

func (s stoppedBy) Error() string { return "stopped by " + s.String() }

// exitCode is the shell's code for a process the signal ended: 128 + its
// number (130 for SIGINT, 143 for SIGTERM).
func (s stoppedBy) exitCode() int {
	if n, ok := s.Signal.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

// onSignals ends the command on SIGINT or SIGTERM. The first signal
// cancels its context; a command that finishes its work on that (serve
// drains its tasks) is given the time to, and every other one exits at
// once. A second signal always exits at once.
func onSignals(sigs <-chan os.Signal, cancel context.CancelCauseFunc, finishes func() bool, exit func(int)) {
	sig := stoppedBy{<-sigs}
	cancel(sig)
	if finishes() {
		if isTerminal(os.Stderr) {
			fmt.Fprintf(os.Stderr, "triage: %v: finishing the work in hand (once more to stop at once)\n", sig.Signal)
		}
		sig = stoppedBy{<-sigs}
	}
	exit(sig.exitCode())
}
