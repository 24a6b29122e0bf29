// Command attackmem measures the memory of the webhook intake under slow
// uploads, as `make attack-memory` runs it: it starts `triage serve` (the
// intake, the worker and the admin page in one process) and then `triage
// intake` (the intake pod's command) as separate processes on loopback
// (127.0.0.1 only), holds -conns connections
// each sending a -size body slowly to POST /webhooks/jira for -duration,
// probes /healthz all along, and prints the process's peak RSS (VmHWM of
// /proc/PID/status). It exits non-zero when the peak passes -limit-mib or
// /healthz stopped answering.
//
// Two kinds of upload, each against a fresh process:
//
//	unsigned  no X-Hub-Signature (the intake should refuse them unread)
//	forged    a well-formed sha256=<hex> signature that does not match
//	          (read and hashed, at most MaxBodies at once)
//
// The load is bounded in count (at most -max-conns connections in all) and
// in time (-duration, then every connection is closed).
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

type options struct {
	bin      string
	conns    int
	maxConns int64
	size     int
	chunk    int
	every    time.Duration
	duration time.Duration
	limitMiB float64
	redisURL string
	kinds    []string
	roles    []string
}

func main() {
	var o options
	var kinds, roles string
	flag.StringVar(&o.bin, "bin", "bin/triage", "the triage binary to attack")
	flag.IntVar(&o.conns, "conns", 1000, "concurrent uploads")
	flag.Int64Var(&o.maxConns, "max-conns", 20000, "connections in all, at most")
	flag.IntVar(&o.size, "size", 1<<20, "announced body size (Content-Length)")
	flag.IntVar(&o.chunk, "chunk", 16<<10, "bytes sent at a time")
	flag.DurationVar(&o.every, "every", 100*time.Millisecond, "pause between chunks")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each attack lasts")
	flag.Float64Var(&o.limitMiB, "limit-mib", 128, "fail when the peak RSS passes this many MiB")
	flag.StringVar(&o.redisURL, "redis", envOr("TEST_REDIS_URL", "redis://127.0.0.1:6379/14"), "Redis for the intake's queue")
	flag.StringVar(&kinds, "kinds", "unsigned,forged", "which uploads: unsigned, forged, or both")
	flag.StringVar(&roles, "roles", "serve,intake", "which commands to attack: serve (intake, worker and admin page in one process), intake, or both")
	flag.Parse()
	o.kinds, o.roles = strings.Split(kinds, ","), strings.Split(roles, ",")
	failed := false
	for _, role := range o.roles {
		for _, kind := range o.kinds {
			r, err := attack(o, strings.TrimSpace(role), strings.TrimSpace(kind))
			if err != nil {
				fmt.Fprintf(os.Stderr, "attack-memory: %s %s: %v\n", role, kind, err)
				os.Exit(2)
			}
			fmt.Println(r.line(o))
			if r.peakMiB > o.limitMiB || r.healthFailed > 0 {
				failed = true
			}
		}
	}
	if failed {
		fmt.Printf("attack-memory: FAIL (limit %.0f MiB, /healthz must answer every probe)\n", o.limitMiB)
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// result is what one attack measured.
type result struct {
	role, kind              string
	startMiB, peakMiB       float64
	conns                   int64
	statuses                map[string]int64
	healthOK, healthFailed  int
	healthSlowest           time.Duration
	connectErrors, rejected int64
}

func (r result) line(o options) string {
	var st []string
	for _, k := range []string{"401", "413", "503", "202", "200", "400", "other", "none"} {
		if n := r.statuses[k]; n > 0 {
			st = append(st, fmt.Sprintf("%s×%d", k, n))
		}
	}
	return fmt.Sprintf("attack-memory: %-6s %-8s %d concurrent slow %s uploads for %s (%d connections; answers %s): peak RSS %.1f MiB (VmHWM; %.1f MiB at rest), /healthz %d/%d answered, slowest %s",
		r.role, r.kind, o.conns, sizeText(o.size), o.duration, r.conns, strings.Join(st, " "), r.peakMiB, r.startMiB,
		r.healthOK, r.healthOK+r.healthFailed, r.healthSlowest.Round(time.Millisecond))
}

func sizeText(n int) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}

// attack starts a fresh `triage <role>`, runs one kind of upload against
// it and reads its peak RSS.
func attack(o options, role, kind string) (result, error) {
	r := result{role: role, kind: kind, statuses: map[string]int64{}}
	if kind != "unsigned" && kind != "forged" {
		return r, fmt.Errorf("unknown kind %q: use unsigned or forged", kind)
	}
	if role != "serve" && role != "intake" {
		return r, fmt.Errorf("unknown role %q: use serve or intake", role)
	}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	cmd := exec.Command(o.bin, role)
	cmd.Env = append(os.Environ(),
		"REDIS_URL="+o.redisURL,
		"JIRA_BASE_URL=http://127.0.0.1:9", // never called: nothing is enqueued
		"JIRA_EMAIL=attack@example.com", "JIRA_API_TOKEN=attack-token",
		"TRIAGE_BOT_ACCOUNT_ID=attack-bot",
		"JIRA_WEBHOOK_SECRET="+randomHex(16),
		"TRIAGE_ADMIN_TOKEN="+randomHex(24), // the admin page runs in the same process, as shipped
		"TRIAGE_LISTEN="+addr,
		"TRIAGE_QUEUE=attackmem-"+randomHex(4),
		"TRIAGE_LOG_LEVEL=warn",
	)
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start %s %s: %w", o.bin, role, err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}()
	base := "http://" + addr
	if err := waitHealthy(base, 30*time.Second); err != nil {
		return r, err
	}
	if r.startMiB, err = memKiB(cmd.Process.Pid, "VmRSS"); err != nil {
		return r, err
	}
	r.startMiB /= 1024

	ctx, cancel := context.WithTimeout(context.Background(), o.duration)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns atomic.Int64
	for i := 0; i < o.conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				if conns.Add(1) > o.maxConns {
					return
				}
				status := upload(ctx, addr, kind, fmt.Sprintf("attack-%d-%d", i, n), o)
				mu.Lock()
				r.statuses[status]++
				mu.Unlock()
				// an answered upload comes back after a pause, so that the
				// connection count stays bounded
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}(i)
	}
	// /healthz all along
	healthDone := make(chan struct{})
	go func() {
		defer close(healthDone)
		client := &http.Client{Timeout: 2 * time.Second}
		for ctx.Err() == nil {
			start := time.Now()
			resp, err := client.Get(base + "/healthz")
			took := time.Since(start)
			if err == nil {
				resp.Body.Close()
			}
			mu.Lock()
			if err == nil && resp.StatusCode == http.StatusOK {
				r.healthOK++
			} else {
				r.healthFailed++
			}
			r.healthSlowest = max(r.healthSlowest, took)
			mu.Unlock()
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	wg.Wait()
	<-healthDone
	r.conns = min(conns.Load(), o.maxConns)
	peak, err := memKiB(cmd.Process.Pid, "VmHWM")
	if err != nil {
		return r, err
	}
	r.peakMiB = peak / 1024
	return r, nil
}

// upload sends one slow body and returns the status the intake answered
// ("none" when it answered nothing before the attack ended).
func upload(ctx context.Context, addr, kind, id string, o options) string {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "none"
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	var h strings.Builder
	fmt.Fprintf(&h, "POST /webhooks/jira HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nX-Atlassian-Webhook-Identifier: %s\r\n", addr, o.size, id)
	if kind == "forged" {
		fmt.Fprintf(&h, "X-Hub-Signature: sha256=%s\r\n", strings.Repeat("0", 64))
	}
	h.WriteString("\r\n")
	if _, err := conn.Write([]byte(h.String())); err != nil {
		return "none"
	}
	answer := make(chan string, 1)
	go func() {
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			answer <- "none"
			return
		}
		answer <- statusOf(line)
	}()
	chunk := make([]byte, o.chunk)
	for i := range chunk {
		chunk[i] = 'x'
	}
	for sent := 0; sent < o.size; sent += len(chunk) {
		select {
		case s := <-answer:
			return s
		case <-time.After(o.every):
		}
		if _, err := conn.Write(chunk[:min(len(chunk), o.size-sent)]); err != nil {
			break
		}
	}
	select {
	case s := <-answer:
		return s
	case <-ctx.Done():
		return "none"
	}
}

func statusOf(line string) string {
	f := strings.Fields(line)
	if len(f) < 2 {
		return "other"
	}
	switch f[1] {
	case "401", "413", "503", "202", "200", "400":
		return f[1]
	}
	return "other"
}

// memKiB reads a field (VmRSS, VmHWM) of /proc/PID/status, in KiB.
func memKiB(pid int, field string) (float64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			return strconv.ParseFloat(f[0], 64)
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func waitHealthy(base string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("triage did not answer /healthz within " + within.String() + " (is Redis at " + envOr("TEST_REDIS_URL", "redis://127.0.0.1:6379/14") + " up?)")
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
