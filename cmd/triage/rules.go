package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
)

func newRulesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "rules", Short: "Look after the classifier's rules"}
	var (
		corpora []string
		most    int
	)
	lint := &cobra.Command{
		Use:   "lint --corpus FILE...",
		Short: "List the phrases of the rules that match no labeled ticket, or only one",
		Long: `lint traces every labeled ticket through the rules and counts, for each
phrase (an alternative of a phrase rule, or a whole near rule), the tickets it
matched. Phrases that match no ticket, or exactly one, are listed: vocabulary
nobody has shown to be general, or lifted from a single ticket. Keep the rules
to general vocabulary; teach the rest to the model with labeled tickets.`,
		Example: `  triage rules lint --corpus testdata/corpus/handwritten.jsonl --corpus ../shared/corpus/dev.jsonl`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(corpora) == 0 {
				return fmt.Errorf("--corpus FILE (one or more) is required")
			}
			path, _ := cmd.Flags().GetString("rules")
			rs, err := rulesFrom(path)
			if err != nil {
				return err
			}
			c, err := classifier.New(rs)
			if err != nil {
				return err
			}
			sets, err := readTrainSets(corpora)
			if err != nil {
				return err
			}
			var tickets []classifier.Ticket
			for _, s := range sets {
				for _, l := range s.Tickets {
					tickets = append(tickets, l.Ticket)
				}
			}
			use := c.RuleUse(rs, tickets)
			none, one := 0, 0
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "tickets\tclass\tphrase\n")
			for _, u := range use {
				if u.Tickets > most {
					continue
				}
				if u.Tickets == 0 {
					none++
				} else {
					one++
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\n", u.Tickets, u.Class, u.Phrase)
			}
			tw.Flush()
			fmt.Fprintf(cmd.OutOrStdout(), "\n%d phrases over %d tickets: %d match none, %d match one\n", len(use), len(tickets), none, one)
			return nil
		},
	}
	lint.Flags().StringArrayVar(&corpora, "corpus", nil, "labeled JSONL corpus (repeat for more)")
	lint.Flags().IntVar(&most, "most", 1, "list phrases matching at most this many tickets")
	cmd.AddCommand(lint, newRulesReplayCmd())
	return cmd
}

// newRulesReplayCmd records what the rules alone decide on labeled sets.
func newRulesReplayCmd() *cobra.Command {
	var corpora []string
	replay := &cobra.Command{
		Use:   "replay --corpus FILE...",
		Short: "Print what the rules alone decide on new labeled sets, as training replays",
		Long: `replay runs the rules alone (no model) over every ticket of the labeled sets
and prints one JSON line a ticket in the --replays format of train: the set
(the file's base name), the ticket's id, and the rules' action, categories and
platform. Run it on a new set before any rule is changed because of it, and
append the lines to testdata/model/rules-firstrun.jsonl: the combiner and the
calibration learn from such verdicts how far the rules can be trusted on
tickets they were never tuned on.`,
		Example: `  triage rules replay --corpus testdata/corpus/new-set.jsonl >> testdata/model/rules-firstrun.jsonl`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(corpora) == 0 {
				return fmt.Errorf("--corpus FILE (one or more) is required")
			}
			path, _ := cmd.Flags().GetString("rules")
			c, err := rulesClassifier(path)
			if err != nil {
				return err
			}
			sets, err := readTrainSets(corpora)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			for _, s := range sets {
				for _, l := range s.Tickets {
					v := c.Decide(l.Ticket)
					r := classifier.Replay{Set: s.Name, ID: l.ID, Action: v.Action, Categories: v.Categories, Platform: v.Platform}
					if r.Categories == nil {
						r.Categories = []string{}
					}
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	replay.Flags().StringArrayVar(&corpora, "corpus", nil, "labeled JSONL corpus (repeat for more)")
	return replay
}
