package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// The sender's side of the webhook, for what plays Jira on a loopback
// (the demo, the bench): the bodies Jira sends and the signed request.

// WebhookUser is a user as a webhook body names one.
type WebhookUser struct {
	AccountID   string
	DisplayName string
}

func (u WebhookUser) json() map[string]any {
	return map[string]any{"accountId": u.AccountID, "displayName": u.DisplayName}
}

// IssueCreatedBody is the body of the jira:issue_created webhook Jira sends
// when reporter opens the ticket key.
func IssueCreatedBody(key, summary, description string, reporter WebhookUser) []byte {
	return webhookBody(map[string]any{
		"webhookEvent": "jira:issue_created", "timestamp": time.Now().UnixMilli(),
		"user": map[string]any{"accountId": reporter.AccountID},
		"issue": map[string]any{"key": key, "fields": map[string]any{
			"summary": summary, "description": description, "reporter": reporter.json(),
		}},
	})
}

// CommentCreatedBody is the body of the comment_created webhook Jira sends
// when author comments body on the ticket key of reporter.
func CommentCreatedBody(key string, author, reporter WebhookUser, body string) []byte {
	return webhookBody(map[string]any{
		"webhookEvent": "comment_created", "timestamp": time.Now().UnixMilli(),
		"comment": map[string]any{"body": body, "author": author.json()},
		"issue":   map[string]any{"key": key, "fields": map[string]any{"reporter": reporter.json()}},
	})
}

func webhookBody(v map[string]any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("intake: a webhook body of strings and numbers does not marshal: %v", err)) // cannot happen
	}
	return b
}

// NewWebhookRequest builds the POST of one delivery to url (the intake's
// WebhookPath) as Jira sends it: JSON, with deliveryID as
// X-Atlassian-Webhook-Identifier and, when secret is set, the body's
// signature (Sign) as X-Hub-Signature.
func NewWebhookRequest(ctx context.Context, url, secret, deliveryID string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("webhook request to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderDeliveryID, deliveryID)
	if secret != "" {
		req.Header.Set(HeaderSignature, Sign(secret, body))
	}
	return req, nil
}
