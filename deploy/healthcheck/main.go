// Command healthcheck asks a triage process's health endpoint whether it is
// alive, for runtimes that check health by running a command inside the
// container (Docker and Compose healthchecks): the distroless image has no
// shell, curl or wget. Kubernetes does not need it (its probes call the
// endpoints over HTTP).
//
//	healthcheck [URL]
//
// It exits 0 when URL answers 200 within three seconds, 1 otherwise. URL
// defaults to http://127.0.0.1:PORT/healthz, with PORT taken from
// TRIAGE_LISTEN (default :8080).
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	url := defaultURL(os.Getenv("TRIAGE_LISTEN"))
	if len(os.Args) > 1 {
		url = os.Args[1]
	}
	if err := check(url); err != nil {
		fmt.Fprintln(os.Stderr, "healthcheck:", err)
		os.Exit(1)
	}
}

// defaultURL is the /healthz URL of a process listening on listen, reached
// over loopback.
func defaultURL(listen string) string {
	if listen == "" {
		listen = ":8080"
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		host, port = "", "8080"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz"
}

func check(url string) error {
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}
