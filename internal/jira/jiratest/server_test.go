package jiratest

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/google/go-cmp/cmp"
)

func basic(email, token string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(email+":"+token))
}

func TestAuth(t *testing.T) {
	t.Parallel()
	bot := User{AccountID: "acc-bot", DisplayName: "Bot"}
	dc := User{AccountID: "acc-dc", DisplayName: "DC Bot", Name: "dcbot"}
	s := New(WithBasicAuth("bot@example.com", "tok-1", bot), WithPAT("pat-1", dc))
	t.Cleanup(s.Close)
	open := New()
	t.Cleanup(open.Close)

	tests := []struct {
		name       string
		srv        *Server
		hdr        []string
		wantStatus int
		wantID     string
	}{
		{"no credentials configured", open, nil, 200, DefaultUser.AccountID},
		{"missing header", s, nil, 401, ""},
		{"wrong token", s, []string{basic("bot@example.com", "nope")}, 401, ""},
		{"unknown e-mail", s, []string{basic("x@example.com", "tok-1")}, 401, ""},
		{"basic ok", s, []string{basic("bot@example.com", "tok-1")}, 200, "acc-bot"},
		{"bearer ok", s, []string{"Authorization: Bearer pat-1"}, 200, "acc-dc"},
		{"bearer wrong", s, []string{"Authorization: Bearer pat-2"}, 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := call(t, tt.srv, "GET", "/rest/api/2/myself", "", tt.hdr...)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			m := r.json(t)
			if tt.wantStatus == 401 {
				want := map[string]any{
					"errorMessages": []any{"Client must be authenticated to access this resource."},
					"errors":        map[string]any{},
				}
				if diff := cmp.Diff(want, m); diff != "" {
					t.Errorf("401 body (-want +got):\n%s", diff)
				}
				return
			}
			if m["accountId"] != tt.wantID {
				t.Errorf("accountId = %v, want %s", m["accountId"], tt.wantID)
			}
		})
	}

	// The call log says how a request authenticated, never with the secret.
	for _, c := range s.Calls() {
		if strings.Contains(c.Auth, "tok-1") || strings.Contains(c.Auth, "pat-1") {
			t.Errorf("call log leaks a secret: %q", c.Auth)
		}
	}
}

func TestGetIssue(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t)

	t.Run("all fields, no properties by default", func(t *testing.T) {
		t.Parallel()
		m := call(t, s, "GET", "/rest/api/2/issue/HD-1", "").json(t)
		f := m["fields"].(map[string]any)
		got := map[string]any{
			"key":      m["key"],
			"summary":  f["summary"],
			"labels":   f["labels"],
			"status":   f["status"].(map[string]any)["name"],
			"reporter": f["reporter"].(map[string]any)["accountId"],
			"assignee": f["assignee"],
			"created":  f["created"],
			"total":    f["comment"].(map[string]any)["total"],
			"comment0": f["comment"].(map[string]any)["comments"].([]any)[0].(map[string]any)["body"],
			"jsd":      f["comment"].(map[string]any)["comments"].([]any)[0].(map[string]any)["jsdPublic"],
		}
		want := map[string]any{
			"key": "HD-1", "summary": "Authenticator lost", "labels": []any{"mfa"}, "status": "Open",
			"reporter": "acc-alice", "assignee": nil, "created": "2025-03-08T09:00:00.000+0000",
			"total": 1.0, "comment0": "Please help", "jsd": true,
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("issue (-want +got):\n%s", diff)
		}
		if _, ok := m["properties"]; ok {
			t.Errorf("properties returned without being asked for")
		}
	})

	tests := []struct {
		name       string
		path       string
		wantFields []string
		wantProps  map[string]any
	}{
		{"fields selection", "/rest/api/2/issue/HD-1?fields=summary,labels", []string{"labels", "summary"}, nil},
		{"exclusion", "/rest/api/2/issue/HD-2?fields=*all,-comment,-description,-creator,-project,-issuetype,-reporter,-assignee,-status,-created,-updated,-priority", []string{"labels", "summary"}, nil},
		{"one property", "/rest/api/2/issue/HD-1?fields=summary&properties=triage", []string{"summary"},
			map[string]any{"triage": map[string]any{"state": "replied", "version": 2.0}}},
		{"all properties by id", "/rest/api/2/issue/10001?fields=summary&properties=*all", []string{"summary"},
			map[string]any{"triage": map[string]any{"state": "replied", "version": 2.0}}},
		{"missing property", "/rest/api/2/issue/hd-2?fields=summary&properties=triage", []string{"summary"}, map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := call(t, s, "GET", tt.path, "").json(t)
			var got []string
			for k := range m["fields"].(map[string]any) {
				got = append(got, k)
			}
			if diff := cmp.Diff(tt.wantFields, got, sortStrings); diff != "" {
				t.Errorf("fields (-want +got):\n%s", diff)
			}
			if tt.wantProps != nil {
				if diff := cmp.Diff(tt.wantProps, m["properties"]); diff != "" {
					t.Errorf("properties (-want +got):\n%s", diff)
				}
			}
		})
	}

	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		r := call(t, s, "GET", "/rest/api/2/issue/HD-99", "")
		want := map[string]any{
			"errorMessages": []any{"Issue does not exist or you do not have permission to see it."},
			"errors":        map[string]any{},
		}
		if r.status != 404 {
			t.Fatalf("status = %d, want 404", r.status)
		}
		if diff := cmp.Diff(want, r.json(t)); diff != "" {
			t.Errorf("404 body (-want +got):\n%s", diff)
		}
	})
}

