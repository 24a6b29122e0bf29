package jiratest

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// authenticate checks the Authorization header against the configured
// credentials. desc says how the request authenticated, never with the secret.
func (s *Server) authenticate(r *http.Request) (user User, desc string, ok bool) {
	if id := r.Header.Get(HeaderSandboxUser); s.opts.sandbox && id != "" && r.Header.Get("Authorization") == "" {
		u, ok := s.sandboxUserLocked(id)
		return u, "sandbox-user", ok
	}
	if len(s.opts.basic) == 0 && len(s.opts.pats) == 0 {
		return DefaultUser, "anonymous", true
	}
	h := r.Header.Get("Authorization")
	if email, token, isBasic := r.BasicAuth(); isBasic {
		cred, found := s.opts.basic[email]
		if found && subtle.ConstantTimeCompare([]byte(cred.token), []byte(token)) == 1 {
			return cred.user, "basic:" + email, true
		}
		return User{}, "basic:" + email + " (rejected)", false
	}
	if scheme, token, found := strings.Cut(h, " "); found && strings.EqualFold(scheme, "Bearer") {
		for pat, u := range s.opts.pats {
			if subtle.ConstantTimeCompare([]byte(pat), []byte(token)) == 1 {
				return u, "bearer", true
			}
		}
		return User{}, "bearer (rejected)", false
	}
	if h == "" {
		return User{}, "none", false
	}
	return User{}, "unsupported scheme", false
}
