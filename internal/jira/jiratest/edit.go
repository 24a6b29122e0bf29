package jiratest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits Jira applies to entity properties and labels.
const (
	maxPropertyKey   = 255
	maxPropertyValue = 32768
	maxLabel         = 255
)

// internalCommentProperty marks a Jira Service Management comment as internal
// when its value is {"internal": true}.
const internalCommentProperty = "sd.public.comment"

// editPlan is a validated set of changes, applied all at once or not at all.
type editPlan struct {
	summary     *string
	description *string
	setLabels   []string
	labelsSet   bool
	addLabels   []string
	rmLabels    []string
	assignee    **User
	priority    string
	comments    []Comment
	properties  map[string]json.RawMessage
	status      string
}

// editBody is the request body of PUT /issue/{key} and POST /transitions.
type editBody struct {
	Fields     map[string]json.RawMessage   `json:"fields"`
	Update     map[string][]json.RawMessage `json:"update"`
	Properties []json.RawMessage            `json:"properties"`
	Transition json.RawMessage              `json:"transition"`
}

func (s *Server) editIssueLocked(base string, is *Issue, body []byte, user User, q url.Values) reply {
	var eb editBody
	if err := decodeObject(body, &eb); err != nil {
		return invalidPayload()
	}
	plan, rep := s.planLocked(eb, user, true)
	if rep != nil {
		return *rep
	}
	s.changeLocked(base, is, plan, user)
	if q.Get("returnIssue") == "true" {
		r := jsonReply(http.StatusOK, s.issueJSON(base, is, selection{all: true}, selection{}))
		r.write = true
		return r
	}
	return noContent()
}

// planLocked validates the fields, update and properties of an edit or a
// transition. Nothing is changed; a non-nil reply is the 400 to answer.
func (s *Server) planLocked(eb editBody, user User, allowProperties bool) (editPlan, *reply) {
	var plan editPlan
	fieldErrs := map[string]string{}
	for name := range eb.Fields {
		if _, both := eb.Update[name]; both {
			fieldErrs[name] = fmt.Sprintf("Field '%s' cannot be set in both 'fields' and 'update'.", name)
		}
	}
	for _, name := range sortedKeys(eb.Fields) {
		raw := eb.Fields[name]
		switch name {
		case "summary":
			var v string
			if json.Unmarshal(raw, &v) != nil || strings.TrimSpace(v) == "" {
				fieldErrs[name] = "You must specify a summary of the issue."
				continue
			}
			plan.summary = &v
		case "description":
			var v *string
			if json.Unmarshal(raw, &v) != nil {
				fieldErrs[name] = "Operation value must be a string"
				continue
			}
			d := ""
			if v != nil {
				d = *v
			}
			plan.description = &d
		case "labels":
			v, msg := parseLabels(raw)
			if msg != "" {
				fieldErrs[name] = msg
				continue
			}
			plan.setLabels, plan.labelsSet = v, true
		case "priority":
			p, msg := parsePriority(raw)
			if msg != "" {
				fieldErrs[name] = msg
				continue
			}
			plan.priority = p
		case "assignee":
			u, msg := s.resolveUserLocked(raw)
			if msg != "" {
				fieldErrs[name] = msg
				continue
			}
			plan.assignee = &u
		default:
			fieldErrs[name] = fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", name)
		}
	}
	for _, name := range sortedKeys(eb.Update) {
		ops := eb.Update[name]
		for _, raw := range ops {
			var op map[string]json.RawMessage
			if json.Unmarshal(raw, &op) != nil || len(op) != 1 {
				fieldErrs[name] = "Each update operation must be an object with exactly one operation."
				continue
			}
			verb, arg := onlyEntry(op)
			switch {
			case name == "labels" && (verb == "add" || verb == "remove"):
				var l string
				if json.Unmarshal(arg, &l) != nil {
					fieldErrs[name] = "Operation value must be a string"
					continue
				}
				if verb == "add" {
					if msg := checkLabels([]string{l}); msg != "" {
						fieldErrs[name] = msg
						continue
					}
					plan.addLabels = append(plan.addLabels, l)
				} else {
					plan.rmLabels = append(plan.rmLabels, l)
				}
			case name == "labels" && verb == "set":
				v, msg := parseLabels(arg)
				if msg != "" {
					fieldErrs[name] = msg
					continue
				}
				plan.setLabels, plan.labelsSet = v, true
			case name == "comment" && verb == "add":
				c, rep := parseNewComment(arg, user)
				if rep != nil {
					return plan, rep
				}
				c.ViaEdit = true
				// Jira does not document that update.comment honours
				// sd.public.comment, so such a comment is public here.
				c.Internal = false
				plan.comments = append(plan.comments, c)
			case (name == "summary" || name == "description") && verb == "set":
				var v string
				if json.Unmarshal(arg, &v) != nil {
					fieldErrs[name] = "Operation value must be a string"
					continue
				}
				if name == "summary" {
					plan.summary = &v
				} else {
					plan.description = &v
				}
			case name == "labels" || name == "comment" || name == "summary" || name == "description":
				fieldErrs[name] = fmt.Sprintf("Operation '%s' is not supported for field '%s'.", verb, name)
			default:
				fieldErrs[name] = fmt.Sprintf("Field '%s' cannot be set. It is not on the appropriate screen, or unknown.", name)
			}
		}
	}
	if len(fieldErrs) > 0 {
		r := fieldErrReply(http.StatusBadRequest, fieldErrs)
		return plan, &r
	}
	if len(eb.Properties) > 0 {
		if !allowProperties {
			r := invalidPayload()
			return plan, &r
		}
		props, msg := parseProperties(eb.Properties)
		if msg != "" {
			r := errReply(http.StatusBadRequest, msg)
			return plan, &r
		}
		plan.properties = props
	}
	return plan, nil
}

