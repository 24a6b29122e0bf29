package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain runs main itself when a test starts this test binary as the
// triage command (TRIAGE_TEST_MAIN=1): signals are a matter of the process.
func TestMain(m *testing.M) {
	if os.Getenv("TRIAGE_TEST_MAIN") == "1" {
		os.Args = append([]string{"triage"}, strings.Fields(os.Getenv("TRIAGE_TEST_ARGS"))...)
		signalsHeard = func() { // tell startMain, on the pipe it passed as fd 3
			ready := os.NewFile(3, "ready")
			_, _ = ready.Write([]byte{1})
			_ = ready.Close()
		}
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startMain starts this test binary as `triage args...` with stdin, and
// returns once main listens for signals.
func startMain(t *testing.T, stdin io.Reader, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	ready, heard, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ready.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "TRIAGE_TEST_MAIN=1", "TRIAGE_TEST_ARGS="+strings.Join(args, " "))
	cmd.Stdin = stdin
	cmd.ExtraFiles = []*os.File{heard} // fd 3
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	heard.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	_ = ready.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := ready.Read(make([]byte, 1)); err != nil {
		t.Fatalf("triage %v never listened for signals: %v\n%s", args, err, &out)
	}
	return cmd, &out
}

// waitExit waits for cmd at most d and returns its exit code.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(d):
		t.Fatalf("triage %v did not stop within %v", cmd.Args, d)
		return -1
	}
}

// TestSignalsStopAStdinRead: `classify -` waiting on a pipe that never
// ends stops at SIGTERM and at SIGINT, with the shell's exit codes.
func TestSignalsStopAStdinRead(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGTERM, 143}, {syscall.SIGINT, 130}} {
		t.Run(tc.sig.String(), func(t *testing.T) {
			t.Parallel()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close() // never written: the read would wait for ever
			cmd, out := startMain(t, r, "classify", "-")
			r.Close()
			// main listens: whether the read has begun or not, the signal
			// ends it (readAll returns the cancelled context's cause)
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			if code := waitExit(t, cmd, 10*time.Second); code != tc.code {
				t.Errorf("exit code %d, want %d\n%s", code, tc.code, out)
			}
		})
	}
}

// TestReadAllStopsWithTheContext: the in-process read gives up when the
// command's context ends.
func TestReadAllStopsWithTheContext(t *testing.T) {
	t.Parallel()
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(50*time.Millisecond, func() { cancel(stoppedBy{syscall.SIGTERM}) })
	done := make(chan error, 1)
	go func() { _, err := readAll(ctx, r, 1<<20); done <- err }()
	select {
	case err := <-done:
		if !strings.Contains(fmtErr(err), "stopped by terminated") {
			t.Errorf("err = %v, want the signal", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("readAll still waits after the context ended")
	}
}

func fmtErr(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestOnSignals: a command that finishes its work is given the time to
// (a second signal ends it); any other ends at the first signal.
func TestOnSignals(t *testing.T) {
	t.Parallel()
	for _, finishes := range []bool{false, true} {
		sigs := make(chan os.Signal, 2)
		exited := make(chan int, 1)
		ctx, cancel := context.WithCancelCause(context.Background())
		go onSignals(sigs, cancel, func() bool { return finishes }, func(code int) { exited <- code })
		sigs <- syscall.SIGINT
		<-ctx.Done()
		select {
		case code := <-exited:
			if finishes {
				t.Errorf("a finishing command was ended at the first signal (code %d)", code)
			} else if code != 130 {
				t.Errorf("exit code %d, want 130", code)
			}
		case <-time.After(200 * time.Millisecond):
			if !finishes {
				t.Error("the first signal did not end a command with nothing to finish")
			}
			sigs <- syscall.SIGTERM
			if code := <-exited; code != 143 {
				t.Errorf("second signal: exit code %d, want 143", code)
			}
		}
	}
}

func TestFinishesOnSignal(t *testing.T) {
	root := newRootCmd()
	for _, tc := range []struct {
		args []string
		want bool
	}{{[]string{"classify"}, false}, {[]string{"config", "check"}, false}, {[]string{"serve"}, true}, {[]string{"escalations", "list"}, true}} {
		c, _, err := root.Find(tc.args)
		if err != nil {
			t.Fatal(err)
		}
		running.Store(c)
		if got := finishesOnSignal(root); got != tc.want {
			t.Errorf("%v finishes on a signal: %v, want %v", tc.args, got, tc.want)
		}
	}
	running.Store(nil)
}

// TestClassifyOnATerminalShowsUsage: with no argument and a terminal for
// standard input, classify prints its usage instead of waiting.
func TestClassifyOnATerminalShowsUsage(t *testing.T) {
	t.Parallel()
	_, tty := openPTY(t)
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(tty)
	cmd.SetArgs([]string{"classify"})
	done := make(chan error, 1)
	go func() { done <- cmd.Execute() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "no ticket") || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("classify on a terminal: err = %v, output:\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("classify with no argument waits on the terminal")
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, err := run(t, "", "--version")
	if err != nil || !strings.HasPrefix(out, "triage ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: err=%v, output %q", err, out)
	}
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.2.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-05-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	got := versionOf(info)
	for _, want := range []string{"triage v1.2.0", "commit 0123456789abcdef of 2026-05-01T10:00:00Z, with uncommitted changes", "go1.26.8"} {
		if !strings.Contains(got, want) {
			t.Errorf("version = %q, want it to say %q", got, want)
		}
	}
	if got := versionOf(&debug.BuildInfo{GoVersion: "go1.26.8"}); !strings.Contains(got, "(devel)") || !strings.Contains(got, "commit unknown") {
		t.Errorf("version without build settings = %q", got)
	}
}

// TestServeHelpListsTheEnvironment: the running commands' --help names
// every variable they read.
func TestServeHelpListsTheEnvironment(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"serve", "intake", "worker", "admin"} {
		out, err := run(t, "", c, "--help")
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range envVars {
			if !strings.Contains(out, "\n  "+v.name+" ") {
				t.Errorf("%s --help does not list %s", c, v.name)
			}
		}
	}
}

// TestLogFormat: JSON lines to a pipe or a file, readable lines on a
// terminal, either when TRIAGE_LOG_FORMAT asks; durations with their unit.
func TestLogFormat(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		terminal bool
		format   string
		json     bool
	}{
		{"a pipe: JSON", false, "", true},
		{"a pipe, console asked for", false, "console", false},
		{"a terminal: console", true, "", false},
		{"a terminal, json asked for", true, "json", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var line string
			if tc.terminal {
				master, tty := openPTY(t)
				l := newLogger(tty, "info", tc.format)
				l.Info().Dur("took", 1500*time.Microsecond).Msg("hello")
				got := make(chan string, 1)
				go func() {
					b := make([]byte, 4096)
					n, _ := master.Read(b)
					got <- string(b[:n])
				}()
				select {
				case line = <-got:
				case <-time.After(5 * time.Second):
					t.Fatal("nothing logged to the terminal")
				}
			} else {
				var buf bytes.Buffer
				l := newLogger(&buf, "info", tc.format)
				l.Info().Dur("took", 1500*time.Microsecond).Msg("hello")
				line = buf.String()
			}
			if isJSON := json.Valid([]byte(strings.TrimSpace(line))); isJSON != tc.json {
				t.Errorf("JSON %v, want %v: %q", isJSON, tc.json, line)
			}
			if !strings.Contains(line, "1.5ms") {
				t.Errorf("a duration without its unit: %q", line)
			}
		})
	}
}
