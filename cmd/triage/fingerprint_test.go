package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/classifier"
)

// TestClassifierFingerprint checks that the startup log can tell which
// rules and model run: the embedded ones by default, a file's when set.
func TestClassifierFingerprint(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules.yaml")
	custom := append(classifier.DefaultRules(), []byte("\n# a site's own edit\n")...)
	if err := os.WriteFile(rules, custom, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, rulesPath string
		want            fingerprint
	}{
		{"embedded", "", fingerprint{rules: "embedded", rulesSHA: sha256Hex(classifier.DefaultRules()), model: "embedded", modelSHA: sha256Hex(classifier.DefaultModel())}},
		{"override", rules, fingerprint{rules: rules, rulesSHA: sha256Hex(custom), model: "embedded", modelSHA: sha256Hex(classifier.DefaultModel())}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got, err := classifierFrom(tc.rulesPath, "", nil, "")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(fingerprint{})); diff != "" {
				t.Errorf("fingerprint (-want, +got):\n%s", diff)
			}
		})
	}
	if _, _, err := classifierFrom("", filepath.Join(dir, "missing.bin.gz"), nil, ""); err == nil {
		t.Error("a missing model file was accepted")
	}
}
