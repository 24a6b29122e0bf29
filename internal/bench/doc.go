// Package bench measures the triage pipeline against raw asynq: what
// `triage bench` runs.
//
// It owns the load (sample tickets under a project key of their own, sent
// as signed webhooks to a loopback intake, unthrottled or at a fixed
// rate), the measurements (tickets per second, webhook → comment latency,
// Jira writes per replied ticket and calls per ticket, read from the fake
// Jira's call log; the process's RSS), the raw asynq baseline (no-op tasks
// at the same concurrency, on the same Redis), the memory check of a
// separate worker process draining a queued backlog, and the clean-up of
// everything a run left in Redis.
//
// It does not build the pipeline. The caller passes the code of `triage
// serve` as a Pipeline (Run) or the command line of a `triage worker`
// process (RunQueued), so that what is measured is what runs in
// production; only Jira is a stand-in (jiratest).
package bench