func TestIssueCommentLimit(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t, WithIssueCommentLimit(1))
	for range 2 {
		if r := call(t, s, "POST", "/rest/api/2/issue/HD-1/comment", `{"body":"more"}`); r.status != 201 {
			t.Fatalf("add comment: %d %s", r.status, r.body)
		}
	}
	c := call(t, s, "GET", "/rest/api/2/issue/HD-1?fields=comment", "").json(t)["fields"].(map[string]any)["comment"].(map[string]any)
	if got := []any{len(c["comments"].([]any)), c["total"]}; !cmp.Equal(got, []any{1, 3.0}) {
		t.Errorf("embedded comments, total = %v, want [1 3]", got)
	}
	page := call(t, s, "GET", "/rest/api/2/issue/HD-1/comment?startAt=1&maxResults=1", "").json(t)
	if got := []any{page["startAt"], page["total"], len(page["comments"].([]any))}; !cmp.Equal(got, []any{1.0, 3.0, 1}) {
		t.Errorf("comment page = %v", got)
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestAddComment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		body         string
		wantStatus   int
		wantInternal bool
		wantErr      map[string]any
	}{
		{name: "public", body: `{"body":"Try re-registering the authenticator."}`, wantStatus: 201},
		{name: "internal via sd.public.comment", body: `{"body":"Evidence: lost phone","properties":[{"key":"sd.public.comment","value":{"internal":true}}]}`,
			wantStatus: 201, wantInternal: true},
		{name: "explicitly public property", body: `{"body":"x","properties":[{"key":"sd.public.comment","value":{"internal":false}}]}`, wantStatus: 201},
		{name: "go-jira v1.17.0 Comment struct", body: `{"author":{"avatarUrls":{}},"body":"x","updateAuthor":{"avatarUrls":{}},"visibility":{}}`,
			wantStatus: 400, wantErr: map[string]any{"errorMessages": []any{invalidPayloadMessage}, "errors": map[string]any{}}},
		{name: "empty visibility only", body: `{"body":"x","visibility":{}}`,
			wantStatus: 400, wantErr: map[string]any{"errorMessages": []any{invalidPayloadMessage}, "errors": map[string]any{}}},
		{name: "empty author only", body: `{"body":"x","author":{}}`,
			wantStatus: 400, wantErr: map[string]any{"errorMessages": []any{invalidPayloadMessage}, "errors": map[string]any{}}},
		{name: "empty body", body: `{"body":"  "}`,
			wantStatus: 400, wantErr: map[string]any{"errorMessages": []any{}, "errors": map[string]any{"comment": "Comment body can not be empty!"}}},
		{name: "ADF body on v2", body: `{"body":{"type":"doc","version":1,"content":[]}}`,
			wantStatus: 400, wantErr: map[string]any{"errorMessages": []any{invalidPayloadMessage}, "errors": map[string]any{}}},
		{name: "not JSON", body: `body=x`,
			wantStatus: 400, wantErr: map[string]any{"errorMessages": []any{invalidPayloadMessage}, "errors": map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := seeded(t)
			r := call(t, s, "POST", "/rest/api/2/issue/HD-2/comment", tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", r.status, tt.wantStatus, r.body)
			}
			cs := s.Comments("HD-2")
			if tt.wantErr != nil {
				if diff := cmp.Diff(tt.wantErr, r.json(t)); diff != "" {
					t.Errorf("error body (-want +got):\n%s", diff)
				}
				if len(cs) != 0 {
					t.Errorf("a rejected comment was stored: %+v", cs)
				}
				return
			}
			if len(cs) != 1 {
				t.Fatalf("comments = %d, want 1", len(cs))
			}
			if cs[0].Internal != tt.wantInternal {
				t.Errorf("Internal = %v, want %v", cs[0].Internal, tt.wantInternal)
			}
			if cs[0].Author.AccountID != DefaultUser.AccountID {
				t.Errorf("author = %q, want the authenticated user", cs[0].Author.AccountID)
			}
			m := r.json(t)
			if m["jsdPublic"] != !tt.wantInternal {
				t.Errorf("jsdPublic = %v, want %v", m["jsdPublic"], !tt.wantInternal)
			}
		})
	}
}

