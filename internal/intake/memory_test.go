package intake

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func memHandler(t *testing.T, mod func(*Config)) *Handler {
	t.Helper()
	cfg := Config{Secret: testSecret, BotAccountID: botID, Now: func() time.Time { return fixedNow }}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewHandler(cfg, &memQueue{}, &fakeAgents{}, PingFunc(func(context.Context) error { return nil }))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestWebhookBodiesReadAtOnceAreBounded: with every place to read a body
// taken (MaxBodies 1, held by a delivery whose body is still on its way), a
// further delivery is answered 503 with Retry-After, its body unread and
// its connection closed; once the slow body has arrived, deliveries are
// accepted again.
func TestWebhookBodiesReadAtOnceAreBounded(t *testing.T) {
	t.Parallel()
	h := memHandler(t, func(c *Config) { c.MaxBodies, c.BodyWait, c.RetryAfter = 1, 20*time.Millisecond, 9*time.Second })

	// a delivery whose body is still on its way holds the one place
	pr, pw := io.Pipe()
	slow := delivery{body: cloudIssueCreated, id: "slow"}.request()
	slow.Body = pr
	slowDone := make(chan int, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, slow)
		slowDone <- rec.Code
	}()
	if _, err := pw.Write([]byte(cloudIssueCreated[:10])); err != nil {
		t.Fatal(err)
	}
	if n := len(h.bodies); n != 1 {
		t.Errorf("%d places taken while a body is read, want 1", n)
	}

	body := &countingReader{r: strings.NewReader(cloudIssueCreated)}
	r := delivery{body: cloudIssueCreated, id: "second"}.request()
	r.Body = io.NopCloser(body)
	code, resp, hdr := serve(t, h, r)
	if code != http.StatusServiceUnavailable || resp.Status != StatusUnavailable || hdr.Get("Retry-After") != "9" {
		t.Errorf("delivery past the bound: %d %+v Retry-After %q, want 503 unavailable with Retry-After 9", code, resp, hdr.Get("Retry-After"))
	}
	if hdr.Get("Connection") != "close" || body.n.Load() != 0 {
		t.Errorf("delivery past the bound: Connection %q, %d body bytes read; want close and none", hdr.Get("Connection"), body.n.Load())
	}

	if _, err := pw.Write([]byte(cloudIssueCreated[10:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if code := <-slowDone; code != http.StatusAccepted {
		t.Errorf("the slow delivery answered %d, want 202", code)
	}
	if code, resp := serveOnce(t, h, delivery{body: cloudIssueCreated, id: "third"}); code != http.StatusAccepted {
		t.Errorf("delivery after the place came free: %d %+v, want 202", code, resp)
	}
	if n := len(h.bodies); n != 0 {
		t.Errorf("%d places still taken after every delivery ended", n)
	}
}

// TestWebhookUnsignedBodyIsNotRead: a delivery with no signature, or one
// that is not sha256=<hex>, is refused without a byte of its body read or
// a place taken; a signed one streams through the HMAC.
func TestWebhookUnsignedBodyIsNotRead(t *testing.T) {
	t.Parallel()
	h := memHandler(t, nil)
	big := `{"webhookEvent":"jira:issue_created","issue":{"key":"HD-1"},"pad":"` + strings.Repeat("x", DefaultMaxBodyBytes-100) + `"}`
	for _, tc := range []struct {
		name, sig string
		code      int
		read      bool
	}{
		{"no signature", "-", http.StatusUnauthorized, false},
		{"sha1", "sha1=00ff", http.StatusUnauthorized, false},
		{"not hex", "sha256=xyz", http.StatusUnauthorized, false},
		{"wrong signature", Sign("another secret", []byte(big)), http.StatusUnauthorized, true},
		{"signed", "", http.StatusAccepted, true},
	} {
		body := &countingReader{r: strings.NewReader(big)}
		r := delivery{body: big, id: "unread-" + strings.ReplaceAll(tc.name, " ", "-"), sig: tc.sig}.request()
		r.Body = io.NopCloser(body)
		code, resp, _ := serve(t, h, r)
		if code != tc.code {
			t.Errorf("%s: %d %+v, want %d", tc.name, code, resp, tc.code)
		}
		if read := body.n.Load() == int64(len(big)); read != tc.read || !tc.read && body.n.Load() != 0 {
			t.Errorf("%s: %d of %d body bytes read, want all: %v", tc.name, body.n.Load(), len(big), tc.read)
		}
	}
	if n := len(h.bodies); n != 0 {
		t.Errorf("%d places still taken", n)
	}
}

func serveOnce(t *testing.T, h http.Handler, d delivery) (int, Response) {
	t.Helper()
	code, resp, _ := serve(t, h, d.request())
	return code, resp
}
