package intake

import (
	"context"
	"encoding/json"
	"errors"
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

// FuzzADF flattens arbitrary JSON (or not JSON) to text: no panic, valid
// UTF-8, never over the limit.
func FuzzADF(f *testing.F) {
	f.Add([]byte(`{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}`))
	f.Add([]byte(`"wiki *text*"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 4 << 10
		got := richText(data, limit)
		if len(got) > limit {
			t.Fatalf("%d bytes of text, over the limit of %d", len(got), limit)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("text is not valid UTF-8: %q", got)
		}
		if json.Valid(data) {
			var ev wireEvent
			wrapped := []byte(`{"webhookEvent":"comment_created","comment":{"self":"https://x/rest/api/2/issue/HD-1/comment/1","body":` + string(data) + `}}`)
			if err := json.Unmarshal(wrapped, &ev); err != nil {
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) {
					return // e.g. nested deeper than encoding/json allows
				}
			}
			p, err := ev.payload("d", fixedNow)
			if err != nil {
				t.Fatalf("payload: %v", err)
			}
			if p.Comment == nil || len(p.Comment.Body) > MaxTextBytes {
				t.Fatalf("comment %+v", p.Comment)
			}
		}
	})
}