func TestEdit(t *testing.T) {
	t.Parallel()
	t.Run("comment, labels and properties in one call", func(t *testing.T) {
		t.Parallel()
		s, clk := seeded(t)
		clk.Advance(time.Minute)
		body := `{"update":{"labels":[{"add":"triage-mfa"},{"add":"triage-replied"},{"remove":"mfa"}],
			"comment":[{"add":{"body":"Here is how to recover your authenticator."}}]},
			"properties":[{"key":"triage","value":{"state":"replied","version":1}}]}`
		if r := call(t, s, "PUT", "/rest/api/2/issue/HD-2", body); r.status != 204 {
			t.Fatalf("status = %d, body %s", r.status, r.body)
		}
		is, _ := s.Issue("HD-2")
		if diff := cmp.Diff([]string{"triage-mfa", "triage-replied"}, is.Labels); diff != "" {
			t.Errorf("labels (-want +got):\n%s", diff)
		}
		if len(is.Comments) != 1 || is.Comments[0].Body != "Here is how to recover your authenticator." || !is.Comments[0].ViaEdit {
			t.Errorf("comments = %+v", is.Comments)
		}
		p, _ := s.Property("HD-2", "triage")
		if string(p) != `{"state":"replied","version":1}` {
			t.Errorf("property = %s", p)
		}
		if !is.Updated.Equal(clk.Now()) {
			t.Errorf("updated = %v, want %v", is.Updated, clk.Now())
		}
		if diff := cmp.Diff(map[string]int{"HD-2": 1}, s.Writes()); diff != "" {
			t.Errorf("writes (-want +got):\n%s", diff)
		}
	})

	tests := []struct {
		name    string
		body    string
		wantErr map[string]any
	}{
		{"label with a space", `{"update":{"comment":[{"add":{"body":"hi"}}],"labels":[{"add":"bad label"}]}}`,
			map[string]any{"errorMessages": []any{}, "errors": map[string]any{"labels": "The label 'bad label' contains spaces which is invalid."}}},
		{"unknown field", `{"fields":{"customfield_1":"x"},"update":{"labels":[{"add":"ok"}]}}`,
			map[string]any{"errorMessages": []any{}, "errors": map[string]any{"customfield_1": "Field 'customfield_1' cannot be set. It is not on the appropriate screen, or unknown."}}},
		{"property too large", `{"update":{"labels":[{"add":"ok"}]},"properties":[{"key":"triage","value":"` + strings.Repeat("x", maxPropertyValue) + `"}]}`,
			map[string]any{"errorMessages": []any{"The property 'triage' has a value that is too long. The maximum length is 32768 characters."}, "errors": map[string]any{}}},
		{"go-jira empty author in update.comment", `{"update":{"comment":[{"add":{"body":"x","author":{"avatarUrls":{}},"visibility":{}}}]}}`,
			map[string]any{"errorMessages": []any{invalidPayloadMessage}, "errors": map[string]any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, _ := seeded(t)
			before, _ := s.Issue("HD-2")
			r := call(t, s, "PUT", "/rest/api/2/issue/HD-2", tt.body)
			if r.status != 400 {
				t.Fatalf("status = %d, want 400; body %s", r.status, r.body)
			}
			if diff := cmp.Diff(tt.wantErr, r.json(t)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			after, _ := s.Issue("HD-2")
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("a rejected edit changed the issue (-before +after):\n%s", diff)
			}
			if len(s.Writes()) != 0 {
				t.Errorf("a rejected edit counted as a write: %v", s.Writes())
			}
		})
	}

	t.Run("update.comment is public even with sd.public.comment", func(t *testing.T) {
		t.Parallel()
		s, _ := seeded(t)
		body := `{"update":{"comment":[{"add":{"body":"note","properties":[{"key":"sd.public.comment","value":{"internal":true}}]}}]}}`
		if r := call(t, s, "PUT", "/rest/api/2/issue/HD-2", body); r.status != 204 {
			t.Fatalf("status = %d", r.status)
		}
		if c := s.Comments("HD-2")[0]; c.Internal {
			t.Errorf("edit comment stored as internal; the fake must assume the worst")
		}
	})
}

