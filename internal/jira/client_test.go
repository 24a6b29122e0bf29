package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gojira "github.com/andygrunwald/go-jira"
	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

func TestMyself(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		mod        func(*Config)
		wantID     string
		wantStatus int
	}{
		{"cloud basic auth", nil, "acc-bot", 0},
		{"data center PAT", func(c *Config) { c.Email, c.APIToken, c.PAT = "", "", testPAT }, "acc-dc", 0},
		{"wrong API token", func(c *Config) { c.APIToken = "wrong" }, "", 401},
		{"wrong PAT", func(c *Config) { c.Email, c.APIToken, c.PAT = "", "", "wrong" }, "", 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.mod)
			u, err := e.c.Myself(context.Background())
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if u.AccountID != tt.wantID {
					t.Errorf("account = %q, want %q", u.AccountID, tt.wantID)
				}
				return
			}
			// A 401 fails at once, with Jira's message, and is permanent.
			var je *Error
			if !errors.As(err, &je) || je.Status != tt.wantStatus {
				t.Fatalf("err = %v, want a %d *Error", err, tt.wantStatus)
			}
			if diff := cmp.Diff([]string{"Client must be authenticated to access this resource."}, je.Messages); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), "Client must be authenticated") {
				t.Errorf("error text drops Jira's message: %v", err)
			}
			if !IsPermanent(err) || IsRateLimited(err) {
				t.Errorf("IsPermanent=%v IsRateLimited=%v, want true,false", IsPermanent(err), IsRateLimited(err))
			}
			if n := len(e.srv.Calls()); n != 1 {
				t.Errorf("calls = %d, want 1 (no retry on 401)", n)
			}
			if len(e.clk.Sleeps()) != 0 {
				t.Errorf("slept %v before failing", e.clk.Sleeps())
			}
		})
	}
}

func TestBotAccountID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	for range 3 {
		id, err := e.c.BotAccountID(context.Background())
		if err != nil || id != "acc-bot" {
			t.Fatalf("BotAccountID = %q, %v", id, err)
		}
	}
	if diff := cmp.Diff([]string{"GET /rest/api/2/myself"}, e.calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	configured := newEnv(t, func(c *Config) { c.BotAccountID = "acc-configured" })
	if id, _ := configured.c.BotAccountID(context.Background()); id != "acc-configured" || len(configured.calls()) != 0 {
		t.Errorf("configured id: %q after %d calls", id, len(configured.calls()))
	}
}

