package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/worker"
)

func newBackfillCmd() *cobra.Command {
	var (
		jql    string
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "backfill --jql 'JQL'",
		Short: "Triage existing tickets: every page of a JQL search",
		Long: `backfill searches Jira (all pages) and enqueues a triage task for every
ticket found, so that tickets opened before triage ran are triaged too —
exactly once, like any other event. With --dry-run it decides each ticket
(reading its comments) and prints the decision, writing nothing. Progress is
a bar on a terminal and plain lines otherwise.`,
		Example: `  triage backfill --jql 'project = HD AND statusCategory != Done' --dry-run
  triage backfill --jql 'project = HD AND created >= -30d'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(jql) == "" {
				return errors.New("--jql is required: say which tickets to triage")
			}
			a, err := newApp(cmd, true, false)
			if err != nil {
				return err
			}
			defer a.Close()
			bf, err := intake.NewBackfill(intake.BackfillConfig{Queue: a.cfg.Queue, Logger: a.log}, a.jira, a.client)
			if err != nil {
				return err
			}
			issues, err := bf.Find(cmd.Context(), jql)
			if err != nil {
				return err
			}
			bar := newProgress(cmd.OutOrStdout(), len(issues))
			if dryRun {
				return backfillDryRun(cmd.Context(), a, issues, bar)
			}
			enq, dup := 0, 0
			for i, is := range issues {
				added, err := bf.Enqueue(cmd.Context(), is)
				if err != nil {
					return err
				}
				status := "enqueued"
				if added {
					enq++
				} else {
					status, dup = "already queued", dup+1
				}
				bar.step(i+1, is.Key+" "+status)
			}
			bar.done(fmt.Sprintf("backfill: %d tickets found, %d enqueued, %d already queued", len(issues), enq, dup))
			return nil
		},
	}
	cmd.Flags().StringVar(&jql, "jql", "", "the tickets to triage (required), e.g. project = HD AND statusCategory != Done")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the decisions only; write nothing")
	return cmd
}

// backfillDryRun decides each ticket as the worker would, reading its
// comments, and prints the decisions; it writes nothing.
func backfillDryRun(ctx context.Context, a *app, issues []jira.Issue, bar *progress) error {
	clf, _, err := classifierFrom(a.cfg.RulesPath, a.cfg.ModelPath, a.cfg.AutoThreshold, a.cfg.FallbackLanguage)
	if err != nil {
		return err
	}
	tj := jira.NewTriage(a.jira)
	for i, is := range issues {
		full, err := tj.GetIssue(ctx, is.Key)
		if err != nil {
			return fmt.Errorf("read %s: %w", is.Key, err)
		}
		v := clf.Decide(worker.TicketOf(full, a.cfg.BotAccountID))
		bar.step(i+1, fmt.Sprintf("%s\t%s\t%s\t%s\t(%s)", is.Key, v.Action, strings.Join(v.Categories, ","), v.Platform, v.Reason))
	}
	bar.done(fmt.Sprintf("dry run: %d tickets decided, nothing written", len(issues)))
	return nil
}

// progress is a bar on a terminal and plain lines otherwise.
type progress struct {
	w     io.Writer
	total int
	tty   bool
}

func newProgress(w io.Writer, total int) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, total: total, tty: ok && isatty.IsTerminal(f.Fd())}
}

func (p *progress) step(n int, line string) {
	if !p.tty {
		fmt.Fprintf(p.w, "%d/%d %s\n", n, p.total, line)
		return
	}
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = n * width / p.total
	}
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %-40s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), n, p.total, clipText(line, 40))
}

func (p *progress) done(summary string) {
	if p.tty {
		fmt.Fprintln(p.w)
	}
	fmt.Fprintln(p.w, summary)
}
