package bench

import (
	"bytes"
	"slices"
	"strings"
	"sync"
)

// logCounter takes the app's log lines: formatted (so their cost is
// counted) and dropped, with warnings and errors counted.
type logCounter struct {
	mu    sync.Mutex
	n     int
	first []string
}

func (l *logCounter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(`"level":"warn"`)) || bytes.Contains(p, []byte(`"level":"error"`)) {
		l.mu.Lock()
		l.n++
		if len(l.first) < 3 {
			l.first = append(l.first, strings.TrimSpace(clip(string(p), 300)))
		}
		l.mu.Unlock()
	}
	return len(p), nil
}

// reset forgets what was counted (the start-up warnings).
func (l *logCounter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n, l.first = 0, nil
}

func (l *logCounter) counts() (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n, slices.Clone(l.first)
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = t.b[len(t.b)-4096:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}

// clip cuts s to n runes, the last an ellipsis.
func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
