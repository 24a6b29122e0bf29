// Package intake turns Jira events into triage tasks on the asynq queue:
// the webhook handler, the JQL poller, the reconciliation sweep, the
// backfill of existing tickets and the scheduler of the polls and sweeps.
// It decides what reaches the worker and never talks to Jira on the webhook
// path.
//
// # Webhook
//
// Handler serves POST /webhooks/jira for jira:issue_created,
// jira:issue_updated, comment_created and comment_updated, plus GET /healthz
// and GET /readyz.
// In order, a delivery is
//
//   - refused with 413 when its body is over Config.MaxBodyBytes (1 MiB):
//     at once when Content-Length says so, else as soon as the limit is
//     passed;
//   - refused with 401, its body unread, when a secret is configured and
//     X-Hub-Signature is missing or not "sha256=<hex>";
//   - answered 503 with Retry-After, its body unread, when Config.MaxBodies
//     (16) bodies are already being read or held and none comes free within
//     Config.BodyWait: memory before authentication stays under MaxBodies ×
//     MaxBodyBytes however many connections send at once;
//   - refused with 401 when the body, streamed through the HMAC as it
//     arrives, does not match the signature ("sha256=" + hex(HMAC-SHA256(raw
//     body, secret)), compared in constant time); nothing else is read;
//   - refused with 400 and a one-line reason when the body is not a JSON
//     object, names no event, or names no issue;
//   - ignored (200) when its event type is not one of the four, when the
//     bot caused it (loop guard: the comment author or the delivering user
//     is Config.BotAccountID, matched on accountId, or on name/key for Data
//     Center), or when it is an issue update that touched neither summary
//     nor description or only mirrors a comment (issue_event_type_name
//     issue_commented / issue_comment_edited: the comment_created event
//     carries the comment);
//   - ignored (200) when it is an edit (comment_updated) of a comment that
//     is not the reporter's; a reporter's edit is enqueued, and the worker
//     triages it only while the bot has not answered yet;
//   - ignored (200) when it is a comment of the reporter's whose first
//     line is a /triage command (triage.ParseCommand): only agents' commands
//     count;
//   - for a comment by someone who is neither the reporter nor the bot (an
//     agent, as far as the payload tells; a payload without the reporter is
//     enqueued as usual: the worker reads the thread): a /triage command is
//     enqueued (202) marked Agent, with no agent mark; an internal comment
//     is recorded (200) and not enqueued; a public one is recorded and
//     enqueued marked Agent (202 "recorded"), so that the worker can tell
//     an answer given instead of a suggestion. AgentRecorder keeps the mark
//     so the worker backs off;
//   - enqueued (202) as a worker.TriagePayload carrying the ticket's
//     summary, description, reporter, labels, status and the comment, so the
//     worker needs no Jira read on the happy path.
//
// The delivery id is X-Atlassian-Webhook-Identifier (unchanged across
// Jira's retries), or "sha256:<hex>" of the body when the header is absent;
// it becomes the task's TaskID (worker.TriageTaskID), so a repeated delivery
// answers 200 "duplicate" and enqueues nothing while the first task is kept
// (24 hours after it ran). When Redis does not answer, the answer is 503 with
// Retry-After so that Jira delivers again.
//
// Parsing is lenient: payloads differ by edition (Cloud, Server, Data
// Center) and age, so every field is optional and a field of an unexpected
// type reads as empty. The issue, comment and user shapes, the timestamps
// and the rich-text conversion are internal/jira/wire's, shared with the
// Jira adapter. A description or comment body may be a wiki-markup string
// (kept as is) or an ADF document (flattened to text, quotes prefixed with
// "> "; at most wire.MaxADFDepth levels and MaxTextBytes bytes). A Server
// comment_created without an issue object takes its issue from
// comment.self (…/rest/api/2/issue/10001/comment/…): the payload's
// Issue.Key is then that id-or-key segment, usually the numeric id, which
// the log line then names as issue_id, never issue_key (the worker's read
// learns the key, the one the audit uses).
//
// # Poller, reconciliation and backfill
//
// The three share one search-and-enqueue: a JQL search of every page for
// SearchFields (what the task payload carries), and a triage task per
// ticket with the delivery id "<event>:<key>:<updated unix ms>", so that an
// update is enqueued once however often, and by however many replicas, it
// is found.
//
// Poller.Poll searches `(<JQL>) AND updated >= "<cursor>"`, all pages, and
// enqueues each ticket as a poll event with the delivery id
// "poll:<key>:<updated unix ms>", so an update is enqueued once however many
// polls or replicas see it; the cursor (RedisCursor) then moves to the newest
// update minus an overlap, since Jira's search is eventually consistent.
//
// Reconciler.Sweep searches `(<JQL>) AND updated >= -<N>h` and enqueues as
// reconcile events ("reconcile:<key>:<updated unix ms>") the tickets with
// none of triage.HandledLabels and no triage state (StateChecker), so a ticket
// lost anywhere is still triaged.
//
// Backfill.Find lists every ticket of an operator's query and
// Backfill.Enqueue enqueues one as a backfill event
// ("backfill:<key>:<updated unix ms>"), so tickets opened before triage ran
// are triaged too.
//
// The poll and the sweep run as asynq tasks (TypePoll, TypeReconcile) whose
// TaskID is that of a time bucket, so replicas scheduling them at once run
// one. Scheduler enqueues them at start and on their intervals; every worker
// replica runs one.
//
// # Dependencies
//
// The package declares what it needs: Enqueuer (*asynq.Client),
// AgentRecorder and StateChecker (the worker's state store), Pinger,
// Searcher (*jira.Client) and Cursor (RedisCursor).
package intake
