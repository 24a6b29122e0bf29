// Package worker holds the asynq task types of triage and their handlers:
// each task type is a constant, a constructor and a handler registered on an
// asynq.ServeMux. The handlers read a ticket's triage state, ask the
// classifier for a verdict, render the reply with the templates and act on
// Jira through small interfaces declared here — exactly once, whatever
// retries, crashes and duplicate webhooks happen.
//
// The task types land with the worker issue; this package is its place in
// the layout.
package worker
