package jira

import (
	"context"
	"net"
	"strings"
	"testing"
)

// TestRefusedConnectionReadsAsOne: a dial refused at once is reported as
// a refused connection, not as an attempt that timed out.
func TestRefusedConnectionReadsAsOne(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens
	c, err := New(Config{BaseURL: "http://" + addr, PAT: "x", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Myself(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "timed out") {
		t.Errorf("err = %v, want a refused connection and no timeout", err)
	}
}
