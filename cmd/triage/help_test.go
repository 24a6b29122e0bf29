package main

import (
	"os"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestREADMEConfigurationTable: the README's table of variables is the
// envVars table: every variable, once, with its default and meaning.
func TestREADMEConfigurationTable(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var got, want []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]+)` \\| (.*) \\|$").FindAllStringSubmatch(string(readme), -1) {
		if m[1] != "TEST_REDIS_URL" {
			got = append(got, m[1]+" | "+m[2])
		}
	}
	for _, v := range envVars {
		def := v.def
		if def != "" && def != "asked of Jira" {
			def = "`" + def + "`"
		}
		want = append(want, v.name+" | "+def+" | "+v.meaning)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("README.md's configuration table differs from envVars in cmd/triage/config.go (-envVars +README):\n%s", d)
	}
}
