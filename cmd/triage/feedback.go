package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/redisstore"
)

func newFeedbackCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feedback",
		Short: "What the helpdesk taught the bot: export the agents' outcomes as labeled tickets",
	}
	var since time.Duration
	export := &cobra.Command{
		Use:   "export [--since 720h]",
		Short: "Write the tickets with an agent outcome in the corpus format, for triage train",
		Long: `export writes one labeled ticket a line (the corpus format of triage train
and triage eval) for every ticket whose latest outcome came within --since:

  sent       a suggestion an agent sent as it was: its action, categories, platform
  corrected  /triage wrong with categories: those categories, action reply;
             /triage wrong human: action human (a bare /triage wrong says what
             was wrong, not what was right, and is left out)
  otherwise  an agent answered the reporter instead: action human
  returned   an admin returned an escalation as not an MFA problem: action human

The text is the ticket as it was triaged (summary, description, comments with
their authors), kept in Redis for TRIAGE_FEEDBACK_TTL from the suggestion or
escalation. Tickets whose text is no longer kept are counted on standard
error and left out.`,
		Example: `  triage feedback export --since 720h > feedback.jsonl
  triage train --corpus testdata/corpus/handwritten.jsonl --corpus feedback.jsonl --out model.bin.gz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since <= 0 {
				return fmt.Errorf("--since must be a positive duration, e.g. 720h")
			}
			a, err := newApp(cmd, false, false)
			if err != nil {
				return err
			}
			defer a.Close()
			items, err := a.store.FeedbackSince(cmd.Context(), time.Now().Add(-since))
			if err != nil {
				return err
			}
			written, missing, err := writeFeedback(cmd, items)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "feedback: %d tickets written, %d left out (their text is no longer kept)\n", written, missing)
			return nil
		},
	}
	export.Flags().DurationVar(&since, "since", 720*time.Hour, "export the outcomes of this long ago and newer")
	cmd.AddCommand(export)
	return cmd
}

// writeFeedback writes the labeled tickets, one JSON object a line.
func writeFeedback(cmd *cobra.Command, items []redisstore.FeedbackTicket) (written, missing int, err error) {
	w := bufio.NewWriter(cmd.OutOrStdout())
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, it := range items {
		if it.Ticket == nil {
			missing++
			continue
		}
		t := *it.Ticket
		t.ID = it.Feedback.Key
		e := it.Feedback.Expect
		if err := enc.Encode(classifier.Labeled{Ticket: t, Expect: &e}); err != nil {
			return written, missing, err
		}
		written++
	}
	return written, missing, w.Flush()
}
