package triage

import "slices"

// Labels the bot puts on tickets. Each is defined here once.
const (
	LabelReplied          = "triage-replied"
	LabelEscalated        = "triage-escalated"
	LabelResolved         = "triage-resolved"
	LabelNeedsHuman       = "triage-needs-human"
	LabelEscalateMFA      = "triage-escalate-mfa"
	LabelEscalatePassword = "triage-escalate-password"
	LabelMFAResetDone     = "triage-mfa-reset-done"
	LabelReturned         = "triage-returned"
	LabelSecurity         = "triage-security"
	LabelSuggested        = "triage-suggested"
	LabelPrefix           = "triage-"
)

// LabelPasswordResetDone marks a password escalation that an admin closed
// with the "password reset done" message (never LabelMFAResetDone). It
// stands apart from the block above so that its alignment stays untouched.
const LabelPasswordResetDone = "triage-password-reset-done"

// HandledLabels are the labels the worker leaves on a ticket it handled; a
// ticket with none of them (and no triage state) was never triaged.
var HandledLabels = []string{LabelReplied, LabelEscalated, LabelResolved, LabelNeedsHuman}

// Escalation reasons, in State.Escalated and Escalation.Reason.
const (
	ReasonMFAReset        = "mfa-reset"
	ReasonPasswordReset   = "password-reset"
	ReasonFollowupTimeout = "followup-timeout"
	ReasonRequested       = "requested"
	// ReasonSecurity is a possible attack (MFA fatigue, an approval the
	// reporter did not start, phishing): a person looks at it first.
	ReasonSecurity = "security"
)

// Reasons lists the escalation reasons, in the order admins see them.
var Reasons = []string{ReasonSecurity, ReasonMFAReset, ReasonPasswordReset, ReasonFollowupTimeout, ReasonRequested}

// IsReason reports whether r is an escalation reason.
func IsReason(r string) bool { return slices.Contains(Reasons, r) }
