package admin

import (
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// failLimiter counts failed logins per client address in token buckets:
// each failure takes a token; with none left, wrong credentials are
// answered 429 until the bucket refills. A right credential is never
// limited. The table is bounded: past maxBuckets addresses, full buckets
// are dropped, and addresses that still find no room share one overflow
// bucket. IPv6 addresses count per /64, the block one client holds.
type failLimiter struct {
	rate  rate.Limit
	burst int
	max   int

	mu       sync.Mutex
	buckets  map[netip.Addr]*rate.Limiter
	overflow *rate.Limiter
}

// maxBuckets bounds the table of failing addresses.
const maxBuckets = 4096

func newFailLimiter(r rate.Limit, burst, max int) *failLimiter {
	return &failLimiter{rate: r, burst: burst, max: max, buckets: map[netip.Addr]*rate.Limiter{}, overflow: rate.NewLimiter(r, burst)}
}

// limitKey is the address a client is counted under: IPv4 as it is, IPv6
// by its /64.
func limitKey(ip netip.Addr) netip.Addr {
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.Addr()
	}
	return ip
}

// bucket returns ip's bucket; with create, it makes one (dropping full
// buckets when the table is full). An address without a place in a full
// table gets the overflow bucket; nil means no failure was counted yet.
func (l *failLimiter) bucket(ip netip.Addr, now time.Time, create bool) *rate.Limiter {
	key := limitKey(ip)
	if b, ok := l.buckets[key]; ok {
		return b
	}
	if create && len(l.buckets) >= l.max {
		for k, b := range l.buckets {
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.buckets, k)
			}
		}
	}
	switch {
	case len(l.buckets) >= l.max:
		return l.overflow
	case !create:
		return nil
	}
	b := rate.NewLimiter(l.rate, l.burst)
	l.buckets[key] = b
	return b
}

// blocked says whether ip has no failed attempt left, and when it will
// have one.
func (l *failLimiter) blocked(ip netip.Addr, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(ip, now, false)
	if b == nil {
		return false, 0
	}
	tokens := b.TokensAt(now)
	if tokens >= 1 {
		return false, 0
	}
	if l.rate <= 0 {
		return true, time.Hour
	}
	return true, time.Duration((1 - tokens) / float64(l.rate) * float64(time.Second))
}

// fail takes a token from ip's bucket.
func (l *failLimiter) fail(ip netip.Addr, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(ip, now, true).AllowN(now, 1)
}

// size is the number of addresses in the table.
func (l *failLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// retryAfter formats a wait as whole seconds, at least 1.
func retryAfter(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// ParseTrustedProxies reads TRIAGE_TRUSTED_PROXIES: CIDRs such as
// 10.0.0.0/8 or single addresses.
func ParseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, v := range list {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return nil, fmt.Errorf("TRIAGE_TRUSTED_PROXIES: %q is not a CIDR such as 10.0.0.0/8 or an IP address", v)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// trusted reports whether ip is one of the trusted proxies.
func (s *Server) trusted(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, p := range s.proxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the request's client address. X-Forwarded-For is believed
// only from a trusted proxy: the client is the rightmost address in it
// that is not itself a trusted proxy (the leftmost when all are). The
// configured ClientIPHeader is read when no proxies are configured, or
// when the request comes from one. Otherwise it is the connection's
// remote address.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	remote, err := netip.ParseAddrPort(r.RemoteAddr)
	addr := remote.Addr().Unmap()
	if err != nil {
		addr, _ = netip.ParseAddr(r.RemoteAddr)
	}
	fromProxy := s.trusted(addr)
	if s.cfg.ClientIPHeader != "" && (len(s.proxies) == 0 || fromProxy) {
		v := r.Header.Get(s.cfg.ClientIPHeader)
		if ip, err := netip.ParseAddr(strings.TrimSpace(v[strings.LastIndexByte(v, ',')+1:])); err == nil {
			return ip.Unmap()
		}
	}
	if !fromProxy {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a hop that is no address: trust what came after it
		}
		addr = ip.Unmap()
		if !s.trusted(addr) {
			break
		}
	}
	return addr
}
