package main

import (
	"os"

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
	}
	root.PersistentFlags().String("rules", "", "rules file (YAML) to use instead of the embedded one (env TRIAGE_RULES)")
	root.PersistentFlags().String("config", "", "configuration file (YAML); the environment overrides it (env TRIAGE_CONFIG)")
	root.AddCommand(newClassifyCmd(), newEvalCmd(), newServeCmd(), newIntakeCmd(), newAdminCmd(), newWorkerCmd(), newPollCmd(), newAuditCmd(), newEscalationsCmd(), newConfigCmd(), newFakeJiraCmd(), newDemoCmd(), newBackfillCmd(), newBenchCmd())
	return root
}

// loadClassifier builds the classifier from the embedded rules, or from the
// file named by --rules or TRIAGE_RULES.
func loadClassifier(cmd *cobra.Command) (*classifier.Classifier, error) {
	path, _ := cmd.Flags().GetString("rules")
	if path == "" {
		path = os.Getenv("TRIAGE_RULES")
	}
	return classifierFrom(path)
}