func (s *Server) applyLocked(is *Issue, plan editPlan) {
	now := s.now()
	if plan.summary != nil {
		is.Summary = *plan.summary
	}
	if plan.description != nil {
		is.Description = *plan.description
	}
	if plan.labelsSet {
		is.Labels = uniqueLabels(plan.setLabels)
	}
	for _, l := range plan.addLabels {
		if !slices.Contains(is.Labels, l) {
			is.Labels = append(is.Labels, l)
		}
	}
	if len(plan.rmLabels) > 0 {
		is.Labels = slices.DeleteFunc(is.Labels, func(l string) bool { return slices.Contains(plan.rmLabels, l) })
	}
	if plan.assignee != nil {
		is.Assignee = *plan.assignee
	}
	if plan.priority != "" {
		is.Priority = plan.priority
	}
	for _, c := range plan.comments {
		s.nextCommentID++
		c.ID = strconv.Itoa(s.nextCommentID)
		c.Created, c.Updated = now, now
		is.Comments = append(is.Comments, c)
	}
	for k, v := range plan.properties {
		if is.Properties == nil {
			is.Properties = map[string]json.RawMessage{}
		}
		is.Properties[k] = v
	}
	if plan.status != "" {
		is.Status = plan.status
	}
	is.Updated = now
}

// parseNewComment validates a comment body as POST /comment and update.comment
// take it. Like Jira Cloud it rejects the empty author/updateAuthor/visibility
// objects that go-jira v1.17.0's Comment struct always sends.
func parseNewComment(raw json.RawMessage, author User) (Comment, *reply) {
	var m map[string]json.RawMessage
	if decodeObject(raw, &m) != nil {
		r := invalidPayload()
		return Comment{}, &r
	}
	for _, k := range []string{"author", "updateAuthor"} {
		if v, ok := m[k]; ok && isEmptyUser(v) {
			r := invalidPayload()
			return Comment{}, &r
		}
	}
	var c Comment
	if v, ok := m["visibility"]; ok && !isNull(v) {
		var vis struct {
			Type       string `json:"type"`
			Value      string `json:"value"`
			Identifier string `json:"identifier"`
		}
		if json.Unmarshal(v, &vis) != nil || vis.Type == "" || (vis.Value == "" && vis.Identifier == "") {
			r := invalidPayload()
			return Comment{}, &r
		}
		c.Visibility = compact(v)
	}
	bodyRaw, ok := m["body"]
	if ok && len(bytes.TrimSpace(bodyRaw)) > 0 && bytes.TrimSpace(bodyRaw)[0] == '{' {
		// An ADF document: REST v2 wants wiki markup.
		r := invalidPayload()
		return Comment{}, &r
	}
	var body string
	if ok && json.Unmarshal(bodyRaw, &body) != nil {
		r := invalidPayload()
		return Comment{}, &r
	}
	if strings.TrimSpace(body) == "" {
		r := fieldErrReply(http.StatusBadRequest, map[string]string{"comment": "Comment body can not be empty!"})
		return Comment{}, &r
	}
	c.Body = body
	c.Author = author
	if v, ok := m["properties"]; ok && !isNull(v) {
		var list []json.RawMessage
		if json.Unmarshal(v, &list) != nil {
			r := invalidPayload()
			return Comment{}, &r
		}
		props, msg := parseProperties(list)
		if msg != "" {
			r := errReply(http.StatusBadRequest, msg)
			return Comment{}, &r
		}
		c.Properties = props
		c.Internal = isInternal(props)
	}
	return c, nil
}

// isInternal reports whether the sd.public.comment property says internal.
func isInternal(props map[string]json.RawMessage) bool {
	v, ok := props[internalCommentProperty]
	if !ok {
		return false
	}
	var p struct {
		Internal bool `json:"internal"`
	}
	return json.Unmarshal(v, &p) == nil && p.Internal
}

// isEmptyUser is true for a user object that names nobody, such as {} or
// {"avatarUrls":{}}.
func isEmptyUser(raw json.RawMessage) bool {
	if isNull(raw) {
		return false
	}
	var u struct {
		AccountID string `json:"accountId"`
		Name      string `json:"name"`
		Key       string `json:"key"`
	}
	if json.Unmarshal(raw, &u) != nil {
		return true
	}
	return u.AccountID == "" && u.Name == "" && u.Key == ""
}

