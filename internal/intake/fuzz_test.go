package intake

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzWebhook sends arbitrary bodies through the handler, signed or not,
// with the queue up or down: it must not panic, answers one line of JSON,
// and never a 5xx except 503 when the queue (or the agent store) is down.
func FuzzWebhook(f *testing.F) {
	f.Add([]byte(cloudIssueCreated), true, false)
	f.Add([]byte(serverComment), true, true)
	f.Fuzz(func(t *testing.T, body []byte, sign, queueDown bool) {
		q := &memQueue{fail: queueDown}
		agents := &fakeAgents{}
		if queueDown {
			agents.err = errRedisDown
		}
		h, err := NewHandler(Config{Secret: testSecret, BotAccountID: botID, MaxBodyBytes: 64 << 10,
			Now: func() time.Time { return fixedNow }}, q, agents, PingFunc(func(context.Context) error { return nil }))
		if err != nil {
			t.Fatal(err)
		}
		r := httptest.NewRequest(http.MethodPost, WebhookPath, strings.NewReader(string(body)))
		if sign {
			r.Header.Set(HeaderSignature, Sign(testSecret, body))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)

		switch rec.Code {
		case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusUnauthorized, http.StatusRequestEntityTooLarge:
		case http.StatusServiceUnavailable:
			if !queueDown {
				t.Fatalf("503 with the queue up: %s", rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if !sign && len(body) <= 64<<10 && rec.Code != http.StatusUnauthorized {
			t.Fatalf("unsigned body answered %d, want 401", rec.Code)
		}
		var resp Response
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || resp.Status == "" {
			t.Fatalf("answer is not a status object: %q", rec.Body)
		}
		if strings.Count(rec.Body.String(), "\n") != 1 || !utf8.Valid(rec.Body.Bytes()) {
			t.Fatalf("answer is not one line of UTF-8: %q", rec.Body)
		}
		if enqueued := len(q.ids); (rec.Code == http.StatusAccepted) != (enqueued == 1) || enqueued > 1 {
			t.Fatalf("status %d with %d tasks enqueued", rec.Code, enqueued)
		}
	})
}
