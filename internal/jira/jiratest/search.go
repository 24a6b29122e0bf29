package jiratest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
)

// searchRequest holds the parameters of /search/jql (query string or body).
type searchRequest struct {
	JQL           string   `json:"jql"`
	NextPageToken string   `json:"nextPageToken"`
	MaxResults    int      `json:"maxResults"`
	StartAt       int      `json:"startAt"` // Data Center's /search
	Fields        []string `json:"fields"`
	Properties    []string `json:"properties"`
}

func searchRequestFromQuery(r *http.Request) searchRequest {
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("maxResults"))
	start, _ := strconv.Atoi(q.Get("startAt"))
	return searchRequest{
		JQL:           q.Get("jql"),
		NextPageToken: q.Get("nextPageToken"),
		MaxResults:    n,
		StartAt:       start,
		Fields:        q["fields"],
		Properties:    q["properties"],
	}
}

func searchRequestFromBody(body []byte) (searchRequest, error) {
	var req searchRequest
	if err := decodeObject(body, &req); err != nil {
		return req, err
	}
	return req, nil
}

// Page sizes of /search/jql: Jira returns fewer issues per page when fields
// are requested.
const (
	defaultPageSize = 50
	maxPageIDs      = 5000
	maxPageFields   = 100
)

// matchLocked runs the JQL of a search as user: the matching issues in
// the query's order, or the 400 Jira answers to a query it cannot read.
func (s *Server) matchLocked(jql string, user User) ([]*Issue, *reply) {
	q, err := parseJQL(jql, jqlContext{now: s.now(), loc: s.opts.location, user: user})
	if err != nil {
		r := errReply(http.StatusBadRequest, err.Error())
		return nil, &r
	}
	var matches []*Issue
	for _, is := range s.sortedIssuesLocked() {
		if q.match(is) {
			matches = append(matches, is)
		}
	}
	q.sort(matches)
	return matches, nil
}

// searchLocked answers /search/jql: ids only unless fields are requested,
// nextPageToken paging, isLast, and no total.
func (s *Server) searchLocked(base string, req searchRequest, user User) reply {
	matches, rep := s.matchLocked(req.JQL, user)
	if rep != nil {
		return *rep
	}
	fields := parseSelection(req.Fields)
	props := parseSelection(req.Properties)
	limit := maxPageIDs
	if !fields.empty() {
		limit = maxPageFields
	}
	size := req.MaxResults
	if size <= 0 {
		size = defaultPageSize
	}
	size = min(size, limit)

	fp := fingerprint(req.JQL)
	offset := 0
	if req.NextPageToken != "" {
		var err error
		offset, err = decodePageToken(req.NextPageToken, fp)
		if err != nil {
			return errReply(http.StatusBadRequest, "The provided next page token is invalid or expired.")
		}
	}
	offset = min(offset, len(matches))
	end := min(offset+size, len(matches))

	issues := make([]any, 0, end-offset)
	for _, is := range matches[offset:end] {
		if fields.empty() {
			m := map[string]any{"id": is.ID}
			if !props.empty() {
				full := s.issueJSON(base, is, fields, props)
				m["properties"] = full["properties"]
			}
			issues = append(issues, m)
			continue
		}
		issues = append(issues, s.issueJSON(base, is, fields, props))
	}
	out := map[string]any{"issues": issues, "isLast": end >= len(matches)}
	if end < len(matches) {
		out["nextPageToken"] = encodePageToken(end, fp)
	}
	return jsonReply(http.StatusOK, out)
}

// maxPageStartAt is Data Center's cap on maxResults of /search
// (jira.search.views.default.max).
const maxPageStartAt = 1000

// searchStartAtLocked answers Data Center's /search: startAt and
// maxResults paging with a total, and every navigable field unless fields
// are named.
func (s *Server) searchStartAtLocked(base string, req searchRequest, user User) reply {
	matches, rep := s.matchLocked(req.JQL, user)
	if rep != nil {
		return *rep
	}
	if req.StartAt < 0 {
		return errReply(http.StatusBadRequest, "startAt must be a non-negative number.")
	}
	fields := selection{all: true}
	if len(req.Fields) > 0 {
		fields = parseSelection(req.Fields)
	}
	props := parseSelection(req.Properties)
	size := req.MaxResults
	if size <= 0 {
		size = defaultPageSize
	}
	size = min(size, maxPageStartAt)
	offset := min(req.StartAt, len(matches))
	end := min(offset+size, len(matches))
	issues := make([]any, 0, end-offset)
	for _, is := range matches[offset:end] {
		issues = append(issues, s.issueJSON(base, is, fields, props))
	}
	return jsonReply(http.StatusOK, map[string]any{
		"expand":     "schema,names",
		"startAt":    req.StartAt,
		"maxResults": size,
		"total":      len(matches),
		"issues":     issues,
	})
}

func fingerprint(jql string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.TrimSpace(jql)))
	return h.Sum32()
}

func encodePageToken(offset int, fp uint32) string {
	raw, _ := json.Marshal([2]uint64{uint64(offset), uint64(fp)})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodePageToken(tok string, fp uint32) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, err
	}
	var v [2]uint64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, err
	}
	if uint32(v[1]) != fp || v[0] > 1<<31 {
		return 0, fmt.Errorf("token for another query")
	}
	return int(v[0]), nil
}
