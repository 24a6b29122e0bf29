// Package redisstore keeps the worker's Redis data with go-redis v9: the
// copy of each ticket's triage state, the marks intake leaves when a human
// agent comments, a per-ticket lock, the audit trail (a bounded Redis
// stream per ticket and one for all tickets), the admin sessions
// signed out before they expired, and the decisions and the helpdesk's
// outcomes counted per UTC day (a hash a day) for the admins' Decisions view.
//
// Jira holds the authoritative triage state (an issue property written in
// the same call as the comment it describes); this copy spares a Jira read
// on the happy path. Losing it loses nothing: the worker re-reads Jira when
// Redis has no state for a ticket Jira has touched.
package redisstore
