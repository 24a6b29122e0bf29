package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/logtest"
)

// TestRedisLogsRateLimited: go-redis's lines become zerolog warnings, at
// most the burst of them while Redis keeps failing.
func TestRedisLogsRateLimited(t *testing.T) {
	t.Parallel()
	var logs logtest.Buffer
	l := newRedisLogger(zerolog.New(&logs), 3)
	for i := 0; i < 100; i++ {
		l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %s", 5, "connection refused")
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines for 100 failures, want the burst of 3:\n%s", len(lines), logs.String())
	}
	var line struct{ Level, Component, Message string }
	if err := json.Unmarshal([]byte(lines[0]), &line); err != nil || line.Level != "warn" || line.Component != "go-redis" || !strings.Contains(line.Message, "connection refused") {
		t.Errorf("line %q (%v)", lines[0], err)
	}
}

// TestRedisLogsGoThroughTheAppsLogger: with Redis down, go-redis's own
// complaints come out as the app's JSON lines, not as its plain text on
// stderr. (Not parallel: go-redis has one logger per process.)
func TestRedisLogsGoThroughTheAppsLogger(t *testing.T) {
	var logs logtest.Buffer
	cfg := config{RedisURL: "redis://127.0.0.1:1/0"}
	cfg.defaults()
	a, err := appFrom(cfg, &logs, false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := a.rdb.Ping(ctx).Err(); err == nil {
		t.Fatal("a Redis answers on port 1")
	}
	if !strings.Contains(logs.String(), `"component":"go-redis"`) || !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("go-redis's lines are not in the app's log:\n%s", logs.String())
	}
}
