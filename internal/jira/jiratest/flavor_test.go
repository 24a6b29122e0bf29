package jiratest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDataCenterSearch: the datacenter flavor answers /search/jql with 404,
// as Data Center does, and /search with startAt paging and a total; Cloud
// the other way round (410 on the old /search).
func TestDataCenterSearch(t *testing.T) {
	t.Parallel()
	dc, _ := seeded(t, WithFlavor(FlavorDataCenter))
	if r := call(t, dc, "GET", "/rest/api/2/search/jql?jql=project%3DHD&fields=key", ""); r.status != 404 {
		t.Errorf("datacenter GET /search/jql = %d, want 404", r.status)
	}
	type page struct {
		StartAt, MaxResults, Total int
		Issues                     []struct {
			Key    string
			Fields struct {
				Summary  string
				Reporter map[string]any
			}
		}
	}
	var keys []string
	for start := 0; ; {
		r := call(t, dc, "GET", "/rest/api/2/search?jql="+url.QueryEscape("project = HD OR project = OPS ORDER BY key ASC")+"&maxResults=2&fields=summary,reporter&startAt="+strconv.Itoa(start), "")
		if r.status != 200 {
			t.Fatalf("datacenter GET /search = %d %s", r.status, r.body)
		}
		var p page
		if err := json.Unmarshal(r.body, &p); err != nil {
			t.Fatal(err)
		}
		if p.Total != 3 || p.StartAt != start || p.MaxResults != 2 {
			t.Errorf("page at %d: startAt %d, maxResults %d, total %d; want %d, 2, 3", start, p.StartAt, p.MaxResults, p.Total, start)
		}
		for _, is := range p.Issues {
			keys = append(keys, is.Key)
			if is.Fields.Summary == "" {
				t.Errorf("%s: no summary", is.Key)
			}
			if _, ok := is.Fields.Reporter["accountId"]; ok || is.Fields.Reporter["name"] == nil {
				t.Errorf("%s: reporter %v, want a Data Center user (name and key, no accountId)", is.Key, is.Fields.Reporter)
			}
		}
		start += len(p.Issues)
		if len(p.Issues) == 0 || start >= p.Total {
			break
		}
	}
	if d := cmp.Diff([]string{"HD-1", "HD-2", "OPS-7"}, keys); d != "" {
		t.Errorf("keys over the pages (-want +got):\n%s", d)
	}
	r := call(t, dc, "POST", "/rest/api/2/search", `{"jql":"project = HD","startAt":1,"maxResults":5}`)
	if r.status != 200 || r.json(t)["total"] != float64(2) || len(r.json(t)["issues"].([]any)) != 1 {
		t.Errorf("datacenter POST /search = %d %s", r.status, r.body)
	}
	if r := call(t, dc, "GET", "/rest/api/2/serverInfo", ""); r.status != 200 || r.json(t)["deploymentType"] != "Server" {
		t.Errorf("datacenter /serverInfo = %d %s", r.status, r.body)
	}
	// Data Center has no jsdPublic: the mark is the comment's property.
	if r := call(t, dc, "GET", "/rest/api/2/issue/HD-1/comment", ""); r.status != 200 || json.Valid(r.body) && containsKey(t, r.body, "jsdPublic") {
		t.Errorf("datacenter comments carry jsdPublic: %s", r.body)
	}

	cloud, _ := seeded(t)
	if r := call(t, cloud, "GET", "/rest/api/2/search?jql=project%3DHD", ""); r.status != 410 {
		t.Errorf("cloud GET /search = %d, want 410", r.status)
	}
	if r := call(t, cloud, "GET", "/rest/api/2/serverInfo", ""); r.status != 200 || r.json(t)["deploymentType"] != "Cloud" {
		t.Errorf("cloud /serverInfo = %d %s", r.status, r.body)
	}
}

func TestParseFlavor(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Flavor{"": FlavorCloud, "Cloud": FlavorCloud, "datacenter": FlavorDataCenter, "DC": FlavorDataCenter, "server": FlavorDataCenter} {
		if got, err := ParseFlavor(in); err != nil || got != want {
			t.Errorf("ParseFlavor(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFlavor("jira"); err == nil {
		t.Error(`ParseFlavor("jira") gave no error`)
	}
}

// containsKey reports whether any object in the JSON document has key.
func containsKey(t *testing.T, doc []byte, key string) bool {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x[key]; ok {
				return true
			}
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		case []any:
			for _, e := range x {
				if walk(e) {
					return true
				}
			}
		}
		return false
	}
	return walk(v)
}
