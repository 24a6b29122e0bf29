// Package escalation keeps the queue of escalations admins review, in Redis
// (go-redis v9), and the operations admins perform on it.
//
// A record is created once per ticket and reason by the worker (through
// triage.EscalationStore), whatever retries happen. It moves open →
// acknowledged → done, or to returned (handed back to the agents); every
// status change is atomic, checks the current status, and is kept in the
// record's history with its time and actor. "MFA reset done" posts the
// reporter one comment on the Jira ticket — a second "done" is a no-op, not a
// second comment.
package escalation
