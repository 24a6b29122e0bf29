// Package jiratest is a fake Jira REST v2 server (Cloud, or Data Center) for
// tests, demos and local trials: the sandbox of `triage fakejira`.
//
// It speaks the request and response shapes that internal/jira (through go-jira
// v1.17.0) uses: the auth check (/myself), issues with comments and entity
// properties, comments (public or Jira Service Management internal), issue edits
// (update.labels, update.comment and properties in one PUT), transitions, the
// assignee, and /search/jql with nextPageToken paging. Errors come back in Jira's
// format, {"errorMessages":[...],"errors":{...}}, with Jira's status codes, so the
// adapter's error handling runs against realistic bodies.
//
// State lives in memory behind one mutex. Every request is recorded (method, path,
// query, status, time, body, which fault answered it) so tests can assert exactly
// what was written and how many calls an action cost.
//
// Faults can be injected at run time and are deterministic for a given seed:
// 429 with Retry-After and X-RateLimit-Reset, 5xx at a rate, fixed or random
// latency, a per-issue write limit, and "fail the next K calls (optionally
// only those with a given method and path) with status S". There is no
// permission model: a 403 comes from an injected fault.
//
// Use New in tests (it starts an httptest.Server) or NewHandler to mount the
// fake in any http.Server, for example behind a `triage fakejira` command.
//
// WithFlavor(FlavorDataCenter) answers as Jira Data Center instead of Cloud:
// /search with startAt paging (and 404 on /search/jql), users by name and
// key, no jsdPublic, Data Center's webhook shapes.
//
// The sandbox (sandbox.go, webhook.go, page.go) makes the fake something a
// person can try the product with: POST /rest/api/2/issue files an issue,
// WithSandbox lets any request act as the user its X-Sandbox-User header
// names, each project is Service Management or not (WithProject; outside
// Service Management the sd.public.comment property is ignored, as in Jira,
// so an "internal" note is public), every change sends the signed webhooks a
// Jira site sends (WithWebhook), and a page at / lists the issues with a
// form to file a ticket or comment as its reporter. CreateIssue and
// AddComment do the same from Go, webhooks included; AddIssue seeds an
// issue silently.
//
// Where Jira's behaviour is not documented the fake takes the pessimistic side:
// a comment added through an issue edit or a transition (update.comment) is
// always public, whatever properties it carries, because Jira does not document
// that update.comment honours the sd.public.comment property.
package jiratest
