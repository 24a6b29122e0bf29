package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
)

func newEvalCmd() *cobra.Command {
	var (
		asJSON     bool
		corpus     string
		showErrors bool
	)
	cmd := &cobra.Command{
		Use:   "eval --corpus FILE",
		Short: "Score the classifier on a labeled corpus",
		Long: `eval runs the same decision code the worker runs over every ticket of a
labeled JSONL corpus and prints per-category precision, recall and F1, micro
and macro F1, platform accuracy, action accuracy with a confusion table, and
false_reply_rate: the share of tickets that should be left to a human but got
a reply or an escalation.`,
		Example: `  triage eval --corpus ../shared/corpus/dev.jsonl
  triage eval --corpus ../shared/corpus/dev.jsonl --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if corpus == "" {
				return fmt.Errorf("--corpus FILE is required")
			}
			c, err := loadClassifier(cmd)
			if err != nil {
				return err
			}
			tickets, err := readCorpusFile(corpus)
			if err != nil {
				return err
			}
			s := classifier.NewScorer()
			for i, t := range tickets {
				if t.Expect == nil {
					return fmt.Errorf("corpus %s: ticket %d (%s) has no expect", corpus, i+1, t.ID)
				}
				s.Add(t.ID, *t.Expect, c.Decide(t.Ticket))
			}
			r := s.Report()
			if !showErrors {
				r.Errors = nil
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			printReport(cmd.OutOrStdout(), r)
			return nil
		},
	}
	cmd.Flags().StringVar(&corpus, "corpus", "", "labeled JSONL corpus file (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	cmd.Flags().BoolVar(&showErrors, "errors", false, "also list the tickets decided wrongly")
	return cmd
}

func printReport(w io.Writer, r classifier.Report) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "category\tprecision\trecall\tf1\ttp\tfp\tfn\t\n")
	for _, c := range classifier.Categories() {
		p := r.PerCategory[c]
		fmt.Fprintf(tw, "%s\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t\n", c, p.Precision, p.Recall, p.F1, p.TP, p.FP, p.FN)
	}
	tw.Flush()
	fmt.Fprintf(w, "\ntickets            %d\n", r.Tickets)
	fmt.Fprintf(w, "macro_f1           %.3f\n", r.MacroF1)
	fmt.Fprintf(w, "micro_f1           %.3f\n", r.MicroF1)
	fmt.Fprintf(w, "platform_accuracy  %.3f  (%d tickets with a category)\n", r.PlatformAccuracy, r.PlatformTickets)
	fmt.Fprintf(w, "action_accuracy    %.3f\n", r.ActionAccuracy)
	fmt.Fprintf(w, "false_reply_rate   %.3f  (%d human tickets)\n", r.FalseReplyRate, r.HumanTickets)
	fmt.Fprintf(w, "coverage               %.3f  (auto among tickets whose expected action is not human)\n", r.Coverage)
	fmt.Fprintf(w, "autonomous_precision   %.3f  (auto verdicts with the right action and category set)\n", r.AutonomousPrecision)
	fmt.Fprintf(w, "false_autonomous_rate  %.3f  (human tickets acted on alone)\n", r.FalseAutonomousRate)
	fmt.Fprintf(w, "suggestion_accuracy    %.3f\n", r.SuggestionAccuracy)
	fmt.Fprintf(w, "ece                    %.3f  (10 bins)\n", r.ECE)
	fmt.Fprintf(w, "modes                  auto %d, suggest %d, none %d\n", r.Modes[classifier.ModeAuto], r.Modes[classifier.ModeSuggest], r.Modes[classifier.ModeNone])
	if r.LanguageAccuracy > 0 {
		fmt.Fprintf(w, "language_accuracy      %.3f\n", r.LanguageAccuracy)
	}
	if r.SecurityTickets > 0 {
		fmt.Fprintf(w, "security_recall        %.3f  (%d security reports)\n", r.SecurityRecall, r.SecurityTickets)
		fmt.Fprintf(w, "security_false_flags   %.3f  (of in-scope tickets)\n", r.SecurityFalseFlagRate)
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "action confusion (rows: expected, columns: decided)")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "\t")
	for _, a := range classifier.Actions() {
		fmt.Fprintf(tw, "%s\t", a)
	}
	fmt.Fprintln(tw)
	for _, want := range classifier.Actions() {
		fmt.Fprintf(tw, "%s\t", want)
		for _, got := range classifier.Actions() {
			fmt.Fprintf(tw, "%d\t", r.Confusion[want][got])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\nerrors (%d)\n", len(r.Errors))
		for _, e := range r.Errors {
			fmt.Fprintf(w, "%s [%s] want %s %v %s, got %s %v %s (%s)\n", e.ID, strings.Join(e.What, ","),
				e.Want.Action, e.Want.Categories, e.Want.Platform, e.Got.Action, e.Got.Categories, e.Got.Platform, e.Reason)
		}
	}
}
