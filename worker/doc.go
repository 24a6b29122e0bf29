// Package worker holds the asynq task types of triage and their handlers:
// each task type is a constant, a constructor and a handler registered on an
// asynq.ServeMux (TypeTriageTicket with NewTriageTask and
// (*TriageHandler).ProcessTask; TypeFollowup with NewFollowupTask and
// ProcessFollowup), plus the logging and recovery middleware and the retry
// policy (RetryDelay, IsFailure). The handlers read a ticket's triage state,
// ask the classifier for a verdict, render the reply with the templates and
// act on Jira through the small interfaces of the domain package (triage.Jira,
// triage.StateStore, …) — exactly once, whatever retries, crashes and
// duplicate webhooks happen.
//
// A verdict below the auto threshold (mode suggest) becomes one internal
// note for the agents and a pending triage.Suggestion in the state; an
// agent's comment whose first line is a /triage command (send, wrong)
// carries it out or corrects it, exactly once, and the outcomes (sent,
// corrected, answered otherwise) go to the audit, the optional
// triage.DecisionCounter and triage.FeedbackRecorder, and the metrics.
package worker
