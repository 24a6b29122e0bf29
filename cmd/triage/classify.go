package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
)

func newClassifyCmd() *cobra.Command {
	var (
		asJSON bool
		corpus string
		trace  bool
	)
	cmd := &cobra.Command{
		Use:   "classify [FILE|-]",
		Short: "Classify one ticket (corpus JSON or plain text) and explain why",
		Long: `classify reads one ticket — a corpus-format JSON object or plain text (the
first line is the summary) — from FILE or standard input, and prints its
categories, platform, action, confidence and the phrases that matched.
With --corpus it classifies every line of a JSONL corpus (one JSON object
a line with --json).`,
		Example: `  triage classify ticket.json
  echo "Defender says Authenticator did not complete login" | triage classify --json -
  triage classify --corpus ../shared/corpus/dev.jsonl --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if corpus == "" && len(args) == 0 && isTerminal(cmd.InOrStdin()) {
				// nothing piped in: say how to use it at once, before
				// loading the rules and the model
				fmt.Fprint(cmd.ErrOrStderr(), cmd.UsageString())
				return errors.New("no ticket: name a FILE, pipe the ticket in, or give - to type it (end with Ctrl-D)")
			}
			c, err := loadClassifier(cmd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if corpus != "" {
				if len(args) > 0 {
					return fmt.Errorf("give either --corpus or a FILE, not both")
				}
				tickets, err := readCorpusFile(corpus)
				if err != nil {
					return err
				}
				enc := json.NewEncoder(out)
				for _, t := range tickets {
					v := c.Decide(t.Ticket)
					if asJSON {
						if err := enc.Encode(classifyLine{ID: t.ID, Verdict: v}); err != nil {
							return err
						}
						continue
					}
					fmt.Fprintf(out, "%s\t%s\t%s\t%s\t%s\t%.2f\t%s\n", t.ID, v.Action, strings.Join(v.Categories, ","), v.Platform, v.Mode, v.Confidence, v.Language)
				}
				return nil
			}
			var data []byte
			if len(args) == 0 || args[0] == "-" {
				in := cmd.InOrStdin()
				if isTerminal(in) {
					fmt.Fprintln(cmd.ErrOrStderr(), "reading the ticket from the terminal: the first line is the summary; end with Ctrl-D")
				}
				data, err = readAll(cmd.Context(), in, 8<<20)
			} else {
				data, err = os.ReadFile(args[0])
			}
			if err != nil {
				return fmt.Errorf("read ticket: %w", err)
			}
			t, err := classifier.ParseTicket(data)
			if err != nil {
				return err
			}
			decide := c.Decide
			if trace {
				decide = c.Trace
			}
			v := decide(t.Ticket)
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(classifyLine{ID: t.ID, Verdict: v})
			}
			printVerdict(out, v)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&corpus, "corpus", "", "classify every ticket of a JSONL corpus file")
	cmd.Flags().BoolVar(&trace, "trace", false, "show every rule that matched, also those that did not decide (for tuning rules)")
	return cmd
}

// classifyLine is one verdict with the ticket's id.
type classifyLine struct {
	ID string `json:"id,omitempty"`
	classifier.Verdict
}

func printVerdict(w io.Writer, v classifier.Verdict) {
	cats := strings.Join(v.Categories, ", ")
	if cats == "" {
		cats = "(none)"
	}
	fmt.Fprintf(w, "categories: %s\n", cats)
	fmt.Fprintf(w, "platform:   %s\n", v.Platform)
	fmt.Fprintf(w, "action:     %s", v.Action)
	if len(v.Reply) > 0 {
		fmt.Fprintf(w, " (steps for %s)", strings.Join(v.Reply, ", "))
	}
	fmt.Fprintf(w, "\nmode:       %s\n", v.Mode)
	fmt.Fprintf(w, "confidence: %.2f\n", v.Confidence)
	if v.Judges.RulesAction != "" {
		fmt.Fprintf(w, "judges:     rules %s, model %s (p=%.2f)\n", v.Judges.RulesAction, v.Judges.ModelAction, v.Judges.ModelProbability)
	}
	fmt.Fprintf(w, "reason:     %s\n", v.Reason)
	if len(v.Signals) > 0 {
		fmt.Fprintf(w, "signals:    %s\n", strings.Join(v.Signals, ", "))
	}
	if len(v.Evidence) == 0 {
		return
	}
	fmt.Fprintln(w, "evidence:")
	for _, e := range v.Evidence {
		where := e.Where
		if e.Comment > 0 {
			where = fmt.Sprintf("%s %d", e.Where, e.Comment)
		}
		fmt.Fprintf(w, "  %-8s %-24s %q in %s (rule %q, +%.1f)\n", e.Kind, e.Label, e.Text, where, e.Rule, e.Weight)
	}
}

// readAll reads r up to limit bytes, or until ctx ends (a signal): a read
// from a terminal or a pipe that never ends does not hold the command.
func readAll(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	type read struct {
		data []byte
		err  error
	}
	done := make(chan read, 1)
	go func() {
		data, err := io.ReadAll(io.LimitReader(r, limit))
		done <- read{data, err}
	}()
	select {
	case got := <-done:
		return got.data, got.err
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func readCorpusFile(path string) ([]classifier.Labeled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open corpus: %w", err)
	}
	defer f.Close()
	tickets, err := classifier.ReadCorpus(f)
	if err != nil {
		return nil, fmt.Errorf("corpus %s: %w", path, err)
	}
	return tickets, nil
}
