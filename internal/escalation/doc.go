// Package escalation keeps the queue of escalations admins review, in Redis
// (go-redis v9), and the operations admins perform on it.
//
// A record is created once per ticket and reason by the worker (through
// triage.EscalationStore), whatever retries happen. It moves open →
// acknowledged → done, or to returned (handed back to the agents; an admin
// acknowledges it again to take it back); every status change is atomic,
// checks the current status, and is kept in the record's history with its
// time and actor. A list shows security escalations (a possible attack)
// first, whatever the order asked for, and can be searched by ticket key or
// reporter.
//
// "Done" posts the reporter one comment on the Jira ticket: for a password
// escalation that the password was reset (label triage-password-reset-done),
// for any other that the MFA methods were (triage-mfa-reset-done). "Return
// to agents" posts one internal note. Each runs under the escalation's lock,
// taken under a random token and renewed while the action runs, so a Jira
// call that waits out a rate limit keeps it and a second click is refused
// as busy. A second "done" or "return" posts nothing more; if a first one
// died after the status change, the second posts what it missed, unless a
// comment by the bot itself carries its marker (a reporter's never counts).
//
// ResetMFA, with a Directory (Microsoft Graph) configured, resets an
// MFA-reset escalation's user in Entra ID — the chosen methods removed,
// optionally the sessions revoked and a Temporary Access Pass made — then
// closes it as Done does, with what was done in the history. Its plan and
// progress are kept in Redis under the same lock (never the pass), so a
// repeat or a retry removes nothing more and posts nothing more.
package escalation
