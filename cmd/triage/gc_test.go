package main

import (
	"runtime/debug"
	"testing"
)

// TestWorkerGC checks the worker's garbage-collection target: 50 when the
// operator did not set GOGC, theirs when they did. Not parallel: the
// target is the process's.
func TestWorkerGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
	tests := []struct {
		name    string
		gogc    string
		wantSet bool
		want    int
	}{
		{"GOGC unset", "", true, workerGCPercent},
		{"GOGC set", "200", false, 100},
	}
	for _, tt := range tests {
		debug.SetGCPercent(100)
		set := workerGC(func(k string) string {
			if k == "GOGC" {
				return tt.gogc
			}
			return ""
		})
		if got := debug.SetGCPercent(100); set != tt.wantSet || got != tt.want {
			t.Errorf("%s: workerGC set=%v, percent %d; want set=%v, percent %d", tt.name, set, got, tt.wantSet, tt.want)
		}
	}
}
