// Package jira is the adapter between the triage worker and Jira: it wraps
// github.com/andygrunwald/go-jira v1.17.0 (REST v2) with authentication,
// retries, rate-limit handling, typed errors and the few calls the triage
// needs.
//
// Authentication: Jira Cloud with e-mail and API token (go-jira's
// BasicAuthTransport) or Jira Data Center with a personal access token
// (PATAuthTransport, a bearer token). See Config.
//
// Faults: a RetryTransport sits under go-jira. It honours 429 and 503 with
// Retry-After / X-RateLimit-Reset, backs off exponentially with full jitter on
// 5xx and network errors, never retries 400/401/403/404, and never replays a
// write that may already have been applied (a comment is not posted twice by
// the adapter). Every non-2xx answer becomes an *Error that keeps Jira's own
// errorMessages and field errors; IsPermanent, IsRateLimited and RetryAfter
// let the worker decide between asynq.SkipRetry, a rescheduled retry that is
// not a failure, and a plain retry. The worker's adapter (NewTaskTriage)
// sleeps through a rate limit of at most TaskMaxRetryAfter and hands a longer
// one back, so that the task's retry delay waits rather than a worker slot.
//
// Answers of the calls that bypass go-jira's structs (GetIssue, AddComment,
// the status read) are decoded with the shapes of internal/jira/wire, the
// ones intake reads webhooks with: leniently, and a description or comment
// body that is an ADF document reads as its text.
//
// Internal comments: only Jira Service Management projects honour the
// sd.public.comment property; in a software or business project a comment
// carrying it is public. So the adapter learns each project's type once
// (GET /project/{key}, projectTypeKey, cached) and outside Service
// Management restricts the comment's visibility to the role or group of
// Config.InternalVisibility instead; with none configured it posts no
// internal comment and says so (NoteSkippedError). Reading back, a comment
// is internal when jsdPublic is false (Cloud), when its sd.public.comment
// property says so (Data Center, which sends no jsdPublic: GetIssue reads
// such comments from the comment resource with expand=properties), or when
// its visibility is restricted.
//
// Comments are posted with the adapter's own payload through go-jira's
// NewRequestWithContext and Do, never go-jira's Comment struct: that struct
// sends empty author and visibility objects, which Jira Cloud rejects
// ("Invalid request payload", go-jira #604/#694), and cannot carry the
// sd.public.comment property that makes a Jira Service Management comment
// internal.
//
// # Jira calls per operation
//
// Counted as HTTP requests on the happy path (no retries):
//
//	Myself                              1  GET  /myself
//	GetIssue                            1  GET  /issue/{key}?fields=…&properties=<state>
//	                                       (+1 GET /issue/{key}/comment?expand=properties per
//	                                       100 comments when Jira did not embed them all, or
//	                                       when they do not say whether they are internal:
//	                                       Data Center sends no jsdPublic)
//	AddComment (public or internal)     1  POST /issue/{key}/comment (internal: +1 GET
//	                                       /project/{key} the first time per project)
//	Edit, public comment or none        1  PUT  /issue/{key}: update.comment,
//	  + labels + properties                 update.labels and properties together
//	Edit, internal comment              2  POST /issue/{key}/comment, then the PUT
//	                                       (1 when there are no labels or properties)
//	AddLabels                           1  PUT  /issue/{key}
//	GetProperty / SetProperty           1  GET / PUT /issue/{key}/properties/{prop}
//	TransitionByName                    2  GET + POST /issue/{key}/transitions
//	                                       (+1 GET when no transition matches)
//	Assign                              1  PUT  /issue/{key}/assignee
//	SearchJQL                           1 per page: GET /search/jql by nextPageToken (Cloud),
//	                                       GET /search by startAt (Data Center; FlavorAuto
//	                                       learns it from one 404 of /search/jql, once)
//
// So a public reply with its labels and triage state is one write, and an
// internal note with labels and state is two. The internal note is not folded
// into the edit because Jira documents comment properties only on the comment
// resource, not on update.comment of an issue edit; a note for agents must
// not reach the customer on a guess. The state property then follows in the
// second call, so a crash between the two leaves a posted note without its
// state: Edit reports that case with ErrPartialEdit, and a worker that
// retries should look for its own note before posting it again.
package jira