func TestGetIssue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	is, err := e.c.GetIssue(context.Background(), "HD-1")
	if err != nil {
		t.Fatal(err)
	}
	base := e.clk.Now()
	want := &Issue{
		ID: "10001", Key: "HD-1", Project: "HD",
		Summary: "Authenticator lost", Description: "New phone, no codes",
		Reporter: User{AccountID: "acc-alice", DisplayName: "Alice Reporter", Email: "alice@example.com"},
		Labels:   []string{"mfa"}, Status: "Open",
		Created: base.Add(-48 * time.Hour), Updated: base.Add(-time.Hour),
		Comments: []Comment{
			{ID: "10001", Author: User{AccountID: "acc-alice", DisplayName: "Alice Reporter", Email: "alice@example.com"},
				Body: "Please help", Created: base.Add(-47 * time.Hour), Updated: base.Add(-47 * time.Hour)},
			{ID: "10002", Author: User{AccountID: "acc-agent", Name: "ann", DisplayName: "Ann Agent"},
				Body: "Checking her account", Created: base.Add(-46 * time.Hour), Updated: base.Add(-46 * time.Hour), Internal: true},
		},
		State: json.RawMessage(`{"version":1}`),
	}
	timeEq := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
	if diff := cmp.Diff(want, is, timeEq); diff != "" {
		t.Errorf("issue (-want +got):\n%s", diff)
	}
	calls := e.srv.Calls()
	if len(calls) != 1 || !strings.Contains(calls[0].Query, "properties=triage") {
		t.Errorf("calls = %+v, want one GET with properties=triage", calls)
	}

	t.Run("no state", func(t *testing.T) {
		is, err := e.c.GetIssue(context.Background(), "HD-2")
		if err != nil || is.State != nil || is.Assignee != nil || is.Labels != nil && len(is.Labels) != 0 {
			t.Errorf("HD-2 = %+v, %v", is, err)
		}
	})

	t.Run("not found", func(t *testing.T) {
		_, err := e.c.GetIssue(context.Background(), "HD-404")
		if !IsPermanent(err) || !strings.Contains(err.Error(), "Issue does not exist or you do not have permission to see it.") {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("bad key never reaches Jira", func(t *testing.T) {
		before := len(e.srv.Calls())
		for _, key := range []string{"", "HD-1/../../myself", "HD 1", "HD-1?x=1"} {
			if _, err := e.c.GetIssue(context.Background(), key); !errors.Is(err, ErrInvalidInput) || !IsPermanent(err) {
				t.Errorf("GetIssue(%q) = %v, want ErrInvalidInput", key, err)
			}
		}
		if n := len(e.srv.Calls()) - before; n != 0 {
			t.Errorf("%d calls made for bad keys", n)
		}
	})
}

// TestGetIssueReadsRichText reads an answer whose description and comment
// body are ADF documents and whose id is a number: the answer is read
// leniently, like a webhook (internal/jira/wire), so the bodies come out as
// text instead of failing the read or keeping the JSON.
func TestGetIssueReadsRichText(t *testing.T) {
	t.Parallel()
	adf := func(text string) string {
		return `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"` + text + `"}]}]}`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":10001,"key":"HD-1","fields":{"summary":"Lost phone","description":`+adf("New phone")+
			`,"comment":{"total":1,"comments":[{"id":"10100","jsdPublic":true,"body":`+adf("Please help")+`,"created":"2025-03-10T09:00:00.000+0000"}]}}}`)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{BaseURL: srv.URL, Email: testEmail, APIToken: testToken})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	is, err := c.GetIssue(context.Background(), "HD-1")
	if err != nil {
		t.Fatalf("GetIssue: %v", err)
	}
	want := &Issue{
		ID: "10001", Key: "HD-1", Project: "HD", Summary: "Lost phone", Description: "New phone",
		Comments: []Comment{{ID: "10100", Body: "Please help", Created: time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)}},
	}
	if diff := cmp.Diff(want, is, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("issue (-want, +got):\n%s", diff)
	}
}

func TestGetIssuePagesComments(t *testing.T) {
	t.Parallel()
	clk := newFakeTime()
	srv := jiratest.New(jiratest.WithClock(clk.Now), jiratest.WithIssueCommentLimit(2))
	t.Cleanup(srv.Close)
	var cs []jiratest.Comment
	for i := range 205 {
		cs = append(cs, jiratest.Comment{Author: alice, Body: "c" + strings.Repeat("!", i%3)})
	}
	srv.AddIssue(jiratest.Issue{Key: "HD-9", Summary: "long thread", Comments: cs})
	c, err := New(Config{BaseURL: srv.URL(), PAT: "anything"})
	if err != nil {
		t.Fatal(err)
	}
	is, err := c.GetIssue(context.Background(), "HD-9")
	if err != nil {
		t.Fatal(err)
	}
	if len(is.Comments) != 205 {
		t.Fatalf("comments = %d, want 205", len(is.Comments))
	}
	for i, cm := range is.Comments {
		if want := srv.Comments("HD-9")[i].ID; cm.ID != want {
			t.Fatalf("comment %d id %s, want %s (order kept)", i, cm.ID, want)
		}
	}
	// 1 issue read + 3 comment pages of 100, 100 and 5.
	if n := len(srv.Calls()); n != 4 {
		t.Errorf("calls = %d, want 4", n)
	}
}

