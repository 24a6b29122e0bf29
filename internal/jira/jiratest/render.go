package jiratest

import (
	"cmp"
	"encoding/json"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// jiraTime is the timestamp layout of Jira's REST API.
const jiraTime = "2006-01-02T15:04:05.000-0700"

func formatTime(t time.Time) string { return t.Format(jiraTime) }

// userJSON renders a user as the flavor does: by accountId on Cloud, by
// name and key on Data Center (whose users have no account id; a user
// without a Name is named by its AccountID there).
func (s *Server) userJSON(base string, u *User) any {
	if u == nil {
		return nil
	}
	tz := s.opts.location.String()
	if s.opts.dataCenter() {
		name := cmp.Or(u.Name, u.AccountID)
		return map[string]any{
			"self":         base + "/rest/api/2/user?username=" + url.QueryEscape(name),
			"name":         name,
			"key":          name,
			"displayName":  u.DisplayName,
			"emailAddress": u.EmailAddress,
			"active":       true,
			"timeZone":     tz,
			"avatarUrls":   map[string]string{"48x48": base + "/secure/useravatar?ownerId=" + url.QueryEscape(name)},
		}
	}
	m := map[string]any{
		"self":         base + "/rest/api/2/user?accountId=" + url.QueryEscape(u.AccountID),
		"accountId":    u.AccountID,
		"accountType":  "atlassian",
		"displayName":  u.DisplayName,
		"emailAddress": u.EmailAddress,
		"active":       true,
		"timeZone":     tz,
		"avatarUrls":   map[string]string{"48x48": base + "/avatar/48.png"},
	}
	if u.Name != "" {
		m["name"] = u.Name
		m["key"] = u.Name
	}
	return m
}

// serverInfo answers GET /serverInfo.
func (s *Server) serverInfo(base string) map[string]any {
	m := map[string]any{
		"baseUrl":        base,
		"version":        "1001.0.0-SNAPSHOT",
		"versionNumbers": []int{1001, 0, 0},
		"deploymentType": "Cloud",
		"buildNumber":    100270,
		"serverTitle":    "Jira (triage sandbox)",
	}
	if s.opts.dataCenter() {
		m["version"], m["versionNumbers"], m["deploymentType"], m["buildNumber"] = "9.12.15", []int{9, 12, 15}, "Server", 9120015
	}
	return m
}

func statusJSON(base, name string) any {
	id := statusID(name)
	cat := map[string]any{"id": 2, "key": "new", "colorName": "blue-gray", "name": "To Do"}
	switch strings.ToLower(name) {
	case "resolved", "closed", "done", "canceled", "cancelled":
		cat = map[string]any{"id": 3, "key": "done", "colorName": "green", "name": "Done"}
	case "in progress", "waiting for customer", "waiting for support", "pending":
		cat = map[string]any{"id": 4, "key": "indeterminate", "colorName": "yellow", "name": "In Progress"}
	}
	return map[string]any{
		"self":           base + "/rest/api/2/status/" + id,
		"description":    "",
		"iconUrl":        base + "/images/icons/statuses/generic.png",
		"name":           name,
		"id":             id,
		"statusCategory": cat,
	}
}

// statusID gives every status name a stable numeric id.
func statusID(name string) string {
	switch strings.ToLower(name) {
	case "open":
		return "1"
	case "in progress":
		return "3"
	case "reopened":
		return "4"
	case "resolved":
		return "5"
	case "closed":
		return "6"
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(name)))
	return strconv.Itoa(10000 + int(h.Sum32()%90000))
}

