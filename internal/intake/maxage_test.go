package intake

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/logtest"
)

// TestStaleSignedDeliveriesAreNotEnqueued: a signed body whose timestamp
// is older than MaxAge (a capture replayed) gets 200 and nothing queued;
// a fresh one, or one without a timestamp, is enqueued.
func TestStaleSignedDeliveriesAreNotEnqueued(t *testing.T) {
	t.Parallel()
	body := func(key string, at time.Time) string {
		ts := ""
		if !at.IsZero() {
			ts = fmt.Sprintf(`"timestamp": %d, `, at.UnixMilli())
		}
		return `{` + ts + `"webhookEvent": "jira:issue_created", "user": {"accountId": "557058:alice"},
  "issue": {"key": "` + key + `", "fields": {"summary": "passkey", "reporter": {"accountId": "557058:alice"}}}}`
	}
	tests := []struct {
		name    string
		maxAge  time.Duration
		at      time.Time
		code    int
		queued  int
		warning bool
	}{
		{"two hours old, the default limit", 0, fixedNow.Add(-2 * time.Hour), http.StatusOK, 0, true},
		{"59 minutes old", 0, fixedNow.Add(-59 * time.Minute), http.StatusAccepted, 1, false},
		{"no timestamp", 0, time.Time{}, http.StatusAccepted, 1, false},
		{"ten minutes old, a limit of five", 5 * time.Minute, fixedNow.Add(-10 * time.Minute), http.StatusOK, 0, true},
		{"a clock a little ahead", 0, fixedNow.Add(time.Minute), http.StatusAccepted, 1, false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var logs logtest.Buffer
			e := newHookEnv(t, func(c *Config) { c.MaxAge = tc.maxAge; c.Logger = zerolog.New(&logs) })
			code, resp, _ := serve(t, e.h, delivery{body: body(fmt.Sprintf("HD-%d", 900+i), tc.at), id: fmt.Sprintf("stale-%d", i)}.request())
			if code != tc.code || e.q.count(t) != tc.queued {
				t.Errorf("answered %d %+v with %d queued, want %d and %d", code, resp, e.q.count(t), tc.code, tc.queued)
			}
			if tc.warning && (!strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(resp.Reason, "a replay")) {
				t.Errorf("a stale delivery is not named as one: %+v\n%s", resp, logs.String())
			}
		})
	}
}

// TestMaxAgeIsForSignedDeliveries: without a secret anyone could write any
// timestamp, and the limit is not applied.
func TestMaxAgeIsForSignedDeliveries(t *testing.T) {
	t.Parallel()
	e := newHookEnv(t, func(c *Config) { c.Secret = "" })
	b := bytes.ReplaceAll([]byte(cloudIssueCreated), []byte("HD-1"), []byte("HD-950"))
	if code, resp, _ := serve(t, e.h, delivery{body: string(b), id: "unsigned-old", sig: "-"}.request()); code != http.StatusAccepted {
		t.Errorf("answered %d %+v", code, resp)
	}
	if err := (Config{BotAccountID: "b", MaxAge: -time.Second}).Validate(); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("a negative MaxAge: %v", err)
	}
}
