package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeCapsHeaders: the public listener reads at most 64 KiB of
// headers (net/http's default is 1 MiB a connection, before anyone is
// authenticated): 70 KiB get 431, 40 KiB are served.
func TestServeCapsHeaders(t *testing.T) {
	e := startServe(t)
	addr := strings.TrimPrefix(e.url, "http://")
	for _, tc := range []struct {
		size int
		want int
	}{{40 << 10, http.StatusOK}, {70 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\nX-Pad: %s\r\nConnection: close\r\n\r\n", addr, strings.Repeat("a", tc.size))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%d KiB of headers: %v", tc.size>>10, err)
		}
		resp.Body.Close()
		conn.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%d KiB of headers: %d, want %d", tc.size>>10, resp.StatusCode, tc.want)
		}
	}
}
