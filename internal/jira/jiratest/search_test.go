package jiratest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// searchKeys runs one /search/jql page and returns the keys.
func searchKeys(t *testing.T, s *Server, jql string) ([]string, response) {
	t.Helper()
	r := call(t, s, "GET", "/rest/api/2/search/jql?fields=key&jql="+url.QueryEscape(jql), "")
	if r.status != 200 {
		return nil, r
	}
	var out struct {
		Issues []struct {
			Key string `json:"key"`
		} `json:"issues"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	keys := []string{}
	for _, is := range out.Issues {
		keys = append(keys, is.Key)
	}
	return keys, r
}

func TestSearchJQL(t *testing.T) {
	t.Parallel()
	// The clock is 2025-03-10 09:00 UTC. HD-1 updated 07:00, HD-2 08:30,
	// OPS-7 three days ago. HD-1 has the triage property and label mfa.
	s, _ := seeded(t)
	tests := []struct {
		jql  string
		want []string
	}{
		{``, []string{"HD-1", "HD-2", "OPS-7"}},
		{`project = HD`, []string{"HD-1", "HD-2"}},
		{`project = "hd"`, []string{"HD-1", "HD-2"}},
		{`project in (HD, OPS) ORDER BY key DESC`, []string{"OPS-7", "HD-2", "HD-1"}},
		{`project = HD AND updated >= "2025-03-10 08:00" ORDER BY updated ASC`, []string{"HD-2"}},
		{`project = HD AND updated >= "2025/03/10 07:00" ORDER BY updated ASC`, []string{"HD-1", "HD-2"}},
		{`updated >= "2025-03-10" ORDER BY updated DESC`, []string{"HD-2", "HD-1"}},
		{`created >= -36h`, []string{"HD-2"}},
		{`updated > -1h`, []string{"HD-2"}},
		{`updated < startOfDay()`, []string{"OPS-7"}},
		{`created >= "2025-03-08" AND created < "2025-03-09"`, []string{"HD-1"}},
		{`project = HD AND issue.property[triage].state IS EMPTY`, []string{"HD-2"}},
		{`issue.property[triage].state = replied`, []string{"HD-1"}},
		{`issue.property[triage].version = 2`, []string{"HD-1"}},
		{`issue.property[triage] IS NOT EMPTY`, []string{"HD-1"}},
		{`labels = mfa`, []string{"HD-1"}},
		{`labels IS EMPTY AND project = HD`, []string{"HD-2"}},
		{`labels not in (mfa)`, []string{}},
		{`reporter = acc-alice AND NOT key = HD-1`, []string{"HD-2"}},
		{`reporter = currentUser()`, []string{}},
		{`assignee IS EMPTY AND project = OPS`, []string{"OPS-7"}},
		{`summary ~ "passkey" OR (project = OPS AND status = Open)`, []string{"HD-2", "OPS-7"}},
		{`text ~ "please help"`, []string{"HD-1"}},
		{`status != Open`, []string{}},
		{`issuekey in (HD-2, OPS-7) ORDER BY created ASC`, []string{"OPS-7", "HD-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			t.Parallel()
			got, r := searchKeys(t, s, tt.jql)
			if r.status != 200 {
				t.Fatalf("status %d: %s", r.status, r.body)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchJQLErrors(t *testing.T) {
	t.Parallel()
	s, _ := seeded(t)
	tests := []struct {
		jql  string
		want string
	}{
		{`foo = bar`, "Field 'foo' does not exist or you do not have permission to view it."},
		{`updated >= "yesterday"`, "Date value 'yesterday' for field 'updated' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."},
		{`project HD`, "Error in the JQL Query: Expecting operator but got 'HD'. (line 1, character 9)"},
		{`project = HD extra`, "Error in the JQL Query: Expecting either 'OR' or 'AND' but got 'extra'. (line 1, character 14)"},
		{`summary = x`, "The operator '=' is not supported by the 'summary' field."},
		{`project = HD ORDER BY votes`, "Not able to sort using field 'votes'."},
		{`created > endOfMonth()`, "Unable to find JQL function 'endOfMonth()'."},
		{`project = "HD`, "Error in the JQL Query: The quoted string has no closing quote. (line 1, character 11)"},
	}
	for _, tt := range tests {
		t.Run(tt.jql, func(t *testing.T) {
			t.Parallel()
			_, r := searchKeys(t, s, tt.jql)
			if r.status != 400 {
				t.Fatalf("status %d, want 400", r.status)
			}
			want := map[string]any{"errorMessages": []any{tt.want}, "errors": map[string]any{}}
			if diff := cmp.Diff(want, r.json(t)); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSearchPaging(t *testing.T) {
	t.Parallel()
	clk := newClock()
	s := New(WithClock(clk.Now))
	t.Cleanup(s.Close)
	for i := 1; i <= 7; i++ {
		s.AddIssue(Issue{Key: "HD-" + strconv.Itoa(i), Summary: "t", Created: clk.Now().Add(time.Duration(i) * time.Minute)})
	}

	for _, method := range []string{"GET", "POST"} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			var keys []string
			token := ""
			pages := 0
			for {
				var r response
				if method == "GET" {
					q := url.Values{"jql": {"project = HD ORDER BY created ASC"}, "maxResults": {"3"}, "fields": {"summary,updated"}}
					if token != "" {
						q.Set("nextPageToken", token)
					}
					r = call(t, s, "GET", "/rest/api/2/search/jql?"+q.Encode(), "")
				} else {
					b, _ := json.Marshal(map[string]any{"jql": "project = HD ORDER BY created ASC", "maxResults": 3, "fields": []string{"summary"}, "nextPageToken": token})
					r = call(t, s, "POST", "/rest/api/2/search/jql", string(b))
				}
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				m := r.json(t)
				if _, ok := m["total"]; ok {
					t.Errorf("search/jql must not answer a total")
				}
				pages++
				for _, is := range m["issues"].([]any) {
					keys = append(keys, is.(map[string]any)["key"].(string))
				}
				next, _ := m["nextPageToken"].(string)
				if m["isLast"] == true {
					if next != "" {
						t.Errorf("last page carries nextPageToken %q", next)
					}
					break
				}
				if next == "" {
					t.Fatalf("page %d: not last but no nextPageToken", pages)
				}
				token = next
			}
			if diff := cmp.Diff([]string{"HD-1", "HD-2", "HD-3", "HD-4", "HD-5", "HD-6", "HD-7"}, keys); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if pages != 3 {
				t.Errorf("pages = %d, want 3", pages)
			}
		})
	}

	t.Run("ids only without fields", func(t *testing.T) {
		t.Parallel()
		m := call(t, s, "GET", "/rest/api/2/search/jql?maxResults=1&jql=key%3DHD-1", "").json(t)
		want := map[string]any{"issues": []any{map[string]any{"id": "10001"}}, "isLast": true}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	t.Run("token from another query", func(t *testing.T) {
		t.Parallel()
		m := call(t, s, "GET", "/rest/api/2/search/jql?maxResults=1&jql=project%3DHD", "").json(t)
		tok := m["nextPageToken"].(string)
		r := call(t, s, "GET", "/rest/api/2/search/jql?jql=project%3DOPS&nextPageToken="+url.QueryEscape(tok), "")
		if r.status != 400 || !strings.Contains(string(r.body), "next page token") {
			t.Errorf("status %d body %s, want 400 about the token", r.status, r.body)
		}
	})
}