func TestProperties(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t)
	steps := []struct {
		method, path, body string
		wantStatus         int
		wantBody           string
	}{
		{"GET", "/rest/api/2/issue/HD-2/properties/triage", "", 404, `{"errorMessages":["The property with key 'triage' does not exist."],"errors":{}}`},
		{"PUT", "/rest/api/2/issue/HD-2/properties/triage", `{"state":"new"}`, 201, ``},
		{"PUT", "/rest/api/2/issue/HD-2/properties/triage", `{"state":"replied", "n": 1}`, 200, ``},
		{"GET", "/rest/api/2/issue/HD-2/properties/triage", "", 200, `{"key":"triage","value":{"state":"replied","n":1}}`},
		{"PUT", "/rest/api/2/issue/HD-2/properties/triage", `not json`, 400, `{"errorMessages":["The property 'triage' has an invalid value: it must be valid, non-empty JSON."],"errors":{}}`},
		{"PUT", "/rest/api/2/issue/HD-2/properties/big", `"` + strings.Repeat("é", maxPropertyValue) + `"`, 400, `{"errorMessages":["The property 'big' has a value that is too long. The maximum length is 32768 characters."],"errors":{}}`},
		{"PUT", "/rest/api/2/issue/HD-2/properties/" + strings.Repeat("k", 256), `1`, 400, `{"errorMessages":["The property key is too long. The maximum length is 255 characters."],"errors":{}}`},
		{"GET", "/rest/api/2/issue/HD-2/properties", "", 200, ""},
		{"DELETE", "/rest/api/2/issue/HD-2/properties/triage", "", 204, ""},
		{"DELETE", "/rest/api/2/issue/HD-2/properties/triage", "", 404, `{"errorMessages":["The property with key 'triage' does not exist."],"errors":{}}`},
	}
	for i, st := range steps {
		r := call(t, s, st.method, st.path, st.body)
		if r.status != st.wantStatus {
			t.Fatalf("step %d %s %s: status %d, want %d; body %s", i, st.method, st.path[:min(len(st.path), 60)], r.status, st.wantStatus, r.body)
		}
		if st.wantBody != "" {
			if diff := cmp.Diff(st.wantBody, string(r.body)); diff != "" {
				t.Errorf("step %d body (-want +got):\n%s", i, diff)
			}
		}
	}
	if diff := cmp.Diff(map[string]int{"HD-2": 3}, s.Writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
}

