package jiratest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhooks, as a Jira site with an admin webhook sends them: after every
// change, in order, one POST per event to the configured URL, with
// X-Atlassian-Webhook-Identifier (unique per event, the same on retries),
// X-Atlassian-Webhook-Retry on a retry, and, with a secret, X-Hub-Signature
// (sha256= and the hex HMAC-SHA256 of the body). Jira retries on 408, 409,
// 425, 429, 5xx and network errors; so does the sandbox, five tries in all.
//
// The events, in the flavor's shapes:
//
//   - jira:issue_created (issue_created) with the whole issue and the user;
//   - comment_created: on Cloud the comment and a cut-down issue (id, key,
//     and summary, issuetype, project, assignee, priority and status); on
//     Data Center the comment alone (its self link names the issue id),
//     followed by a jira:issue_updated (issue_commented) with the whole
//     issue, the user and the comment;
//   - jira:issue_updated (issue_updated, issue_assigned or issue_generic)
//     with the whole issue, the user and a changelog, when an edit, a
//     transition or an assignment changed the summary, the description,
//     the labels, the priority, the assignee or the status.
//
// Entity property changes send nothing, as in Jira.

// Delivery is one webhook event and what became of it.
type Delivery struct {
	ID       string // X-Atlassian-Webhook-Identifier
	Event    string // webhookEvent
	Issue    string // the issue's key
	Body     []byte
	Attempts int
	Status   int    // the last answer's status; 0 when none came
	Err      string // the last attempt's network error
}

// OK reports whether the last attempt was answered 2xx.
func (d Delivery) OK() bool { return d.Status >= 200 && d.Status < 300 }

type webhookTarget struct {
	url, secret string
	log         func(Delivery)
	backoff     time.Duration // the first retry's wait; doubled each time
}

// WithWebhook sends signed webhooks to url (secret empty: unsigned).
func WithWebhook(url, secret string) Option {
	return func(o *options) { o.webhook.url, o.webhook.secret = url, secret }
}

// WithWebhookLog calls f after each delivery's last attempt, from the
// goroutine that sends them.
func WithWebhookLog(f func(Delivery)) Option { return func(o *options) { o.webhook.log = f } }

// withWebhookBackoff sets the first retry's wait (default one second).
func withWebhookBackoff(d time.Duration) Option { return func(o *options) { o.webhook.backoff = d } }

// SetWebhook points the webhooks at url from now on (empty: send none).
func (s *Server) SetWebhook(url, secret string) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.target.url, s.hooks.target.secret = url, secret
}

// Deliveries returns the webhooks sent so far (the last 1000), oldest
// first.
func (s *Server) Deliveries() []Delivery {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	return slices.Clone(s.hooks.sent)
}

