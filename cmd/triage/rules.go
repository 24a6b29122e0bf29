package main

import (
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
	cmd.AddCommand(lint)
	return cmd
}