func TestTransitionsAndAssignee(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t)
	m := call(t, s, "GET", "/rest/api/2/issue/HD-1/transitions?expand=transitions.fields", "").json(t)
	var names []string
	for _, tr := range m["transitions"].([]any) {
		names = append(names, tr.(map[string]any)["name"].(string))
	}
	if diff := cmp.Diff([]string{"Start Progress", "Wait for customer", "Resolve", "Close"}, names); diff != "" {
		t.Errorf("transitions from Open (-want +got):\n%s", diff)
	}
	if r := call(t, s, "POST", "/rest/api/2/issue/HD-1/transitions", `{"transition":{"id":"31"}}`); r.status != 204 {
		t.Fatalf("transition: %d %s", r.status, r.body)
	}
	if is, _ := s.Issue("HD-1"); is.Status != "Resolved" {
		t.Errorf("status = %q, want Resolved", is.Status)
	}
	r := call(t, s, "POST", "/rest/api/2/issue/HD-1/transitions", `{"transition":{"id":"31"}}`)
	if diff := cmp.Diff(`{"errorMessages":["Transition id '31' is not valid for this issue."],"errors":{}}`, string(r.body)); r.status != 400 || diff != "" {
		t.Errorf("repeated transition: status %d (-want +got):\n%s", r.status, diff)
	}

	assign := []struct {
		body       string
		wantStatus int
		want       *User
	}{
		{`{"accountId":"acc-agent"}`, 204, &agent},
		{`{"name":"ann"}`, 204, &agent},
		{`{"accountId":"acc-ghost"}`, 400, &agent},
		{`{"accountId":null}`, 204, nil},
	}
	for _, a := range assign {
		r := call(t, s, "PUT", "/rest/api/2/issue/HD-1/assignee", a.body)
		if r.status != a.wantStatus {
			t.Fatalf("assign %s: status %d, want %d; %s", a.body, r.status, a.wantStatus, r.body)
		}
		is, _ := s.Issue("HD-1")
		if diff := cmp.Diff(a.want, is.Assignee); diff != "" {
			t.Errorf("assign %s: assignee (-want +got):\n%s", a.body, diff)
		}
	}
}

func TestRoutes(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{"GET", "/rest/api/2/search?jql=project=HD", 410},
		{"POST", "/rest/api/2/search", 410},
		{"GET", "/rest/api/2/nothing", 404},
		{"DELETE", "/rest/api/2/issue/HD-1", 405},
		{"GET", "/rest/api/latest/issue/HD-1", 200},
	}
	for _, tt := range tests {
		if r := call(t, s, tt.method, tt.path, ""); r.status != tt.want {
			t.Errorf("%s %s = %d, want %d (%s)", tt.method, tt.path, r.status, tt.want, r.body)
		}
	}
}

func TestNewHandlerSelfLinks(t *testing.T) {
	t.Parallel()
	h := NewHandler()
	h.AddIssue(Issue{Key: "HD-1", Summary: "x"})
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	resp, err := http.Get(ts.URL + "/rest/api/2/issue/HD-1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if want := ts.URL + "/rest/api/2/issue/" + h.Keys()[0]; !strings.HasPrefix(m["self"].(string), ts.URL) {
		t.Errorf("self = %v, want prefix %s", m["self"], want)
	}
	if h.URL() != "" {
		t.Errorf("URL() = %q for a handler that listens nowhere", h.URL())
	}
	h.Close() // a no-op
}

