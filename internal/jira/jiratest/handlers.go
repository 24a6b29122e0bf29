package jiratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

func (s *Server) getIssueLocked(base string, is *Issue, q url.Values) reply {
	fields := selection{all: true}
	if vals := q["fields"]; len(vals) > 0 {
		fields = parseSelection(vals)
	}
	props := parseSelection(q["properties"])
	return jsonReply(http.StatusOK, s.issueJSON(base, is, fields, props))
}

// listCommentsLocked answers GET /issue/{key}/comment with startAt/maxResults
// paging, orderBy=created|-created, and expand=properties.
func (s *Server) listCommentsLocked(base string, is *Issue, q url.Values) reply {
	startAt, err1 := intParam(q, "startAt", 0)
	maxResults, err2 := intParam(q, "maxResults", 5000)
	if err1 != nil || err2 != nil || startAt < 0 {
		return errReply(http.StatusBadRequest, "startAt and maxResults must be non-negative numbers.")
	}
	if maxResults <= 0 || maxResults > 5000 {
		maxResults = 5000
	}
	withProps := slices.Contains(strings.Split(q.Get("expand"), ","), "properties")
	cs := slices.Clone(is.Comments)
	if strings.HasPrefix(q.Get("orderBy"), "-") {
		slices.Reverse(cs)
	}
	end := min(startAt+maxResults, len(cs))
	list := []any{}
	for i := startAt; i < end; i++ {
		list = append(list, s.commentJSON(base, is, &cs[i], withProps))
	}
	return jsonReply(http.StatusOK, map[string]any{
		"startAt":    startAt,
		"maxResults": maxResults,
		"total":      len(cs),
		"comments":   list,
	})
}

func (s *Server) addCommentLocked(base string, is *Issue, body []byte, user User) reply {
	c, rep := parseNewComment(body, user)
	if rep != nil {
		return *rep
	}
	stored := s.postCommentLocked(base, is, c)
	r := jsonReply(http.StatusCreated, s.commentJSON(base, is, stored, true))
	r.write = true
	return r
}

func (s *Server) listPropertiesLocked(base string, is *Issue) reply {
	keys := []any{}
	for _, k := range sortedKeys(is.Properties) {
		keys = append(keys, map[string]string{
			"self": base + "/rest/api/2/issue/" + is.ID + "/properties/" + url.PathEscape(k),
			"key":  k,
		})
	}
	return jsonReply(http.StatusOK, map[string]any{"keys": keys})
}

func (s *Server) getPropertyLocked(is *Issue, prop string) reply {
	v, ok := is.Properties[prop]
	if !ok {
		return errReply(http.StatusNotFound, fmt.Sprintf("The property with key '%s' does not exist.", prop))
	}
	return jsonReply(http.StatusOK, map[string]any{"key": prop, "value": v})
}

func (s *Server) setPropertyLocked(is *Issue, prop string, body []byte) reply {
	if msg := checkProperty(prop, body); msg != "" {
		return errReply(http.StatusBadRequest, msg)
	}
	_, existed := is.Properties[prop]
	s.applyLocked(is, editPlan{properties: map[string]json.RawMessage{prop: compact(body)}})
	if existed {
		return reply{status: http.StatusOK, write: true}
	}
	return reply{status: http.StatusCreated, write: true}
}

func (s *Server) deletePropertyLocked(is *Issue, prop string) reply {
	if _, ok := is.Properties[prop]; !ok {
		return errReply(http.StatusNotFound, fmt.Sprintf("The property with key '%s' does not exist.", prop))
	}
	delete(is.Properties, prop)
	is.Updated = s.now()
	return noContent()
}

// available lists the transitions offered from the issue's current status.
func (s *Server) availableLocked(is *Issue) []Transition {
	var out []Transition
	for _, t := range s.opts.transitions {
		if !strings.EqualFold(t.To, is.Status) {
			out = append(out, t)
		}
	}
	return out
}

func (s *Server) listTransitionsLocked(base string, is *Issue) reply {
	list := []any{}
	for _, t := range s.availableLocked(is) {
		list = append(list, map[string]any{
			"id":            t.ID,
			"name":          t.Name,
			"to":            statusJSON(base, t.To),
			"hasScreen":     false,
			"isGlobal":      true,
			"isInitial":     false,
			"isAvailable":   true,
			"isConditional": false,
			"fields":        map[string]any{},
		})
	}
	return jsonReply(http.StatusOK, map[string]any{"expand": "transitions", "transitions": list})
}

func (s *Server) doTransitionLocked(base string, is *Issue, body []byte, user User) reply {
	var eb editBody
	if err := decodeObject(body, &eb); err != nil {
		return invalidPayload()
	}
	var ref struct {
		ID string `json:"id"`
	}
	if len(eb.Transition) == 0 || json.Unmarshal(eb.Transition, &ref) != nil || ref.ID == "" {
		return errReply(http.StatusBadRequest, "Missing 'transition' identifier")
	}
	var target *Transition
	for _, t := range s.availableLocked(is) {
		if t.ID == ref.ID {
			target = &t
			break
		}
	}
	if target == nil {
		return errReply(http.StatusBadRequest, fmt.Sprintf("Transition id '%s' is not valid for this issue.", ref.ID))
	}
	plan, rep := s.planLocked(eb, user, true)
	if rep != nil {
		return *rep
	}
	plan.status = target.To
	s.changeLocked(base, is, plan, user)
	return noContent()
}

func intParam(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	return strconv.Atoi(v)
}
