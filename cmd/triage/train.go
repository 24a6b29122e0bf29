package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
)

func newTrainCmd() *cobra.Command {
	var (
		corpora []string
		extra   []string
		replays string
		out     string
		opt     classifier.TrainOptions
	)
	cmd := &cobra.Command{
		Use:   "train --corpus FILE... [--replays FILE] --out FILE",
		Short: "Train the learned model (deterministic: the same corpora give the same bytes)",
		Long: `train fits the learned second judge on labeled JSONL corpora: a logistic
regression over hashed word, word-pair and character features of the
reporter's cleaned text, then a combiner of the rules' and the model's
verdicts and a calibrated confidence, both fitted on cross-validation folds so
that no ticket is scored by a model that trained on it. --replays names the
verdicts earlier rules gave to sets they had never seen (the combiner learns
from those how far the rules can be trusted on new tickets).

--extra names a corpus to learn from but to leave out of the figures and the
thresholds: the figures then say what it adds for the same tickets.

It prints what cross-validation measured and the auto threshold it chose.
` + "`make model`" + ` rebuilds the embedded model (classifier/model.bin.gz).`,
		Example: `  triage train --corpus testdata/corpus/handwritten.jsonl --corpus ../shared/corpus/dev.jsonl \
    --replays testdata/model/rules-firstrun.jsonl --out classifier/model.bin.gz`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(corpora) == 0 || out == "" {
				return fmt.Errorf("--corpus FILE (one or more) and --out FILE are required")
			}
			rulesPath, _ := cmd.Flags().GetString("rules")
			if rulesPath == "" {
				rulesPath = os.Getenv("TRIAGE_RULES")
			}
			c, err := rulesClassifier(rulesPath)
			if err != nil {
				return err
			}
			sets, err := readTrainSets(corpora)
			if err != nil {
				return err
			}
			more, err := readTrainSets(extra)
			if err != nil {
				return err
			}
			for _, s := range more {
				s.Unscored = true
				sets = append(sets, s)
			}
			var rs []classifier.Replay
			if replays != "" {
				if rs, err = readReplays(replays); err != nil {
					return err
				}
			}
			m, err := classifier.Train(c, sets, rs, opt)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if _, err := m.WriteTo(&buf); err != nil {
				return fmt.Errorf("write model: %w", err)
			}
			if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
				return fmt.Errorf("write model: %w", err)
			}
			meta := m.Meta()
			info, _ := json.Marshal(meta.Info)
			fmt.Fprintf(cmd.OutOrStdout(), "model: %s (%d bytes) auto_threshold=%.3f\ntraining: %s\n", out, buf.Len(), meta.AutoThreshold, info)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&corpora, "corpus", nil, "labeled JSONL corpus (repeat for more)")
	cmd.Flags().StringArrayVar(&extra, "extra", nil, "labeled JSONL corpus learned from but left out of the figures and thresholds (to measure what it adds; repeat for more)")
	cmd.Flags().StringVar(&replays, "replays", "", "JSONL of earlier rules' verdicts on sets they never saw")
	cmd.Flags().StringVar(&out, "out", "", "model file to write (gzip)")
	cmd.Flags().IntVar(&opt.Folds, "folds", 0, "cross-validation folds (default 5)")
	cmd.Flags().IntVar(&opt.Epochs, "epochs", 0, "passes over the tickets (default 30)")
	cmd.Flags().Float64Var(&opt.TargetPrecision, "target-precision", 0, "cross-validated autonomous precision the auto threshold must reach (default 0.98)")
	return cmd
}

// readReplays reads a JSONL file of classifier.Replay lines.
func readReplays(path string) ([]classifier.Replay, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("replays: %w", err)
	}
	defer f.Close()
	var out []classifier.Replay
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r classifier.Replay
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("replays %s line %d: %w", path, n, err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("replays %s: %w", path, err)
	}
	return out, nil
}

// readTrainSets reads labeled corpora, each named after its file.
func readTrainSets(files []string) ([]classifier.TrainSet, error) {
	var sets []classifier.TrainSet
	for _, f := range files {
		tickets, err := readCorpusFile(f)
		if err != nil {
			return nil, err
		}
		sets = append(sets, classifier.TrainSet{Name: strings.TrimSuffix(filepath.Base(f), ".jsonl"), Tickets: tickets})
	}
	return sets, nil
}
