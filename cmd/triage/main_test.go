package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// run executes the root command with args and stdin, as the binary would.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestClassifyJSON(t *testing.T) {
	t.Parallel()
	out, err := run(t, "Defender login\nAuthenticator did not complete login\n\nSent from my iPhone", "classify", "--json", "-")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Categories []string          `json:"categories"`
		Platform   string            `json:"platform"`
		Action     string            `json:"action"`
		Confidence float64           `json:"confidence"`
		Evidence   []json.RawMessage `json:"evidence"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	want := []string{"authenticator-incomplete"}
	if diff := cmp.Diff(want, v.Categories); diff != "" || v.Platform != "ios" || v.Action != "reply" || len(v.Evidence) == 0 || v.Confidence <= 0 {
		t.Errorf("classify --json = %+v (categories -want +got: %s)", v, diff)
	}
}

func TestClassifyCorpusJSONLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "testdata", "corpus", "languages.jsonl")
	out, err := run(t, "", "classify", "--corpus", path, "--json")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantLines := strings.Count(strings.TrimSpace(string(data)), "\n") + 1
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var v map[string]any
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		for _, k := range []string{"id", "categories", "platform", "action", "confidence", "evidence"} {
			if _, ok := v[k]; !ok {
				t.Errorf("line %d lacks %q", n+1, k)
			}
		}
		n++
	}
	if n != wantLines {
		t.Errorf("%d lines, want %d (one per ticket)", n, wantLines)
	}
}

func TestEvalJSONKeys(t *testing.T) {
	t.Parallel()
	out, err := run(t, "", "eval", "--corpus", filepath.Join("..", "..", "testdata", "corpus", "handwritten.jsonl"), "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not one JSON object: %v", err)
	}
	for _, k := range []string{"tickets", "macro_f1", "micro_f1", "action_accuracy", "platform_accuracy", "false_reply_rate", "per_category"} {
		if _, ok := r[k]; !ok {
			t.Errorf("eval --json lacks %q", k)
		}
	}
}

func TestEvalTable(t *testing.T) {
	t.Parallel()
	out, err := run(t, "", "eval", "--corpus", filepath.Join("..", "..", "testdata", "corpus", "languages.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"macro_f1", "false_reply_rate", "action confusion", "passkey-invalid"} {
		if !strings.Contains(out, s) {
			t.Errorf("eval table lacks %q:\n%s", s, out)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		stdin   string
		wantErr string
	}{
		{"eval without corpus", []string{"eval"}, "", "--corpus FILE is required"},
		{"missing corpus file", []string{"eval", "--corpus", "/nonexistent.jsonl"}, "", "open corpus"},
		{"empty ticket", []string{"classify", "-"}, "  ", "empty"},
		{"bad rules file", []string{"classify", "--rules", "/nonexistent.yaml", "-"}, "x", "read rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := run(t, tt.stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestHelpOnEveryCommand(t *testing.T) {
	t.Parallel()
	for _, c := range newRootCmd().Commands() {
		out, err := run(t, "", c.Name(), "--help")
		if err != nil || !strings.Contains(out, "Usage:") {
			t.Errorf("%s --help: err=%v, output lacks Usage:\n%s", c.Name(), err, out)
		}
	}
}
