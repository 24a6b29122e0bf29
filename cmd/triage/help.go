package main

import (
	"fmt"
	"strings"
)

// envHelp lists the environment variables for a command's --help, from
// the envVars table: name, default, meaning.
func envHelp() string {
	var b strings.Builder
	b.WriteString("\n\nEnvironment (the YAML file of --config or TRIAGE_CONFIG takes the same\nnames as keys; the environment wins):\n")
	for _, v := range envVars {
		fmt.Fprintf(&b, "  %-28s %s", v.name, v.meaning)
		if v.def != "" {
			fmt.Fprintf(&b, " (default %s)", v.def)
		}
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}
