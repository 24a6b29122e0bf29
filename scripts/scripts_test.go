// Package scripts_test checks the test helpers of scripts/ and that `make
// test` and .ci/run install what the tests need through the one script,
// deps.sh.
package scripts_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// fakeBin makes a directory for PATH holding bash and the given fake
// commands (shell bodies), so deps.sh runs against a machine of the test's
// choosing: nothing else is found.
func fakeBin(t *testing.T, cmds map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bash, filepath.Join(dir, "bash")); err != nil {
		t.Fatal(err)
	}
	for name, body := range cmds {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runDeps runs deps.sh with PATH=bin and CHROMIUM=chromium; it returns the
// output, the exit code and how long it took.
func runDeps(t *testing.T, bin, chromium string) (string, int, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "./deps.sh")
	cmd.Env = []string{"PATH=" + bin, "CHROMIUM=" + chromium}
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("deps.sh: %v\n%s", err, out)
	}
	return string(out), code, took
}

func TestDepsInstallsWhatIsMissingAsRoot(t *testing.T) {
	t.Parallel()
	log := filepath.Join(t.TempDir(), "apt-get.log")
	bin := fakeBin(t, map[string]string{
		"id":      `echo 0`,
		"apt-get": `echo "$*" >> ` + log,
		"env":     `shift; exec "$@"`, // env DEBIAN_FRONTEND=... apt-get ...
	})
	out, code, _ := runDeps(t, bin, "/nonexistent/chromium")
	if code != 0 {
		t.Fatalf("deps.sh as root: exit %d\n%s", code, out)
	}
	calls, err := os.ReadFile(log)
	if err != nil {
		t.Fatalf("deps.sh as root with redis-server and chromium missing ran no apt-get:\n%s", out)
	}
	if got, want := string(calls), "update -qq\ninstall -y -qq redis-server chromium\n"; got != want {
		t.Errorf("apt-get calls = %q, want %q", got, want)
	}
}

func TestDepsStopsAtOnceWhenItCannotInstall(t *testing.T) {
	t.Parallel()
	bin := fakeBin(t, map[string]string{
		"id":      `echo 1000`,
		"sudo":    `exit 1`, // asks for a password
		"apt-get": `echo "apt-get must not run" >&2; exit 3`,
	})
	out, code, took := runDeps(t, bin, "/nonexistent/chromium")
	if code != 1 {
		t.Errorf("deps.sh as a user: exit %d, want 1\n%s", code, out)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 1 || !strings.Contains(out, "apt-get install -y redis-server chromium") {
		t.Errorf("deps.sh as a user: want one line saying what to install, got:\n%s", out)
	}
	if took > 5*time.Second {
		t.Errorf("deps.sh took %v to give up", took)
	}
}

func TestDepsDoesNothingWhenAllIsThere(t *testing.T) {
	t.Parallel()
	chromium := filepath.Join(fakeBin(t, map[string]string{"chromium": "exit 0"}), "chromium")
	bin := fakeBin(t, map[string]string{
		"redis-server": "exit 0",
		"id":           `echo 1000`,
		"apt-get":      `echo "apt-get must not run" >&2; exit 3`,
	})
	if out, code, _ := runDeps(t, bin, chromium); code != 0 || out != "" {
		t.Errorf("deps.sh with everything installed: exit %d, output %q", code, out)
	}
}

// TestOneInstaller: `make test` runs deps.sh before the tests, and .ci/run
// installs nothing of its own: it runs deps.sh and make test.
func TestOneInstaller(t *testing.T) {
	t.Parallel()
	read := func(p string) string {
		b, err := os.ReadFile(filepath.Join("..", p))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	mk := read("Makefile")
	recipe := regexp.MustCompile(`(?m)^test:.*\n((?:\t.*\n)+)`).FindStringSubmatch(mk)
	if recipe == nil {
		t.Fatal("Makefile: no test target")
	}
	lines := strings.Split(strings.TrimSpace(recipe[1]), "\n")
	if strings.TrimSpace(lines[0]) != "./scripts/deps.sh" {
		t.Errorf("make test's first step is %q, want ./scripts/deps.sh", lines[0])
	}
	ci := read(".ci/run")
	if strings.Contains(ci, "apt-get") {
		t.Error(".ci/run calls apt-get itself: install through scripts/deps.sh")
	}
	for _, want := range []string{"./scripts/deps.sh", "make test"} {
		if !strings.Contains(ci, want) {
			t.Errorf(".ci/run does not run %s", want)
		}
	}
}
