package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"
)

// Durations in the logs carry their unit ("took":"1.52ms"), where
// zerolog's default is a bare number of milliseconds.
func init() { zerolog.DurationFieldFormat = zerolog.DurationFormatString }

// Log formats (TRIAGE_LOG_FORMAT).
const (
	logFormatAuto    = ""        // console on a terminal, JSON otherwise
	logFormatJSON    = "json"    // one JSON object a line, for collectors
	logFormatConsole = "console" // aligned, readable lines
)

// isTerminal reports whether w is a terminal.
func isTerminal(w any) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// newLogger logs to w at level, readable lines on a terminal and JSON
// otherwise (format decides when it is set).
func newLogger(w io.Writer, level, format string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	if format == logFormatConsole || (format == logFormatAuto && isTerminal(w)) {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: !isTerminal(w)}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// redisLogger takes go-redis's own log lines (a failed dial, a pool
// problem, each one plain text on stderr by default) into zerolog as
// warnings, at most burst a minute: while Redis is down they would come
// several a second. The count of the lines left out goes with the next one
// logged.
type redisLogger struct {
	log     zerolog.Logger
	limit   *rate.Limiter
	mu      sync.Mutex
	dropped int
}

func newRedisLogger(l zerolog.Logger, burst int) *redisLogger {
	return &redisLogger{log: l.With().Str("component", "go-redis").Logger(), limit: rate.NewLimiter(rate.Every(time.Minute/time.Duration(burst)), burst)}
}

// Printf implements go-redis's logger.
func (r *redisLogger) Printf(_ context.Context, format string, v ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.limit.Allow() {
		r.dropped++
		return
	}
	ev := r.log.Warn()
	if r.dropped > 0 {
		ev = ev.Int("similar_lines_left_out", r.dropped)
		r.dropped = 0
	}
	ev.Msg(fmt.Sprintf(format, v...))
}

// routeRedisLogs sends go-redis's log lines (of every client in the
// process, asynq's too) to l, rate limited.
func routeRedisLogs(l zerolog.Logger) { redis.SetLogger(newRedisLogger(l, 10)) }
