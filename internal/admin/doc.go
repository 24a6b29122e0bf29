// Package admin serves the escalation queue to admins, and the Decisions
// view of how far the bot can be trusted: server-rendered pages
// (html/template, no JavaScript; usable on a phone: at 390 px the queue and
// the tables become cards) and the same data as a JSON API.
//
// Routes and their authentication:
//
//	GET  /login                         the login form (name + admin token)
//	POST /login                         checks the token, sets the session cookie
//	POST /logout                        session + CSRF; revokes the session, clears the cookie
//	GET  /                              session; the queue: status tabs; reason (security too), age, search
//	                                    (q: ticket key or reporter) and order (sort: oldest, newest, reason);
//	                                    security escalations always first and flagged; paged
//	GET  /escalations/{id}              session; one escalation: the ticket's summary and the reporter's own
//	                                    text (read from Jira), evidence (once per phrase, the deciding signal
//	                                    first, in the reporter's words), steps, replies, history, actions
//	POST /escalations/{id}/ack          session + CSRF; acknowledge (takes a returned escalation back)
//	POST /escalations/{id}/done         session + CSRF; "MFA reset done", or "Password reset done" for a
//	                                    password escalation; the page asks for a confirmation first; refused
//	                                    for a returned escalation
//	POST /escalations/{id}/return       session + CSRF; return to agents (note required)
//	GET  /decisions                     session; ?days=30 (1 to 365): per UTC day, the tickets handled auto,
//	                                    suggest and none, and how agents treated the suggestions (sent,
//	                                    corrected, otherwise; returned escalations too): two stacked bar
//	                                    charts drawn as inline SVG here (a <title> and <desc> each), their
//	                                    tables, and one line on the share of suggestions sent unchanged
//	GET  /escalations/{id}/mfa-reset    session; with Graph configured, an open MFA-reset escalation: the
//	                                    user (?upn=, prefilled from the reporter's e-mail) looked up in
//	                                    Entra ID, their methods to tick (Authenticator and passkeys by
//	                                    default), revoke sessions, Temporary Access Pass
//	POST /escalations/{id}/mfa-reset/confirm  session + CSRF; the confirmation page
//	POST /escalations/{id}/mfa-reset    session + CSRF + confirm=yes; the reset, then "MFA reset done"; the
//	                                    result page shows the pass once (never stored, never logged)
//	GET  /static/...                    none; the stylesheet
//	GET  /api/escalations               bearer; ?status=open&reason=&min_age=1h&q=&sort=&offset=&limit=
//	GET  /api/escalations/counts        bearer; counts per status
//	GET  /api/escalations/{id}          bearer; one record
//	POST /api/escalations/{id}/ack      bearer; {"actor": "..."} (actor defaults to "api")
//	POST /api/escalations/{id}/done     bearer; {"actor": "..."}; the message follows the reason; 409 when returned
//	POST /api/escalations/{id}/return   bearer; {"note": "...", "actor": "..."}
//	GET  /api/decisions                 bearer; ?days=30: the days, their totals and the same line
//	GET  /api/escalations/{id}/mfa-reset?user=UPN  bearer; the user and their methods (501 without Graph)
//	POST /api/escalations/{id}/mfa-reset  bearer; {"user", "remove": [types], "revoke_sessions", "tap",
//	                                    "actor"}; the answer carries temporary_access_pass once; 404 for an
//	                                    unknown user, 502 for a Graph refusal (the permission named)
//
// Authentication. There is one admin credential, the token from the
// configuration (TRIAGE_ADMIN_TOKEN). The server keeps only its SHA-256 and
// compares hashes in constant time; without a token [New] refuses to build
// a server rather than run open. Logging in with the token and a name
// starts a session: a cookie signed with HMAC-SHA256 under a key derived
// from the token's hash alone, so every replica accepts the sessions of
// the others and changing the token ends every session. The cookie carries
// the admin's name (the actor in the escalation's history) and an expiry
// (8 hours by default); it is HttpOnly, SameSite=Lax, Path=/, and Secure
// when the configuration says so or the request came over TLS. Every POST
// form carries a CSRF token bound to the session (an HMAC of the cookie);
// a POST without it is refused with 403 and changes nothing. The login
// form has its own CSRF token, bound to a short-lived pre-login cookie.
//
// Failed logins, and API requests with a wrong bearer token, are rate
// limited per client IP (5 a minute, burst 5 by default; an IPv6 /64 is one
// client): past the limit a wrong token from that IP is answered 429 with
// Retry-After. The right token always gets in, so an attacker who shares
// the admin's address (an office NAT, the Ingress) cannot lock the admin
// out; the limit only slows guessing, which the token's length (at least
// 16 characters) makes hopeless anyway. The client IP is the connection's
// address, or, for a request from a proxy listed in TrustedProxies
// (TRIAGE_TRUSTED_PROXIES), the rightmost X-Forwarded-For address that is
// not a trusted proxy. The limiter's table is bounded (4096 addresses;
// past it, full buckets are dropped and the rest share one overflow
// bucket). Logs never contain the token or the cookie.
//
// Every response carries a strict Content-Security-Policy (no scripts, no
// inline styles, forms only to this origin, no framing), X-Frame-Options,
// X-Content-Type-Options and Referrer-Policy; pages and API answers are
// not cached.
//
// Escalation ids contain ':' (for example "HD-1:mfa-reset"); in paths they
// are escaped with url.PathEscape and read back unescaped.
package admin
