package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
)

// procRSS reads the peak (VmHWM) and current (VmRSS) resident set of a
// process ("self" or a pid) in MiB.
func procRSS(pid string) (peak, now float64) {
	data, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 64)
		if err != nil {
			continue
		}
		if name == "VmHWM" {
			peak = kb / 1024
		} else {
			now = kb / 1024
		}
	}
	return peak, now
}

func writeHeapProfile(path string) error {
	pf, err := os.Create(path)
	if err != nil {
		return err
	}
	defer pf.Close()
	runtime.GC()
	return pprof.WriteHeapProfile(pf)
}

// redactURL hides the credentials of a Redis URL.
func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		return "redis://(credentials)" + u[i:]
	}
	return u
}

// startCPUProfile writes a CPU profile to path until the returned stop,
// which may be called more than once.
func startCPUProfile(path string) (stop func(), err error) {
	pf, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(pf); err != nil {
		pf.Close()
		return nil, fmt.Errorf("CPU profile: %w", err)
	}
	return sync.OnceFunc(func() {
		pprof.StopCPUProfile()
		pf.Close()
	}), nil
}