func TestAddComment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		internal bool
		wantBody string
	}{
		{"public", false, `{"body":"Open the Authenticator app <and> tap \"Begin recovery\"."}`},
		{"internal", true, `{"body":"Open the Authenticator app <and> tap \"Begin recovery\".","properties":[{"key":"sd.public.comment","value":{"internal":true}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			body := `Open the Authenticator app <and> tap "Begin recovery".`
			cm, err := e.c.AddComment(context.Background(), "HD-2", body, tt.internal)
			if err != nil {
				t.Fatal(err)
			}
			if cm.ID == "" || cm.Internal != tt.internal || cm.Author.AccountID != "acc-bot" || cm.Body != body {
				t.Errorf("comment = %+v", cm)
			}
			calls := e.srv.Calls()
			if tt.internal && len(calls) > 0 && calls[0].Path == "/rest/api/2/project/HD" {
				calls = calls[1:] // the project's type, read once
			}
			if len(calls) != 1 || calls[0].Method != "POST" || calls[0].Path != "/rest/api/2/issue/HD-2/comment" {
				t.Fatalf("calls = %v, want one POST", e.calls())
			}
			var got, want any
			if err := json.Unmarshal(calls[0].Body, &got); err != nil {
				t.Fatal(err)
			}
			_ = json.Unmarshal([]byte(tt.wantBody), &want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("request body (-want +got):\n%s", diff)
			}
			stored := e.srv.Comments("HD-2")
			if len(stored) != 1 || stored[0].Internal != tt.internal {
				t.Errorf("stored = %+v", stored)
			}
		})
	}

	t.Run("empty body is refused before any call", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		if _, err := e.c.AddComment(context.Background(), "HD-2", " \n", false); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("err = %v", err)
		}
		if len(e.srv.Calls()) != 0 {
			t.Errorf("calls = %v", e.calls())
		}
	})
}

// TestGoJiraAddCommentPitfall documents why AddComment does not use go-jira's
// Comment struct: it sends empty author/visibility objects, which Jira Cloud
// (and the fake) reject.
func TestGoJiraAddCommentPitfall(t *testing.T) {
	t.Parallel()
	srv := jiratest.New()
	t.Cleanup(srv.Close)
	srv.AddIssue(jiratest.Issue{Key: "HD-1", Summary: "x"})
	jc, err := gojira.NewClient(nil, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = jc.Issue.AddCommentWithContext(context.Background(), "HD-1", &gojira.Comment{Body: "hello"})
	if err == nil || !strings.Contains(err.Error(), "Invalid request payload") {
		t.Fatalf("go-jira AddComment err = %v, want Invalid request payload", err)
	}
	if got := string(srv.Calls()[0].Body); !strings.Contains(got, `"visibility":{}`) {
		t.Errorf("go-jira sent %s; the pitfall seems gone", got)
	}
	if len(srv.Comments("HD-1")) != 0 {
		t.Errorf("comment stored despite 400")
	}
}

func TestEdit(t *testing.T) {
	t.Parallel()
	state := map[string]any{"state": "replied", "categories": []string{"mfa"}, "version": 2}

	t.Run("public comment, labels and state in one PUT", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		err := e.c.Edit(context.Background(), "HD-2", Edit{
			Comment:    "Here is how to re-register your passkey.",
			AddLabels:  []string{"triage-mfa", "triage-replied"},
			Properties: map[string]any{"triage": state},
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"PUT /rest/api/2/issue/HD-2"}, e.calls()); diff != "" {
			t.Fatalf("calls (-want +got):\n%s", diff)
		}
		var body any
		_ = json.Unmarshal(e.srv.Calls()[0].Body, &body)
		want := map[string]any{
			"update": map[string]any{
				"comment": []any{map[string]any{"add": map[string]any{"body": "Here is how to re-register your passkey."}}},
				"labels":  []any{map[string]any{"add": "triage-mfa"}, map[string]any{"add": "triage-replied"}},
			},
			"properties": []any{map[string]any{"key": "triage", "value": map[string]any{"state": "replied", "categories": []any{"mfa"}, "version": 2.0}}},
		}
		if diff := cmp.Diff(want, body); diff != "" {
			t.Errorf("PUT body (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"triage-mfa", "triage-replied"}, e.srv.Labels("HD-2")); diff != "" {
			t.Errorf("labels (-want +got):\n%s", diff)
		}
		if cs := e.srv.Comments("HD-2"); len(cs) != 1 || cs[0].Internal {
			t.Errorf("comments = %+v", cs)
		}
		if p, _ := e.srv.Property("HD-2", "triage"); string(p) != `{"categories":["mfa"],"state":"replied","version":2}` {
			t.Errorf("state = %s", p)
		}
		if diff := cmp.Diff(map[string]int{"HD-2": 1}, e.srv.Writes()); diff != "" {
			t.Errorf("writes (-want +got):\n%s", diff)
		}
	})

	t.Run("internal comment costs two calls", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		err := e.c.Edit(context.Background(), "HD-2", Edit{
			Comment: "Evidence: lost phone, no backup", Internal: true,
			AddLabels: []string{"triage-escalated"}, RemoveLabels: []string{"mfa"},
			Properties: map[string]any{"triage": state},
		})
		if err != nil {
			t.Fatal(err)
		}
		// the project's type is read once, then cached
		if diff := cmp.Diff([]string{"GET /rest/api/2/project/HD", "POST /rest/api/2/issue/HD-2/comment", "PUT /rest/api/2/issue/HD-2"}, e.calls()); diff != "" {
			t.Fatalf("calls (-want +got):\n%s", diff)
		}
		if cs := e.srv.Comments("HD-2"); len(cs) != 1 || !cs[0].Internal || cs[0].ViaEdit {
			t.Errorf("comments = %+v, want one internal comment from POST /comment", cs)
		}
		if strings.Contains(string(e.srv.Calls()[2].Body), "comment") {
			t.Errorf("PUT carries the comment again: %s", e.srv.Calls()[2].Body)
		}
		if _, ok := e.srv.Property("HD-2", "triage"); !ok {
			t.Errorf("state not written")
		}
	})

	t.Run("internal comment alone is one call", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		for range 2 {
			if err := e.c.Edit(context.Background(), "HD-2", Edit{Comment: "note", Internal: true}); err != nil {
				t.Fatal(err)
			}
		}
		// the project's type is read the first time only
		want := []string{"GET /rest/api/2/project/HD", "POST /rest/api/2/issue/HD-2/comment", "POST /rest/api/2/issue/HD-2/comment"}
		if diff := cmp.Diff(want, e.calls()); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})

	t.Run("partial edit is reported", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *Config) { c.MaxRetryAfter = time.Minute })
		e.srv.SetFaults(jiratest.Faults{IssueWriteLimit: 1, IssueWriteWindow: time.Hour})
		err := e.c.Edit(context.Background(), "HD-2", Edit{Comment: "note", Internal: true, AddLabels: []string{"x"}})
		if !errors.Is(err, ErrPartialEdit) || !IsRateLimited(err) || RetryAfter(err) != time.Hour {
			t.Fatalf("err = %v; want ErrPartialEdit wrapping a 429 with RetryAfter 1h", err)
		}
		if !strings.Contains(err.Error(), "comment 10003") {
			t.Errorf("error does not name the posted comment: %v", err)
		}
	})

	refused := []struct {
		name string
		edit Edit
	}{
		{"label with a space", Edit{AddLabels: []string{"needs human"}}},
		{"empty label", Edit{RemoveLabels: []string{""}}},
		{"internal without comment", Edit{Internal: true, AddLabels: []string{"x"}}},
		{"property too large", Edit{Properties: map[string]any{"triage": strings.Repeat("x", MaxPropertyValueLen)}}},
		{"null property", Edit{Properties: map[string]any{"triage": nil}}},
		{"property key with a slash", Edit{Properties: map[string]any{"a/b": 1}}},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			err := e.c.Edit(context.Background(), "HD-2", tt.edit)
			if !errors.Is(err, ErrInvalidInput) || !IsPermanent(err) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
			if len(e.srv.Calls()) != 0 {
				t.Errorf("calls = %v", e.calls())
			}
		})
	}

	t.Run("empty edit makes no call", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		if err := e.c.Edit(context.Background(), "HD-2", Edit{}); err != nil || len(e.srv.Calls()) != 0 {
			t.Errorf("err = %v, calls = %v", err, e.calls())
		}
	})

	t.Run("Jira's 400 keeps its field errors", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, nil)
		err := e.c.Edit(context.Background(), "HD-404", Edit{AddLabels: []string{"x"}})
		if !IsPermanent(err) || !strings.Contains(err.Error(), "Issue does not exist") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestAddLabels(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	if err := e.c.AddLabels(context.Background(), "HD-1", "triage-needs-human", "mfa"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"mfa", "triage-needs-human"}, e.srv.Labels("HD-1")); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if n := len(e.srv.Calls()); n != 1 {
		t.Errorf("calls = %d, want 1", n)
	}
}

func TestProperties(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := context.Background()
	if _, found, err := e.c.GetProperty(ctx, "HD-2", "triage"); found || err != nil {
		t.Fatalf("missing property: found=%v err=%v", found, err)
	}
	if err := e.c.SetProperty(ctx, "HD-2", "triage", map[string]any{"state": "new"}); err != nil {
		t.Fatal(err)
	}
	v, found, err := e.c.GetProperty(ctx, "HD-2", "triage")
	if err != nil || !found || string(v) != `{"state":"new"}` {
		t.Errorf("GetProperty = %s, %v, %v", v, found, err)
	}
	if diff := cmp.Diff([]string{
		"GET /rest/api/2/issue/HD-2/properties/triage",
		"PUT /rest/api/2/issue/HD-2/properties/triage",
		"GET /rest/api/2/issue/HD-2/properties/triage",
	}, e.calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
	if err := e.c.SetProperty(ctx, "HD-2", "triage", strings.Repeat("é", MaxPropertyValueLen)); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("oversized value: %v", err)
	}
	if err := e.c.SetProperty(ctx, "HD-404", "triage", 1); !IsPermanent(err) {
		t.Errorf("missing issue: %v", err)
	}
}

func TestTransitionByName(t *testing.T) {
	t.Parallel()
	const (
		list = "GET /rest/api/2/issue/HD-1/transitions"
		do   = "POST /rest/api/2/issue/HD-1/transitions"
		read = "GET /rest/api/2/issue/HD-1"
	)
	tests := []struct {
		name       string
		to         string
		wantStatus string
		wantCalls  []string
		wantErr    error
	}{
		{"by transition name", "resolve", "Resolved", []string{list, do}, nil},
		{"by target status", "In Progress", "In Progress", []string{list, do}, nil},
		{"already there", "Open", "Open", []string{list, read}, nil},
		{"unknown", "Teleport", "Open", []string{list, read}, ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			err := e.c.TransitionByName(context.Background(), "HD-1", tt.to)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			is, _ := e.srv.Issue("HD-1")
			if is.Status != tt.wantStatus {
				t.Errorf("status = %q, want %q", is.Status, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.wantCalls, e.calls()); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil && !strings.Contains(err.Error(), `"Resolve" (to Resolved)`) {
				t.Errorf("error does not list the transitions on offer: %v", err)
			}
		})
	}
}

func TestAssign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mod      func(*Config)
		id       string
		wantBody string
		want     *jiratest.User
		wantErr  string
	}{
		{"cloud", nil, "acc-agent", `{"accountId":"acc-agent"}`, &agent, ""},
		{"unassign", nil, "", `{"accountId":null}`, nil, ""},
		{"data center", func(c *Config) { c.Email, c.APIToken, c.PAT = "", "", testPAT }, "ann", `{"name":"ann"}`, &agent, ""},
		{"unknown user", nil, "acc-ghost", `{"accountId":"acc-ghost"}`, nil, "assignee: User 'acc-ghost' cannot be assigned issues."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tt.mod)
			err := e.c.Assign(context.Background(), "HD-2", tt.id)
			if tt.wantErr != "" {
				if !IsPermanent(err) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("err = %v, want a permanent error with %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(string(e.srv.Calls()[0].Body)); got != tt.wantBody {
				t.Errorf("body = %s, want %s", got, tt.wantBody)
			}
			is, _ := e.srv.Issue("HD-2")
			if diff := cmp.Diff(tt.want, is.Assignee); diff != "" {
				t.Errorf("assignee (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchJQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *Config) { c.SearchPageSize = 3 })
	for i := 3; i <= 8; i++ {
		e.srv.AddIssue(jiratest.Issue{Key: "HD-" + itoa(i), Summary: "s", Created: e.clk.Now().Add(time.Duration(i) * time.Minute),
			Updated: e.clk.Now().Add(time.Duration(i) * time.Minute), Labels: []string{"l"}})
	}
	ctx := context.Background()
	var keys []string
	var pages int
	err := e.c.SearchJQL(ctx, `project = HD AND updated >= "2025-03-10 09:00" ORDER BY updated ASC`, nil, func(is []Issue) error {
		pages++
		for _, i := range is {
			keys = append(keys, i.Key)
			if i.Summary != "s" || i.Status != "Open" || i.Updated.IsZero() || i.Project != "HD" {
				t.Errorf("issue fields missing: %+v", i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"HD-3", "HD-4", "HD-5", "HD-6", "HD-7", "HD-8"}, keys); diff != "" {
		t.Errorf("keys (-want +got):\n%s", diff)
	}
	calls := e.srv.Calls()
	if pages != 2 || len(calls) != 2 {
		t.Errorf("pages = %d, calls = %d; want 2 and 2", pages, len(calls))
	}
	for _, c := range calls {
		if c.Path != "/rest/api/2/search/jql" || !strings.Contains(c.Query, "fields=summary") {
			t.Errorf("call %s?%s", c.Path, c.Query)
		}
	}
	if !strings.Contains(calls[1].Query, "nextPageToken=") {
		t.Errorf("second page without nextPageToken: %s", calls[1].Query)
	}

	t.Run("comments and assignee through go-jira", func(t *testing.T) {
		var got []Issue
		err := e.c.SearchJQL(ctx, "key = HD-1", []string{"summary", "comment", "assignee", "reporter"}, func(is []Issue) error {
			got = append(got, is...)
			return nil
		})
		if err != nil || len(got) != 1 {
			t.Fatalf("got %v, %v", got, err)
		}
		is := got[0]
		if len(is.Comments) != 2 || is.Comments[0].Body != "Please help" || is.Comments[0].Created.IsZero() || is.Reporter.AccountID != "acc-alice" {
			t.Errorf("issue = %+v", is)
		}
	})
	t.Run("stop early", func(t *testing.T) {
		n := 0
		err := e.c.SearchJQL(ctx, "project = HD", []string{"summary"}, func([]Issue) error { n++; return ErrStopSearch })
		if err != nil || n != 1 {
			t.Errorf("err = %v after %d pages", err, n)
		}
	})
	t.Run("page function error", func(t *testing.T) {
		boom := errors.New("boom")
		if err := e.c.SearchJQL(ctx, "project = HD", nil, func([]Issue) error { return boom }); !errors.Is(err, boom) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("bad JQL keeps Jira's message", func(t *testing.T) {
		err := e.c.SearchJQL(ctx, "votes > 3", nil, func([]Issue) error { return nil })
		if !IsPermanent(err) || !strings.Contains(err.Error(), "Field 'votes' does not exist") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("state filter in JQL", func(t *testing.T) {
		var got []string
		err := e.c.SearchJQL(ctx, "project = HD AND issue.property[triage].version IS EMPTY AND created < -30m ORDER BY key", nil, func(is []Issue) error {
			for _, i := range is {
				got = append(got, i.Key)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"HD-2"}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestLoggingNeverLeaksSecrets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := zerolog.New(&buf).Level(zerolog.DebugLevel)
	e := newEnv(t, nil, WithLogger(log))
	ctx := context.Background()
	e.srv.FailNext(1, http.StatusBadGateway)
	if _, err := e.c.GetIssue(ctx, "HD-1"); err != nil {
		t.Fatal(err)
	}
	_ = e.c.Edit(ctx, "HD-1", Edit{Comment: "hi", AddLabels: []string{"x"}})
	out := buf.String()
	for _, secret := range []string{testToken, testPAT, "Authorization", "Basic "} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		lines = append(lines, m)
	}
	var calls []string
	for _, m := range lines {
		if m["message"] == "jira call" {
			if _, ok := m["duration"]; !ok || m["level"] != "debug" {
				t.Errorf("call line without duration or not at debug: %v", m)
			}
			calls = append(calls, m["method"].(string)+" "+m["path"].(string)+" "+itoa(int(m["status"].(float64))/100)+"xx")
		}
	}
	want := []string{"GET /rest/api/2/issue/HD-1 5xx", "GET /rest/api/2/issue/HD-1 2xx", "PUT /rest/api/2/issue/HD-1 2xx"}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("logged calls (-want +got):\n%s", diff)
	}
	for _, s := range []string{e.c.Config().String(), mustZerolog(e.c.Config())} {
		if strings.Contains(s, testToken) {
			t.Errorf("config description leaks the token: %s", s)
		}
	}
}

func mustZerolog(c Config) string {
	var buf bytes.Buffer
	l := zerolog.New(&buf)
	l.Info().EmbedObject(c).Msg("")
	return buf.String()
}

// countingTransport counts requests on their way to the network.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func TestWithHTTPTransport(t *testing.T) {
	t.Parallel()
	ct := &countingTransport{}
	e := newEnv(t, nil, WithHTTPTransport(ct))
	e.srv.FailNext(1, 500)
	if _, err := e.c.Myself(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ct.n != 2 {
		t.Errorf("network transport saw %d requests, want 2 (the retry runs above it)", ct.n)
	}
}

// TestZeroLoggerIsSilent: without WithLogger nothing is logged, at any
// level: the zero zerolog.Logger (a RetryTransport's zero value, and what
// New gives the transport) has every level disabled.
func TestZeroLoggerIsSilent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	loggers := []struct {
		name string
		l    zerolog.Logger
	}{
		{"zero zerolog.Logger", zerolog.Logger{}},
		{"RetryTransport zero value", (&RetryTransport{}).Logger},
		{"client made without WithLogger", e.c.rt.Logger},
	}
	levels := []zerolog.Level{zerolog.TraceLevel, zerolog.DebugLevel, zerolog.InfoLevel, zerolog.WarnLevel,
		zerolog.ErrorLevel, zerolog.FatalLevel, zerolog.PanicLevel, zerolog.NoLevel}
	for _, tt := range loggers {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var enabled []string
			for _, lvl := range levels {
				if tt.l.WithLevel(lvl).Enabled() {
					enabled = append(enabled, lvl.String())
				}
			}
			if diff := cmp.Diff([]string(nil), enabled); diff != "" {
				t.Errorf("levels that would log (-want, +got):\n%s", diff)
			}
		})
	}
}
