package jiratest

import (
	"net/http"
)

// errorBody is Jira's error format.
type errorBody struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

func jsonReply(status int, body any) reply { return reply{status: status, body: body} }

func noContent() reply { return reply{status: http.StatusNoContent, write: true} }

// errReply answers {"errorMessages":[msgs...],"errors":{}}.
func errReply(status int, msgs ...string) reply {
	if msgs == nil {
		msgs = []string{}
	}
	return reply{status: status, body: errorBody{ErrorMessages: msgs, Errors: map[string]string{}}}
}

// fieldErrReply answers {"errorMessages":[],"errors":{field: message}}.
func fieldErrReply(status int, errs map[string]string) reply {
	return reply{status: status, body: errorBody{ErrorMessages: []string{}, Errors: errs}}
}

// invalidPayloadMessage is what Jira Cloud answers to a body it cannot map onto
// the resource's schema (for example go-jira's empty author/visibility objects).
const invalidPayloadMessage = "Invalid request payload. Refer to the REST API documentation and try again."

func invalidPayload() reply { return errReply(http.StatusBadRequest, invalidPayloadMessage) }

func methodNotAllowed() reply {
	return errReply(http.StatusMethodNotAllowed, "Method not allowed for this resource.")
}