// parseProperties validates [{"key":..,"value":..}] entity properties.
func parseProperties(list []json.RawMessage) (map[string]json.RawMessage, string) {
	out := map[string]json.RawMessage{}
	for _, raw := range list {
		var p struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		if json.Unmarshal(raw, &p) != nil {
			return nil, invalidPayloadMessage
		}
		if msg := checkProperty(p.Key, p.Value); msg != "" {
			return nil, msg
		}
		out[p.Key] = compact(p.Value)
	}
	return out, ""
}

// checkProperty applies Jira's entity property limits.
func checkProperty(key string, value []byte) string {
	switch {
	case key == "":
		return "The property key cannot be empty."
	case utf8.RuneCountInString(key) > maxPropertyKey:
		return fmt.Sprintf("The property key is too long. The maximum length is %d characters.", maxPropertyKey)
	case len(bytes.TrimSpace(value)) == 0 || isNull(value) || !json.Valid(value):
		return fmt.Sprintf("The property '%s' has an invalid value: it must be valid, non-empty JSON.", key)
	case utf8.RuneCount(value) > maxPropertyValue:
		return fmt.Sprintf("The property '%s' has a value that is too long. The maximum length is %d characters.", key, maxPropertyValue)
	}
	return ""
}

func checkLabels(ls []string) string {
	for _, l := range ls {
		switch {
		case l == "":
			return "A label cannot be empty."
		case strings.IndexFunc(l, unicode.IsSpace) >= 0:
			return fmt.Sprintf("The label '%s' contains spaces which is invalid.", l)
		case utf8.RuneCountInString(l) > maxLabel:
			return fmt.Sprintf("The label '%s' exceeds the maximum length for a label of %d characters.", l, maxLabel)
		}
	}
	return ""
}

func uniqueLabels(ls []string) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// resolveUserLocked reads {"accountId":..} (Cloud) or {"name":..} (Data
// Center); null or accountId "-1" unassigns.
func (s *Server) resolveUserLocked(raw json.RawMessage) (*User, string) {
	if isNull(raw) {
		return nil, ""
	}
	var ref struct {
		AccountID *string `json:"accountId"`
		Name      *string `json:"name"`
	}
	if json.Unmarshal(raw, &ref) != nil {
		return nil, "Could not read the user."
	}
	switch {
	case ref.AccountID != nil:
		id := *ref.AccountID
		if id == "-1" {
			return nil, ""
		}
		if u, ok := s.users[id]; ok {
			return &u, ""
		}
		return nil, fmt.Sprintf("User '%s' cannot be assigned issues.", id)
	case ref.Name != nil:
		for _, id := range sortedKeys(s.users) {
			u := s.users[id]
			if u.Name != "" && u.Name == *ref.Name || s.opts.dataCenter() && u.Name == "" && u.AccountID == *ref.Name {
				return &u, ""
			}
		}
		return nil, fmt.Sprintf("User '%s' cannot be assigned issues.", *ref.Name)
	}
	return nil, ""
}

func (s *Server) assignLocked(base string, is *Issue, body []byte, user User) reply {
	if len(bytes.TrimSpace(body)) == 0 {
		return invalidPayload()
	}
	if !isNull(body) {
		var m map[string]json.RawMessage
		if decodeObject(body, &m) != nil {
			return invalidPayload()
		}
	}
	u, msg := s.resolveUserLocked(body)
	if msg != "" {
		return fieldErrReply(http.StatusBadRequest, map[string]string{"assignee": msg})
	}
	s.changeLocked(base, is, editPlan{assignee: &u}, user)
	return noContent()
}

func decodeObject(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("not a JSON object")
	}
	return json.Unmarshal(data, v)
}

func isNull(raw []byte) bool { return string(bytes.TrimSpace(raw)) == "null" }

func compact(raw []byte) json.RawMessage {
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return cloneRaw(raw)
	}
	return buf.Bytes()
}

func onlyEntry(m map[string]json.RawMessage) (string, json.RawMessage) {
	for k, v := range m {
		return k, v
	}
	return "", nil
}

// parsePriority reads a priority value, {"name": one of Priorities}; msg
// is Jira's complaint otherwise.
func parsePriority(raw json.RawMessage) (name, msg string) {
	var v struct {
		Name string `json:"name"`
	}
	if json.Unmarshal(raw, &v) != nil || !slices.Contains(Priorities, v.Name) {
		return "", "Specify the Priority (name) in the string format"
	}
	return v.Name, ""
}

// parseLabels reads a labels value as Jira does: an array of strings, each
// a valid label; msg is Jira's complaint otherwise.
func parseLabels(raw json.RawMessage) (labels []string, msg string) {
	if json.Unmarshal(raw, &labels) != nil {
		return nil, "Operation value must be an array of strings"
	}
	return labels, checkLabels(labels)
}
