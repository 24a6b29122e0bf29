package admin

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mfatriage/triage/internal/escalation"
)

// FuzzSessionCookie feeds the session cookie decoder what a client could
// send: it never panics, and what it accepts is exactly what the server
// would have made (a valid name, an expiry within the session's lifetime)
// for the configured token.
func FuzzSessionCookie(f *testing.F) {
	k := deriveKeys("fuzz-admin-token-0123456789abcdef")
	now := time.Unix(1_700_000_000, 0)
	ttl := 8 * time.Hour
	nonce := []byte("0123456789ab")
	good := k.encodeSession("Ada Admin", now.Add(time.Hour), nonce)
	f.Add(good)
	f.Add(k.encodeSession("Zoë Ünïcode", now.Add(ttl), nonce))
	f.Add(k.encodeSession("Ada", now.Add(-time.Second), nonce)) // expired
	f.Add(strings.Replace(good, "v1.", "v2.", 1))
	f.Add("v1....")
	f.Add("v1.QWRh.MDEyMzQ1Njc4OWFi.1700003600.")
	f.Add(strings.Repeat("A", 600))
	f.Fuzz(func(t *testing.T, v string) {
		s, err := k.decodeSession(v, now, ttl)
		if err != nil {
			return
		}
		if !validName(s.Name) || !utf8.ValidString(s.Name) {
			t.Fatalf("accepted the name %q", s.Name)
		}
		if !s.Expires.After(now) || s.Expires.Sub(now) > ttl+time.Minute {
			t.Fatalf("accepted the expiry %v (now %v)", s.Expires, now)
		}
		parts := strings.Split(v, ".")
		n, _ := b64.DecodeString(parts[2])
		if again := k.encodeSession(s.Name, s.Expires, n); again != v {
			t.Fatalf("accepted %q, which the server would write as %q", v, again)
		}
		if s.raw != v {
			t.Fatalf("raw %q, want %q", s.raw, v)
		}
	})
}

// FuzzQueueFilter: the queue's filters (status, reason, min_age, q, sort,
// offset, limit) read any query string without panicking, and what they accept is
// within bounds.
func FuzzQueueFilter(f *testing.F) {
	for _, s := range []string{"", "status=open", "status=done&reason=mfa-reset&min_age=3d&offset=50&limit=10",
		"min_age=1h30m", "min_age=-1h", "min_age=9999999d", "min_age=d", "min_age=%2B3d", "min_age=2562047h",
		"offset=-1", "limit=501", "status=closed", "reason=%00", "offset=1e3",
		"reason=security&q=HD-1&sort=newest", "sort=random", "q=%C3%A9l%C3%A8ve", "sort=reason&q=++"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		flt, err := parseFilter(q, 25)
		if err != nil {
			return
		}
		if !slices.Contains(escalation.Statuses(), flt.Status) || flt.Reason != "" && !slices.Contains(Reasons, flt.Reason) {
			t.Fatalf("accepted status %q, reason %q", flt.Status, flt.Reason)
		}
		if flt.Sort != "" && !slices.Contains(escalation.Sorts(), flt.Sort) || len(flt.Search) > escalation.MaxSearch {
			t.Fatalf("accepted sort %q, search %q", flt.Sort, flt.Search)
		}
		if flt.MinAge < 0 || flt.MinAge > maxMinAge || flt.Offset < 0 || flt.Limit < 1 || flt.Limit > 500 {
			t.Fatalf("accepted %+v", flt)
		}
	})
}

func TestDecodeSession(t *testing.T) {
	t.Parallel()
	k := deriveKeys("fuzz-admin-token-0123456789abcdef")
	now := time.Unix(1_700_000_000, 0)
	nonce := []byte("0123456789ab")
	tests := []struct {
		name    string
		value   string
		wantErr error
	}{
		{"good", k.encodeSession("Ada", now.Add(time.Hour), nonce), nil},
		{"expired", k.encodeSession("Ada", now, nonce), errExpired},
		{"too far ahead", k.encodeSession("Ada", now.Add(9*time.Hour), nonce), errTooFarExpired},
		{"control character in the name", k.encodeSession("Ada\n", now.Add(time.Hour), nonce), errBadCookie},
		{"short nonce", k.encodeSession("Ada", now.Add(time.Hour), nonce[:4]), errBadCookie},
		{"another key", deriveKeys("another-token-0123456789").encodeSession("Ada", now.Add(time.Hour), nonce), errBadSignature},
		{"too long", strings.Repeat("v1.", 200), errBadCookie},
	}
	for _, tt := range tests {
		_, err := k.decodeSession(tt.value, now, 8*time.Hour)
		if err != tt.wantErr {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}