// commentJSON renders a comment as the flavor does. Cloud reports
// jsdPublic on every comment; Data Center does not (a Service Management
// comment's internal mark is then its sd.public.comment property, shown
// with withProps). A visibility restriction is shown on both.
func (s *Server) commentJSON(base string, is *Issue, c *Comment, withProps bool) map[string]any {
	m := map[string]any{
		"self":         base + "/rest/api/2/issue/" + is.ID + "/comment/" + c.ID,
		"id":           c.ID,
		"author":       s.userJSON(base, &c.Author),
		"body":         c.Body,
		"updateAuthor": s.userJSON(base, &c.Author),
		"created":      formatTime(c.Created),
		"updated":      formatTime(c.Updated),
	}
	if !s.opts.dataCenter() {
		m["jsdPublic"] = !c.Internal
	}
	if len(c.Visibility) > 0 {
		m["visibility"] = c.Visibility
	}
	if withProps {
		props := []map[string]any{}
		for _, k := range sortedKeys(c.Properties) {
			props = append(props, map[string]any{"key": k, "value": c.Properties[k]})
		}
		m["properties"] = props
	}
	return m
}

// selection is a parsed fields= or properties= parameter.
type selection struct {
	all     bool
	named   map[string]bool
	exclude map[string]bool
}

// parseSelection reads Jira's list syntax: comma-separated names, "*all",
// "*navigable", and "-name" to exclude. Several parameters may be given.
func parseSelection(vals []string) selection {
	sel := selection{named: map[string]bool{}, exclude: map[string]bool{}}
	for _, v := range vals {
		for _, f := range strings.Split(v, ",") {
			f = strings.TrimSpace(f)
			switch {
			case f == "":
			case f == "*all" || f == "*navigable":
				sel.all = true
			case strings.HasPrefix(f, "-"):
				sel.exclude[strings.TrimPrefix(f, "-")] = true
			default:
				sel.named[f] = true
			}
		}
	}
	// Only exclusions means "everything but".
	if len(sel.named) == 0 && len(sel.exclude) > 0 {
		sel.all = true
	}
	return sel
}

func (sel selection) has(name string) bool {
	if sel.exclude[name] {
		return false
	}
	return sel.all || sel.named[name]
}

func (sel selection) empty() bool { return !sel.all && len(sel.named) == 0 }

// issueJSON renders an issue like GET /issue/{key} does, with the selected
// fields and, when any are selected, properties.
func (s *Server) issueJSON(base string, is *Issue, fields, props selection) map[string]any {
	m := map[string]any{
		"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id":     is.ID,
		"self":   base + "/rest/api/2/issue/" + is.ID,
		"key":    is.Key,
	}
	f := map[string]any{}
	add := func(name string, v func() any) {
		if fields.has(name) {
			f[name] = v()
		}
	}
	add("summary", func() any { return is.Summary })
	add("description", func() any {
		if is.Description == "" {
			return nil
		}
		return is.Description
	})
	add("reporter", func() any { return s.userJSON(base, &is.Reporter) })
	add("creator", func() any { return s.userJSON(base, &is.Reporter) })
	add("assignee", func() any { return s.userJSON(base, is.Assignee) })
	add("priority", func() any { return map[string]string{"name": cmp.Or(is.Priority, "Medium")} })
	add("labels", func() any {
		if is.Labels == nil {
			return []string{}
		}
		return is.Labels
	})
	add("status", func() any { return statusJSON(base, is.Status) })
	add("created", func() any { return formatTime(is.Created) })
	add("updated", func() any { return formatTime(is.Updated) })
	add("project", func() any { return s.projectJSON(base, is.Project()) })
	add("issuetype", func() any {
		return map[string]any{"self": base + "/rest/api/2/issuetype/10001", "id": "10001", "name": is.IssueType, "subtask": false}
	})
	add("comment", func() any {
		cs := is.Comments
		if lim := s.opts.commentLimit; lim > 0 && len(cs) > lim {
			cs = cs[:lim]
		}
		list := make([]any, 0, len(cs))
		for i := range cs {
			list = append(list, s.commentJSON(base, is, &cs[i], false))
		}
		return map[string]any{
			"comments":   list,
			"self":       base + "/rest/api/2/issue/" + is.ID + "/comment",
			"maxResults": len(list),
			"total":      len(is.Comments),
			"startAt":    0,
		}
	})
	m["fields"] = f
	if !props.empty() {
		p := map[string]json.RawMessage{}
		for k, v := range is.Properties {
			if props.has(k) {
				p[k] = v
			}
		}
		m["properties"] = p
	}
	return m
}
