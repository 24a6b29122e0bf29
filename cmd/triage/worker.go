package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mfatriage/triage/templates"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
)

func newWorkerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run the worker alone: triage tasks from the queue and act on Jira",
		Long: `worker processes the ticket:triage and ticket:followup tasks of the queue
until SIGINT or SIGTERM, then stops taking tasks and lets the running ones
finish within TRIAGE_SHUTDOWN_TIMEOUT. Run as many as you like: they share
the Redis queue. It serves /healthz and /metrics on TRIAGE_LISTEN, and, with
TRIAGE_JQL and the intervals set, schedules the polls and reconciliation
sweeps (time-bucket task ids keep replicas from doubling them).` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRoles(cmd, false, true) },
	}
}

func newAuditCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit KEY",
		Short: "Print a ticket's triage history: every decision, its evidence and what was written",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := newApp(cmd, false, false)
			if err != nil {
				return err
			}
			defer a.Close()
			hist, err := a.store.History(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				for _, e := range hist {
					if err := enc.Encode(e); err != nil {
						return err
					}
				}
				return nil
			}
			if len(hist) == 0 {
				fmt.Fprintf(out, "no triage history for %s\n", args[0])
				return nil
			}
			for _, e := range hist {
				v := e.Verdict
				fmt.Fprintf(out, "%s  %s  %s  task %s  mode %s\n", e.At.Format("2006-01-02 15:04:05Z"), e.Key, e.Event, e.TaskID, e.Mode)
				fmt.Fprintf(out, "  action %s (%.2f): %s\n", v.Action, v.Confidence, v.Reason)
				fmt.Fprintf(out, "  categories %s, platform %s\n", strings.Join(v.Categories, ", "), v.Platform)
				for _, ev := range v.Evidence {
					fmt.Fprintf(out, "    %s %s: %q in %s\n", ev.Kind, ev.Label, ev.Text, ev.Where)
				}
				for _, w := range e.Writes {
					fmt.Fprintf(out, "  wrote: %s\n", w)
				}
				if e.Outcome != "" {
					fmt.Fprintf(out, "  outcome: %s, by %s\n", e.Outcome, e.Actor)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "one JSON object per decision")
	return cmd
}

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "config", Short: "Inspect the configuration"}
	var tryIt bool
	check := &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration (file and environment) and print it with secrets hidden",
		Long: `check reads the configuration as serve does (the --config file, then the
environment), prints it with the secrets hidden, and applies serve's rules
to it: what serve would refuse, check refuses. With --ping it also tries
Redis, and Jira: the credentials (GET /myself), that they are the bot
account's (TRIAGE_BOT_ACCOUNT_ID), and that TRIAGE_JQL finds the project.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := readConfig(cmd)
			if err != nil {
				return err
			}
			data, err := yaml.Marshal(cfg.redacted())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprint(out, string(data))
			if err := errors.Join(cfg.validate(true, true), cfg.validateServing(true, true)); err != nil {
				return fmt.Errorf("the configuration is not valid:\n%w", err)
			}
			if err := listOverrides(out, cfg); err != nil {
				return fmt.Errorf("the configuration is not valid:\n%w", err)
			}
			fmt.Fprintln(out, "# the configuration is valid")
			if !tryIt {
				return nil
			}
			routeRedisLogs(zerolog.Nop()) // the failures are on the lines ping prints
			if err := ping(cmd.Context(), cfg, out); err != nil {
				return err
			}
			fmt.Fprintln(out, "# Redis and Jira answer as configured")
			return nil
		},
	}
	check.Flags().BoolVar(&tryIt, "ping", false, "also try Redis and Jira (credentials, bot account, the project of TRIAGE_JQL)")
	cmd.AddCommand(check)
	return cmd
}

// listOverrides says which rules, model and reply templates replace the
// embedded ones: the templates per language ("de/passkey-setup.tmpl").
func listOverrides(out io.Writer, cfg config) error {
	for _, o := range []struct{ what, path string }{{"rules", cfg.RulesPath}, {"model", cfg.ModelPath}} {
		if o.path != "" {
			fmt.Fprintf(out, "# %s: %s instead of the embedded ones\n", o.what, o.path)
		}
	}
	if cfg.TemplatesDir == "" {
		return nil
	}
	tmpl, err := templates.Load(cfg.TemplatesDir)
	if err != nil {
		return fmt.Errorf("TRIAGE_TEMPLATES_DIR: %w", err)
	}
	over := tmpl.Overridden()
	if len(over) == 0 {
		fmt.Fprintf(out, "# templates: %s overrides none of the embedded ones\n", cfg.TemplatesDir)
		return nil
	}
	fmt.Fprintf(out, "# templates overridden from %s: %s\n", cfg.TemplatesDir, strings.Join(over, ", "))
	return nil
}
