package admin

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// TestFailLimiterIsBounded: the table never holds more than its bound;
// addresses past it share the overflow bucket, and an IPv6 /64 counts as
// one client.
func TestFailLimiterIsBounded(t *testing.T) {
	t.Parallel()
	now := time.Now()
	l := newFailLimiter(rate.Every(time.Minute), 2, 8)
	for i := 0; i < 1000; i++ {
		l.fail(netip.MustParseAddr(fmt.Sprintf("198.51.%d.%d", i/250, i%250)), now)
	}
	if n := l.size(); n > 8 {
		t.Errorf("%d addresses in the table, bound 8", n)
	}
	if blocked, _ := l.blocked(netip.MustParseAddr("203.0.113.77"), now); !blocked {
		t.Error("a new address while the table is full of failing ones was not limited with the overflow")
	}
	// once the buckets refilled, they make room again
	later := now.Add(10 * time.Minute)
	l.fail(netip.MustParseAddr("203.0.113.78"), later)
	if blocked, _ := l.blocked(netip.MustParseAddr("203.0.113.79"), later); blocked {
		t.Error("an address was limited after every bucket refilled")
	}
	v6 := newFailLimiter(rate.Every(time.Minute), 2, 8)
	v6.fail(netip.MustParseAddr("2001:db8:1:2::1"), now)
	v6.fail(netip.MustParseAddr("2001:db8:1:2:ffff::9"), now)
	if blocked, _ := v6.blocked(netip.MustParseAddr("2001:db8:1:2::abcd"), now); !blocked || v6.size() != 1 {
		t.Errorf("one /64: blocked=%v, %d buckets; want limited, 1", blocked, v6.size())
	}
}
