package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Cookie names.
const (
	sessionCookie = "triage_admin_session"
	loginCookie   = "triage_admin_login" // binds the login form's CSRF token
)

// maxNameRunes bounds an admin's name (the actor in the history).
const maxNameRunes = 64

// maxCookieLen bounds what the decoder looks at.
const maxCookieLen = 512

var b64 = base64.RawURLEncoding.Strict()

// keys are derived from the token's hash alone, so that every replica
// configured with the same token signs and checks the same way, and a new
// token ends every session.
type keys struct {
	tokenHash [sha256.Size]byte
	session   []byte // signs session cookies
	csrf      []byte // signs CSRF tokens
}

func deriveKeys(token string) keys {
	k := keys{tokenHash: sha256.Sum256([]byte(token))}
	k.session = mac(k.tokenHash[:], "triage admin session v1")
	k.csrf = mac(k.tokenHash[:], "triage admin csrf v1")
	return k
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// tokenMatches compares a presented token with the configured one in
// constant time (the hashes have the same length whatever was presented).
func (k keys) tokenMatches(presented string) bool {
	h := sha256.Sum256([]byte(presented))
	return subtle.ConstantTimeCompare(h[:], k.tokenHash[:]) == 1
}

// session is a decoded, verified session cookie.
type session struct {
	Name    string
	Expires time.Time
	id      string // the nonce, base64url: what a revocation names
	raw     string // the cookie's value, which the CSRF token signs
}

const nonceLen = 12

// encodeSession makes a cookie value:
//
//	v1.<base64url name>.<base64url nonce>.<expiry, unix seconds>.<base64url HMAC of what precedes>
//
// The nonce makes every session's CSRF token different.
func (k keys) encodeSession(name string, expires time.Time, nonce []byte) string {
	payload := "v1." + b64.EncodeToString([]byte(name)) + "." + b64.EncodeToString(nonce) + "." + strconv.FormatInt(expires.Unix(), 10)
	return payload + "." + b64.EncodeToString(mac(k.session, payload))
}

func (k keys) newSession(name string, expires time.Time) (string, error) {
	nonce := make([]byte, nonceLen)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return k.encodeSession(name, expires, nonce), nil
}

var (
	errBadCookie     = errors.New("malformed session cookie")
	errBadSignature  = errors.New("session cookie signature does not match")
	errExpired       = errors.New("session expired")
	errTooFarExpired = errors.New("session expiry too far in the future")
)

// decodeSession checks a cookie value's signature before reading anything
// in it, then its expiry: it must lie after now and no further than ttl
// (plus a minute of clock skew between replicas) ahead.
func (k keys) decodeSession(v string, now time.Time, ttl time.Duration) (session, error) {
	if len(v) > maxCookieLen || strings.ContainsAny(v, "\r\n") {
		// base64's decoders skip CR and LF even when strict: a value with
		// them would pass as another one
		return session{}, errBadCookie
	}
	parts := strings.Split(v, ".")
	if len(parts) != 5 || parts[0] != "v1" {
		return session{}, errBadCookie
	}
	sig, err := b64.DecodeString(parts[4])
	if err != nil {
		return session{}, errBadCookie
	}
	if !hmac.Equal(sig, mac(k.session, strings.Join(parts[:4], "."))) {
		return session{}, errBadSignature
	}
	name, err := b64.DecodeString(parts[1])
	if err != nil || !validName(string(name)) {
		return session{}, errBadCookie
	}
	nonce, err := b64.DecodeString(parts[2])
	if err != nil || len(nonce) != nonceLen {
		return session{}, errBadCookie
	}
	exp, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != parts[3] {
		return session{}, errBadCookie
	}
	expires := time.Unix(exp, 0)
	if !now.Before(expires) {
		return session{}, errExpired
	}
	if expires.Sub(now) > ttl+time.Minute {
		return session{}, errTooFarExpired
	}
	return session{Name: string(name), Expires: expires, id: parts[2], raw: v}, nil
}

// csrfToken is the token the forms of a session carry.
func (k keys) csrfToken(s session) string {
	return b64.EncodeToString(mac(k.csrf, "session."+s.raw))
}

// loginCSRFToken is the login form's token, bound to the pre-login cookie.
func (k keys) loginCSRFToken(loginNonce string) string {
	return b64.EncodeToString(mac(k.csrf, "login."+loginNonce))
}

// csrfEqual compares a presented CSRF token with the expected one in
// constant time.
func csrfEqual(presented, want string) bool {
	return presented != "" && hmac.Equal([]byte(presented), []byte(want))
}

// validName accepts a trimmed, printable name of 1 to 64 characters.
func validName(name string) bool {
	if name == "" || name != strings.TrimSpace(name) || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxNameRunes {
		return false
	}
	for _, r := range name {
		if !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return b64.EncodeToString(b), nil
}
