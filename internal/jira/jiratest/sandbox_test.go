package jiratest

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const hookSecret = "sandbox-secret"

// hookReceiver records the webhooks it is sent, answering each with the
// next of codes (then 202).
type hookReceiver struct {
	t     *testing.T
	srv   *httptest.Server
	mu    sync.Mutex
	codes []int
	got   []received
}

type received struct {
	header http.Header
	body   map[string]any
	raw    []byte
}

func newReceiver(t *testing.T, codes ...int) *hookReceiver {
	t.Helper()
	h := &hookReceiver{t: t, codes: codes}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		if err := json.Unmarshal(raw, &body); err != nil {
			t.Errorf("webhook body is not a JSON object: %v", err)
		}
		h.mu.Lock()
		h.got = append(h.got, received{header: r.Header.Clone(), body: body, raw: raw})
		code := http.StatusAccepted
		if len(h.codes) > 0 {
			code, h.codes = h.codes[0], h.codes[1:]
		}
		h.mu.Unlock()
		w.WriteHeader(code)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// events returns the deliveries received so far, once the server has sent
// everything queued.
func (h *hookReceiver) events(s *Server) []received {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitWebhooks(ctx); err != nil {
		h.t.Fatalf("webhooks not sent: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.got)
}

func (r received) event() string { return str(r.body["webhookEvent"]) }

func str(v any) string { s, _ := v.(string); return s }

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

var (
	sandboxBot = User{AccountID: "sandbox-bot", DisplayName: "Triage Bot", EmailAddress: "bot@example.com"}
	botAuth    = basic("bot@example.com", "bot-token")
)

func sandbox(t *testing.T, recv *hookReceiver, opts ...Option) *Server {
	t.Helper()
	s := New(append([]Option{
		WithSandbox(), WithBasicAuth("bot@example.com", "bot-token", sandboxBot),
		WithProject("HD", ProjectServiceDesk), WithProject("SW", ProjectSoftware),
		WithWebhook(recv.srv.URL, hookSecret), withWebhookBackoff(time.Millisecond),
	}, opts...)...)
	t.Cleanup(s.Close)
	return s
}

// TestSandboxFileCommentAndWebhooks: an issue filed with POST /issue (as
// any user, through X-Sandbox-User) answers 201 with id and key; comments
// post as the header's user or as the bot (basic auth); GET /comment shows
// each author and internal or restricted mark; sd.public.comment counts
// only in a Service Management project; and each change sends the signed
// webhooks of Jira Cloud.
func TestSandboxFileCommentAndWebhooks(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	s := sandbox(t, recv)
	asAlice := HeaderSandboxUser + ": alice"

	r := call(t, s, "POST", "/rest/api/2/issue", `{"fields":{"project":{"key":"HD"},"summary":"Passkey gone","description":"New phone, no passkey","issuetype":{"name":"Service Request"}}}`, asAlice)
	if r.status != 201 || r.json(t)["key"] != "HD-1" || r.json(t)["id"] == "" {
		t.Fatalf("POST /issue = %d %s, want 201 with id and key HD-1", r.status, r.body)
	}
	r = call(t, s, "POST", "/rest/api/2/issue", `{"fields":{"project":{"key":"SW"},"summary":"Build fails","reporter":{"accountId":"bob"}}}`, botAuth)
	if r.status != 201 || r.json(t)["key"] != "SW-1" {
		t.Fatalf("POST /issue into SW = %d %s", r.status, r.body)
	}
	for _, bad := range []struct{ body, hdr string }{
		{`{"fields":{"project":{"key":"NOPE"},"summary":"x"}}`, asAlice},
		{`{"fields":{"project":{"key":"HD"}}}`, asAlice},
		{`{"fields":{"project":{"key":"HD"},"summary":"x","votes":3}}`, asAlice},
	} {
		if r := call(t, s, "POST", "/rest/api/2/issue", bad.body, bad.hdr); r.status != 400 {
			t.Errorf("POST /issue %s = %d, want 400", bad.body, r.status)
		}
	}
	if r := call(t, s, "POST", "/rest/api/2/issue", `{"fields":{"project":{"key":"HD"},"summary":"x"}}`); r.status != 401 {
		t.Errorf("POST /issue with neither credentials nor %s = %d, want 401", HeaderSandboxUser, r.status)
	}

	internal := `{"body":"Checked her sign-ins.","properties":[{"key":"sd.public.comment","value":{"internal":true}}]}`
	for _, c := range []struct{ key, body, hdr string }{
		{"HD-1", `{"body":"I did all of that and it still fails"}`, asAlice},
		{"HD-1", internal, botAuth},
		{"SW-1", internal, botAuth},
		{"SW-1", `{"body":"For admins only.","visibility":{"type":"role","value":"Administrators"}}`, botAuth},
	} {
		if r := call(t, s, "POST", "/rest/api/2/issue/"+c.key+"/comment", c.body, c.hdr); r.status != 201 {
			t.Fatalf("POST %s/comment = %d %s", c.key, r.status, r.body)
		}
	}
	if r := call(t, s, "PUT", "/rest/api/2/issue/HD-1", `{"update":{"labels":[{"add":"triage-replied"}]}}`, botAuth); r.status != 204 {
		t.Fatalf("PUT HD-1 = %d %s", r.status, r.body)
	}

	type mark struct {
		Author     string
		JSDPublic  bool
		Visibility string
	}
	comments := func(key string) []mark {
		var page struct {
			Comments []struct {
				Author     struct{ AccountID string }
				JSDPublic  bool
				Visibility *struct{ Type, Value string }
			}
		}
		r := call(t, s, "GET", "/rest/api/2/issue/"+key+"/comment", "", botAuth)
		if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 {
			t.Fatalf("GET %s/comment = %d %s", key, r.status, r.body)
		}
		var out []mark
		for _, c := range page.Comments {
			m := mark{Author: c.Author.AccountID, JSDPublic: c.JSDPublic}
			if c.Visibility != nil {
				m.Visibility = c.Visibility.Type + ":" + c.Visibility.Value
			}
			out = append(out, m)
		}
		return out
	}
	if got, want := comments("HD-1"), []mark{{"alice", true, ""}, {"sandbox-bot", false, ""}}; !slices.Equal(got, want) {
		t.Errorf("HD-1 (Service Management) comments %+v, want %+v", got, want)
	}
	// outside Service Management, sd.public.comment is ignored: the "internal" note is public
	if got, want := comments("SW-1"), []mark{{"sandbox-bot", true, ""}, {"sandbox-bot", true, "role:Administrators"}}; !slices.Equal(got, want) {
		t.Errorf("SW-1 (software) comments %+v, want %+v", got, want)
	}
	if r := call(t, s, "GET", "/rest/api/2/project/SW", "", botAuth); r.status != 200 || r.json(t)["projectTypeKey"] != "software" {
		t.Errorf("GET /project/SW = %d %s", r.status, r.body)
	}

	got := recv.events(s)
	var events []string
	ids := map[string]bool{}
	for _, d := range got {
		key := str(obj(d.body["issue"])["key"])
		events = append(events, d.event()+" "+key)
		mac := hmac.New(sha256.New, []byte(hookSecret))
		mac.Write(d.raw)
		if sig := d.header.Get("X-Hub-Signature"); sig != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("%s: X-Hub-Signature %q does not sign the body", d.event(), sig)
		}
		id := d.header.Get("X-Atlassian-Webhook-Identifier")
		if id == "" || ids[id] {
			t.Errorf("%s: identifier %q missing or repeated", d.event(), id)
		}
		ids[id] = true
		if _, ok := d.body["timestamp"].(float64); !ok {
			t.Errorf("%s: no timestamp", d.event())
		}
	}
	want := []string{
		"jira:issue_created HD-1", "jira:issue_created SW-1",
		"comment_created HD-1", "comment_created HD-1", "comment_created SW-1", "comment_created SW-1",
		"jira:issue_updated HD-1",
	}
	if !slices.Equal(events, want) {
		t.Fatalf("webhooks %q, want %q", events, want)
	}
	created := got[0].body
	fields := obj(obj(created["issue"])["fields"])
	if str(obj(created["user"])["accountId"]) != "alice" || str(obj(fields["reporter"])["accountId"]) != "alice" ||
		fields["summary"] != "Passkey gone" || fields["description"] != "New phone, no passkey" || created["issue_event_type_name"] != "issue_created" {
		t.Errorf("jira:issue_created = %s", got[0].raw)
	}
	// Cloud's comment event: the comment, and an issue cut down to six fields
	comment := got[2].body
	var names []string
	for k := range obj(obj(comment["issue"])["fields"]) {
		names = append(names, k)
	}
	slices.Sort(names)
	if c := obj(comment["comment"]); str(obj(c["author"])["accountId"]) != "alice" || c["body"] != "I did all of that and it still fails" || c["jsdPublic"] != true ||
		!slices.Equal(names, []string{"assignee", "issuetype", "priority", "project", "status", "summary"}) {
		t.Errorf("comment_created = %s (issue fields %v)", got[2].raw, names)
	}
	if c := obj(got[3].body["comment"]); c["jsdPublic"] != false || str(obj(c["author"])["accountId"]) != "sandbox-bot" {
		t.Errorf("the bot's internal note's comment_created = %s", got[3].raw)
	}
	updated := got[6].body
	items, _ := obj(updated["changelog"])["items"].([]any)
	if str(obj(updated["user"])["accountId"]) != "sandbox-bot" || len(items) != 1 || obj(items[0])["field"] != "labels" || obj(items[0])["toString"] != "triage-replied" {
		t.Errorf("jira:issue_updated = %s", got[6].raw)
	}
}

// TestSandboxDataCenterWebhooks: on the datacenter flavor, comment_created
// carries no issue (its self link names the issue id) and a jira:issue_updated
// issue_commented follows it; users are named by name and key.
func TestSandboxDataCenterWebhooks(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	s := sandbox(t, recv, WithFlavor(FlavorDataCenter))
	is, err := s.CreateIssue("HD", Issue{Summary: "Locked out"}, User{AccountID: "alice", Name: "alice", DisplayName: "Alice"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddComment(is.Key, Comment{Author: User{AccountID: "alice", Name: "alice"}, Body: "still locked"}); err != nil {
		t.Fatal(err)
	}
	got := recv.events(s)
	var events []string
	for _, d := range got {
		events = append(events, d.event()+" "+str(d.body["issue_event_type_name"]))
	}
	if want := []string{"jira:issue_created issue_created", "comment_created ", "jira:issue_updated issue_commented"}; !slices.Equal(events, want) {
		t.Fatalf("webhooks %q, want %q", events, want)
	}
	c := obj(got[1].body["comment"])
	if _, has := got[1].body["issue"]; has || !strings.Contains(str(c["self"]), "/rest/api/2/issue/"+is.ID+"/comment/") {
		t.Errorf("Data Center comment_created = %s", got[1].raw)
	}
	if a := obj(c["author"]); a["name"] != "alice" || a["accountId"] != nil {
		t.Errorf("Data Center author %v, want name alice and no accountId", a)
	}
	if obj(got[2].body["issue"])["key"] != is.Key || obj(got[2].body["comment"])["body"] != "still locked" {
		t.Errorf("issue_commented = %s", got[2].raw)
	}
}

// TestSandboxWebhookRetries: a delivery answered 503 is sent again under
// the same identifier, with X-Atlassian-Webhook-Retry.
func TestSandboxWebhookRetries(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, http.StatusServiceUnavailable, http.StatusInternalServerError)
	s := sandbox(t, recv)
	if _, err := s.CreateIssue("HD", Issue{Summary: "x"}, User{AccountID: "alice"}); err != nil {
		t.Fatal(err)
	}
	got := recv.events(s)
	if len(got) != 3 {
		t.Fatalf("%d attempts, want 3", len(got))
	}
	for i, d := range got {
		if d.header.Get("X-Atlassian-Webhook-Identifier") != got[0].header.Get("X-Atlassian-Webhook-Identifier") {
			t.Errorf("attempt %d has another identifier", i+1)
		}
		if want := map[int]string{0: "", 1: "1", 2: "2"}[i]; d.header.Get("X-Atlassian-Webhook-Retry") != want {
			t.Errorf("attempt %d: X-Atlassian-Webhook-Retry %q, want %q", i+1, d.header.Get("X-Atlassian-Webhook-Retry"), want)
		}
	}
	if ds := s.Deliveries(); len(ds) != 1 || !ds[0].OK() || ds[0].Attempts != 3 {
		t.Errorf("deliveries %+v", ds)
	}
}

// TestSandboxPage: the page lists issues and comments with the internal
// ones marked (and escaped), its forms file a ticket and comment as the
// reporter (webhooks included), and a form post from another site is
// refused.
func TestSandboxPage(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t)
	s := sandbox(t, recv)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values, origin string) *http.Response {
		req, _ := http.NewRequest("POST", s.URL()+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := post("/sandbox/issue", url.Values{"project": {"HD"}, "reporter": {"carol"}, "reporter_name": {"Carol"}, "summary": {"<script>alert(1)</script> passkey"}, "description": {"help"}}, s.URL())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/#HD-1" {
		t.Fatalf("file a ticket: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp := post("/sandbox/comment", url.Values{"key": {"HD-1"}, "body": {"it still fails"}}, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("comment: %d", resp.StatusCode)
	}
	if resp := post("/sandbox/comment", url.Values{"key": {"HD-1"}, "body": {"forged"}}, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site comment: %d, want 403", resp.StatusCode)
	}
	if _, err := s.AddComment("HD-1", Comment{Author: sandboxBot, Body: "evidence for agents", Internal: true}); err != nil {
		t.Fatal(err)
	}
	is, _ := s.Issue("HD-1")
	if is.Reporter.AccountID != "carol" || is.Reporter.DisplayName != "Carol" || len(is.Comments) != 2 || is.Comments[0].Author.AccountID != "carol" || !is.Comments[1].Internal {
		t.Errorf("HD-1 = %+v", is)
	}
	// the page lists the deliveries sent: wait for them (they go out
	// apart from the requests)
	events := recv.events(s)
	r := call(t, s, "GET", "/", "")
	page := string(r.body)
	for _, want := range []string{"HD-1", "it still fails", "internal note (agents only)", "evidence for agents", "&lt;script&gt;", "Comment as Carol", "Service Management", "jira:issue_created"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(page, "<script>") || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("the page is not escaped HTML: %s", r.header.Get("Content-Type"))
	}
	if len(events) != 3 {
		t.Errorf("%d webhooks, want 3 (created, two comments)", len(events))
	}
	for _, c := range s.Calls() {
		t.Errorf("the page's requests are in the call log: %s %s", c.Method, c.Path)
	}
}
