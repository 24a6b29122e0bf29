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
	Fields        []string `json:"fields"`
	Properties    []string `json:"properties"`
}

func searchRequestFromQuery(r *http.Request) searchRequest {
	q := r.URL.Query()
	n, _ := strconv.Atoi(q.Get("maxResults"))
	return searchRequest{
		JQL:           q.Get("jql"),
		NextPageToken: q.Get("nextPageToken"),
		MaxResults:    n,
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

// searchLocked answers /search/jql: ids only unless fields are requested,
// nextPageToken paging, isLast, and no total.
func (s *Server) searchLocked(base string, req searchRequest, user User) reply {
	q, err := parseJQL(req.JQL, jqlContext{now: s.now(), loc: s.opts.location, user: user})
	if err != nil {
		return errReply(http.StatusBadRequest, err.Error())
	}
	var matches []*Issue
	for _, is := range s.sortedIssuesLocked() {
		if q.match(is) {
			matches = append(matches, is)
		}
	}
	q.sort(matches)

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
