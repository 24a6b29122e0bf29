package main

import (
	"cmp"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
)

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "triage",
		Short: "Triage Microsoft Authenticator / passkey / MFA sign-in tickets",
		Long: `triage classifies helpdesk tickets about Microsoft Authenticator, passkeys
and MFA sign-in, posts the matching troubleshooting steps, and escalates the
unresolved ones to admins for an MFA reset.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().String("rules", "", "rules file (YAML) to use instead of the embedded one (env TRIAGE_RULES)")
	root.PersistentFlags().String("model", "", "model file to use instead of the embedded one (env TRIAGE_MODEL)")
	root.PersistentFlags().String("config", "", "configuration file (YAML); the environment overrides it (env TRIAGE_CONFIG)")
	root.AddCommand(newClassifyCmd(), newEvalCmd(), newServeCmd(), newIntakeCmd(), newAdminCmd(), newWorkerCmd(), newPollCmd(), newAuditCmd(), newEscalationsCmd(), newConfigCmd(), newFakeJiraCmd(), newDemoCmd(), newBackfillCmd(), newBenchCmd(), newTrainCmd(), newRulesCmd(), newFeedbackCmd())
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) { running.Store(cmd) }
	return root
}

// finishOnSignal names the commands that, on SIGINT or SIGTERM, finish the
// work in hand through their context (stop taking webhooks and tasks, let
// the running ones end, close the servers). Every other command stops at
// the first signal.
var finishOnSignal = []string{"serve", "intake", "worker", "admin", "fakejira", "demo", "bench", "backfill", "poll", "escalations"}

// running is the command being run, once its flags are parsed.
var running atomic.Pointer[cobra.Command]

// finishesOnSignal reports whether the command root is running (or one
// of its parents) is one of finishOnSignal.
func finishesOnSignal(root *cobra.Command) bool {
	for c := running.Load(); c != nil && c != root; c = c.Parent() {
		if slices.Contains(finishOnSignal, c.Name()) {
			return true
		}
	}
	return false
}

// loadClassifier builds the classifier from the embedded rules and model,
// or from the files named by --rules / TRIAGE_RULES and --model /
// TRIAGE_MODEL; TRIAGE_AUTO_THRESHOLD replaces the model's threshold.
func loadClassifier(cmd *cobra.Command) (*classifier.Classifier, error) {
	rules, _ := cmd.Flags().GetString("rules")
	model, _ := cmd.Flags().GetString("model")
	var threshold *float64
	if v := os.Getenv("TRIAGE_AUTO_THRESHOLD"); v != "" {
		t, err := strconv.ParseFloat(v, 64)
		if err != nil || t < 0 {
			return nil, fmt.Errorf("TRIAGE_AUTO_THRESHOLD %q is not a number from 0 up (1.01 means never act alone)", v)
		}
		threshold = &t
	}
	c, _, err := classifierFrom(cmp.Or(rules, os.Getenv("TRIAGE_RULES")), cmp.Or(model, os.Getenv("TRIAGE_MODEL")), threshold, os.Getenv("TRIAGE_FALLBACK_LANGUAGE"))
	return c, err
}