func TestCallsAndReset(t *testing.T) {
	t.Parallel()
	s, clk := seeded(t)
	call(t, s, "GET", "/rest/api/2/issue/HD-1?fields=summary", "")
	call(t, s, "POST", "/rest/api/2/issue/10001/comment", `{"body":"hello"}`)
	call(t, s, "PUT", "/rest/api/2/issue/HD-1/properties/triage", `{}`)
	got := s.Calls()
	type row struct {
		Method, Path, Query, Issue string
		Status                     int
		Write                      bool
		Body                       string
	}
	var rows []row
	for _, c := range got {
		rows = append(rows, row{c.Method, c.Path, c.Query, c.Issue, c.Status, c.Write, string(c.Body)})
		if !c.Time.Equal(clk.Now()) {
			t.Errorf("call time %v, want the server clock %v", c.Time, clk.Now())
		}
	}
	want := []row{
		{"GET", "/rest/api/2/issue/HD-1", "fields=summary", "HD-1", 200, false, ""},
		{"POST", "/rest/api/2/issue/10001/comment", "", "HD-1", 201, true, `{"body":"hello"}`},
		{"PUT", "/rest/api/2/issue/HD-1/properties/triage", "", "HD-1", 200, true, `{}`},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"HD-1": 2}, s.Writes()); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	s.ClearCalls()
	if n := len(s.Calls()); n != 0 {
		t.Errorf("calls after ClearCalls = %d", n)
	}
	s.FailNext(1, 500)
	s.Reset()
	if _, ok := s.Issue("HD-1"); ok {
		t.Errorf("issue survived Reset")
	}
	if r := call(t, s, "GET", "/rest/api/2/myself", ""); r.status != 200 {
		t.Errorf("queued fault survived Reset: %d", r.status)
	}
}

func TestEditFieldsAndTransitionUpdate(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t, WithTransitions(Transition{ID: "7", Name: "Escalate", To: "Escalated"}))
	steps := []struct {
		method, path, body string
		want               int
	}{
		{"PUT", "/rest/api/2/issue/HD-1", `{"fields":{"summary":"New title","description":null,"labels":["a","b","a"],"assignee":{"accountId":"acc-agent"}}}`, 204},
		{"PUT", "/rest/api/2/issue/HD-1", `{"update":{"summary":[{"set":"Newer title"}],"labels":[{"set":["c"]},{"add":"d"}]}}`, 204},
		{"PUT", "/rest/api/2/issue/HD-1", `{"fields":{"labels":["x"]},"update":{"labels":[{"add":"y"}]}}`, 400},
		{"PUT", "/rest/api/2/issue/HD-1", `{"update":{"labels":[{"frobnicate":"y"}]}}`, 400},
		{"POST", "/rest/api/2/issue/HD-1/transitions", `{"transition":{"id":"7"},"update":{"comment":[{"add":{"body":"Escalated to tier 2"}}]}}`, 204},
		{"POST", "/rest/api/2/issue/HD-1/transitions", `{}`, 400},
	}
	for i, st := range steps {
		if r := call(t, s, st.method, st.path, st.body); r.status != st.want {
			t.Fatalf("step %d: status %d, want %d: %s", i, r.status, st.want, r.body)
		}
	}
	is, _ := s.Issue("HD-1")
	got := []any{is.Summary, is.Description, is.Labels, is.Assignee.AccountID, is.Status, is.Comments[len(is.Comments)-1].Body}
	want := []any{"Newer title", "", []string{"c", "d"}, "acc-agent", "Escalated", "Escalated to tier 2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	r := call(t, s, "PUT", "/rest/api/2/issue/HD-2?returnIssue=true", `{"update":{"labels":[{"add":"z"}]}}`)
	if r.status != 200 || r.json(t)["key"] != "HD-2" {
		t.Errorf("returnIssue: %d %s", r.status, r.body)
	}
}

func TestJQLLocation(t *testing.T) {
	t.Parallel()
	paris, err := time.LoadLocation("Europe/Paris") // time/tzdata is linked in below
	if err != nil {
		t.Fatal(err)
	}
	// 09:00 UTC is 10:00 in Paris in March (UTC+1).
	s, _ := seeded(t, WithLocation(paris))
	got, r := searchKeys(t, s, `updated >= "2025-03-10 09:00" AND project = HD`)
	if r.status != 200 {
		t.Fatal(r.status)
	}
	// HD-2 was updated at 08:30 UTC = 09:30 Paris.
	if diff := cmp.Diff([]string{"HD-2"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	s.AddUser(User{AccountID: "acc-new"})
	if r := call(t, s, "PUT", "/rest/api/2/issue/HD-2/assignee", `{"accountId":"acc-new"}`); r.status != 204 {
		t.Errorf("AddUser: %d", r.status)
	}
	if diff := cmp.Diff([]string{"mfa"}, s.Labels("HD-1")); diff != "" {
		t.Errorf("Labels (-want +got):\n%s", diff)
	}
}
