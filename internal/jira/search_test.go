package jira

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// TestSearchDataCenter: against Data Center, which answers /search/jql
// with 404, the search pages /rest/api/2/search by startAt. FlavorAuto
// learns that from the first 404, once; FlavorDataCenter never asks
// /search/jql; FlavorCloud reports the 404.
func TestSearchDataCenter(t *testing.T) {
	t.Parallel()
	dcBot := jiratest.User{AccountID: "dcbot", DisplayName: "DC Bot", Name: "dcbot"}
	srv := jiratest.New(jiratest.WithFlavor(jiratest.FlavorDataCenter), jiratest.WithPAT(testPAT, dcBot))
	t.Cleanup(srv.Close)
	base := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	var want []string
	for i := 1; i <= 7; i++ {
		k := "DC-" + itoa(i)
		want = append(want, k)
		srv.AddIssue(jiratest.Issue{Key: k, Summary: "s" + itoa(i), Reporter: jiratest.User{AccountID: "alice", Name: "alice", DisplayName: "Alice"},
			Created: base.Add(time.Duration(i) * time.Minute), Updated: base.Add(time.Duration(i) * time.Minute)})
	}
	search := func(t *testing.T, c *Client) ([]string, []string, error) {
		t.Helper()
		srv.ClearCalls()
		var keys []string
		err := c.SearchJQL(context.Background(), "project = DC ORDER BY key ASC", nil, func(is []Issue) error {
			for _, i := range is {
				keys = append(keys, i.Key)
				if i.Summary == "" || i.Reporter.Name != "alice" || i.Updated.IsZero() {
					t.Errorf("issue fields missing: %+v", i)
				}
			}
			return nil
		})
		var calls []string
		for _, c := range srv.Calls() {
			calls = append(calls, c.Path+" "+http.StatusText(c.Status))
		}
		return keys, calls, err
	}
	client := func(flavor string) *Client {
		c, err := New(Config{BaseURL: srv.URL(), PAT: testPAT, SearchPageSize: 3, Flavor: flavor})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	pages := []string{"/rest/api/2/search OK", "/rest/api/2/search OK", "/rest/api/2/search OK"}

	t.Run("auto learns it once", func(t *testing.T) {
		c := client("")
		keys, calls, err := search(t, c)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, keys); d != "" {
			t.Errorf("keys (-want +got):\n%s", d)
		}
		if d := cmp.Diff(append([]string{"/rest/api/2/search/jql Not Found"}, pages...), calls); d != "" {
			t.Errorf("first search's calls (-want +got):\n%s", d)
		}
		if _, calls, err = search(t, c); err != nil || !cmp.Equal(pages, calls) {
			t.Errorf("second search: %v, calls %v; want %v", err, calls, pages)
		}
	})
	t.Run("datacenter", func(t *testing.T) {
		keys, calls, err := search(t, client(FlavorDataCenter))
		if err != nil || !cmp.Equal(want, keys) || !cmp.Equal(pages, calls) {
			t.Errorf("keys %v, calls %v, err %v", keys, calls, err)
		}
		for _, c := range srv.Calls() {
			if !strings.Contains(c.Query, "fields=summary") || (c.Query != "" && !strings.Contains(c.Query, "maxResults=3")) {
				t.Errorf("call %s?%s", c.Path, c.Query)
			}
		}
	})
	t.Run("cloud reports the 404", func(t *testing.T) {
		_, calls, err := search(t, client(FlavorCloud))
		if e, ok := asError(err); !ok || e.Status != http.StatusNotFound || len(calls) != 1 {
			t.Errorf("err %v, calls %v; want the 404 of /search/jql alone", err, calls)
		}
	})
}

func TestConfigFlavor(t *testing.T) {
	t.Parallel()
	cfg := Config{BaseURL: "https://jira.example.com", PAT: "p", Flavor: "server"}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), `jira flavor "server" is not cloud, datacenter or auto`) {
		t.Errorf("Validate = %v", err)
	}
}