// WaitWebhooks waits until every webhook queued so far has been sent (or
// given up), or ctx ends.
func (s *Server) WaitWebhooks(ctx context.Context) error {
	for {
		s.hooks.mu.Lock()
		idle := !s.hooks.running && len(s.hooks.queue) == 0
		s.hooks.mu.Unlock()
		if idle {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// maxQueued bounds the webhooks waiting to be sent; later ones are
// dropped (and counted in the log as dropped).
const maxQueued = 10000

// hookSender sends the queued webhooks, in order, from one goroutine that
// runs while there is something to send.
type hookSender struct {
	mu      sync.Mutex
	target  webhookTarget
	client  *http.Client
	queue   []Delivery
	running bool
	sent    []Delivery
	base    uint64 // delivery ids are base+seq, numbers as Jira's are
	seq     uint64
	ctx     context.Context
	cancel  context.CancelFunc
}

func newHookSender(t webhookTarget) *hookSender {
	if t.backoff == 0 {
		t.backoff = time.Second
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	return &hookSender{
		target: t, client: &http.Client{Timeout: 10 * time.Second},
		base: binary.BigEndian.Uint64(b[:]) >> 8, ctx: ctx, cancel: cancel,
	}
}

func (h *hookSender) enabled() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.target.url != "" && h.ctx.Err() == nil
}

func (h *hookSender) close() { h.cancel() }

// enqueue queues one event and starts the sender if it is not running.
func (h *hookSender) enqueue(event, key string, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.target.url == "" || h.ctx.Err() != nil || len(h.queue) >= maxQueued {
		return
	}
	h.seq++
	h.queue = append(h.queue, Delivery{ID: strconv.FormatUint(h.base+h.seq, 10), Event: event, Issue: key, Body: body})
	if !h.running {
		h.running = true
		go h.run()
	}
}

func (h *hookSender) run() {
	for {
		h.mu.Lock()
		if len(h.queue) == 0 || h.ctx.Err() != nil {
			h.queue, h.running = nil, false
			h.mu.Unlock()
			return
		}
		d, t := h.queue[0], h.target
		h.queue = h.queue[1:]
		h.mu.Unlock()

		d = h.send(t, d)

		h.mu.Lock()
		h.sent = append(h.sent, d)
		if len(h.sent) > 1000 {
			h.sent = slices.Delete(h.sent, 0, len(h.sent)-1000)
		}
		h.mu.Unlock()
		if t.log != nil {
			t.log(d)
		}
	}
}

// send delivers d, retrying as Jira does.
func (h *hookSender) send(t webhookTarget, d Delivery) Delivery {
	wait := t.backoff
	for d.Attempts < 5 {
		if d.Attempts > 0 {
			select {
			case <-h.ctx.Done():
				return d
			case <-time.After(wait):
			}
			wait *= 2
		}
		d.Attempts++
		req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, t.url, bytes.NewReader(d.Body))
		if err != nil {
			d.Err = err.Error()
			return d
		}
		req.Header.Set("Content-Type", "application/json; charset=UTF-8")
		req.Header.Set("User-Agent", "Atlassian Webhook HTTP Client")
		req.Header.Set("X-Atlassian-Webhook-Identifier", d.ID)
		req.Header.Set("X-Atlassian-Webhook-Flow", "Primary")
		if d.Attempts > 1 {
			req.Header.Set("X-Atlassian-Webhook-Retry", strconv.Itoa(d.Attempts-1))
		}
		if t.secret != "" {
			mac := hmac.New(sha256.New, []byte(t.secret))
			mac.Write(d.Body)
			req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		}
		resp, err := h.client.Do(req)
		if err != nil {
			d.Status, d.Err = 0, err.Error()
			continue
		}
		_ = resp.Body.Close()
		d.Status, d.Err = resp.StatusCode, ""
		switch {
		case resp.StatusCode == 408, resp.StatusCode == 409, resp.StatusCode == 425, resp.StatusCode == 429, resp.StatusCode >= 500:
			continue
		}
		return d
	}
	return d
}

// eventBase is the base URL of self links in webhooks not caused by a
// request (the Go API).
func (s *Server) eventBase() string {
	switch {
	case s.opts.baseURL != "":
		return s.opts.baseURL
	case s.ts != nil:
		return s.ts.URL
	}
	return "http://localhost"
}

// queueLocked encodes one event (now, under the lock: it shares the
// issue's slices) and queues it.
func (s *Server) queueLocked(event, key string, body map[string]any) {
	b, err := json.Marshal(body)
	if err != nil {
		return // a body of strings, numbers and raw JSON always encodes
	}
	s.hooks.enqueue(event, key, b)
}

// issueEventLocked is the body of an issue event: the whole issue and the
// user who caused it.
func (s *Server) issueEventLocked(base, event, typeName string, is *Issue, actor *User) map[string]any {
	return map[string]any{
		"timestamp":             s.now().UnixMilli(),
		"webhookEvent":          event,
		"issue_event_type_name": typeName,
		"user":                  s.userJSON(base, actor),
		"issue":                 s.issueJSON(base, is, selection{all: true}, selection{}),
	}
}

// cloudCommentFields are the issue fields of a Jira Cloud comment event.
var cloudCommentFields = parseSelection([]string{"summary,issuetype,project,assignee,priority,status"})

// snapshot is what an issue event's changelog compares.
type snapshot struct {
	summary, description, status, priority, labels string
	assignee                                       *User
}

func snapshotOf(is *Issue) snapshot {
	return snapshot{
		summary: is.Summary, description: is.Description, status: is.Status,
		priority: is.Priority, labels: strings.Join(is.Labels, " "), assignee: is.Assignee,
	}
}

// changelog lists the fields that differ between two snapshots, as Jira's
// changelog items.
func changelog(a, b snapshot) []map[string]any {
	var items []map[string]any
	item := func(field string, from, fromString, to, toString any) {
		items = append(items, map[string]any{"field": field, "fieldtype": "jira", "fieldId": field,
			"from": from, "fromString": fromString, "to": to, "toString": toString})
	}
	for _, f := range []struct{ name, from, to string }{
		{"summary", a.summary, b.summary}, {"description", a.description, b.description},
		{"labels", a.labels, b.labels}, {"priority", a.priority, b.priority},
	} {
		if f.from != f.to {
			item(f.name, nil, f.from, nil, f.to)
		}
	}
	if a.status != b.status {
		item("status", statusID(a.status), a.status, statusID(b.status), b.status)
	}
	id := func(u *User) any {
		if u == nil {
			return nil
		}
		return u.AccountID
	}
	name := func(u *User) any {
		if u == nil {
			return nil
		}
		return u.DisplayName
	}
	if id(a.assignee) != id(b.assignee) {
		item("assignee", id(a.assignee), name(a.assignee), id(b.assignee), name(b.assignee))
	}
	return items
}

// changeLocked applies a change made by actor and queues the webhooks it
// causes.
func (s *Server) changeLocked(base string, is *Issue, plan editPlan, actor User) {
	before := snapshotOf(is)
	s.applyLocked(is, plan)
	if !s.hooks.enabled() {
		return
	}
	added := is.Comments[len(is.Comments)-len(plan.comments):]
	for i := range added {
		c := &added[i]
		ev := map[string]any{"timestamp": s.now().UnixMilli(), "webhookEvent": "comment_created", "comment": s.commentJSON(base, is, c, false)}
		if !s.opts.dataCenter() {
			ev["issue"] = s.issueJSON(base, is, cloudCommentFields, selection{})
		}
		s.queueLocked("comment_created", is.Key, ev)
	}
	items := changelog(before, snapshotOf(is))
	typeName := "issue_updated"
	switch {
	case len(items) == 1 && items[0]["field"] == "status":
		typeName = "issue_generic"
	case len(items) == 1 && items[0]["field"] == "assignee":
		typeName = "issue_assigned"
	case len(items) == 0 && len(added) > 0 && s.opts.dataCenter():
		typeName = "issue_commented" // Data Center mirrors a comment as an update
	case len(items) == 0:
		return
	}
	ev := s.issueEventLocked(base, "jira:issue_updated", typeName, is, &actor)
	if len(items) > 0 {
		s.hooks.mu.Lock()
		s.hooks.seq++
		id := s.hooks.base + s.hooks.seq
		s.hooks.mu.Unlock()
		ev["changelog"] = map[string]any{"id": strconv.FormatUint(id%1e7, 10), "items": items}
	}
	if len(added) > 0 {
		ev["comment"] = s.commentJSON(base, is, &added[len(added)-1], false)
	}
	s.queueLocked("jira:issue_updated", is.Key, ev)
}
