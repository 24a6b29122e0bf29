package jiratest

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The sandbox: what lets a person (or the demo) try the product against
// the fake as against a Jira site. Issues are filed with
// POST /rest/api/2/issue, anyone comments as themselves with the
// X-Sandbox-User header, each project is Service Management or not, every
// change sends the webhooks Jira sends (webhook.go), and a page at / shows
// it all (page.go).

// HeaderSandboxUser names the account a request acts as, without
// authentication, on a server started WithSandbox (a request with an
// Authorization header authenticates as usual). An account the sandbox does
// not know yet is registered on first use.
const HeaderSandboxUser = "X-Sandbox-User"

// ProjectType is a Jira project type (projectTypeKey).
type ProjectType string

// The project types. Only Service Management projects honour the
// sd.public.comment property that makes a comment internal; in the others
// such a comment is public, as in Jira.
const (
	ProjectServiceDesk ProjectType = "service_desk"
	ProjectSoftware    ProjectType = "software"
	ProjectBusiness    ProjectType = "business"
)

// ParseProjectType reads a project type: service_desk (or "jsm",
// "servicedesk", "service-management"), software or business.
func ParseProjectType(s string) (ProjectType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "service_desk", "servicedesk", "service-desk", "service-management", "service_management", "jsm":
		return ProjectServiceDesk, nil
	case "software":
		return ProjectSoftware, nil
	case "business":
		return ProjectBusiness, nil
	}
	return "", fmt.Errorf("project type %q is not service_desk, software or business", s)
}

// WithSandbox turns the sandbox on: the X-Sandbox-User header and the page
// at / (with its forms under /sandbox/).
func WithSandbox() Option { return func(o *options) { o.sandbox = true } }

// WithProject declares a project and its type. Once any project is
// declared, POST /rest/api/2/issue files only into declared ones. A project
// not declared is a Service Management project.
func WithProject(key string, t ProjectType) Option {
	return func(o *options) {
		if !slices.Contains(o.projectOrder, key) {
			o.projectOrder = append(o.projectOrder, key)
		}
		o.projects[key] = t
	}
}

// WithBaseURL sets the base URL of the self links in webhooks (by default
// the URL of New's server, else http://localhost). Answers to requests
// build theirs from the request's Host.
func WithBaseURL(u string) Option {
	return func(o *options) { o.baseURL = strings.TrimRight(u, "/") }
}

// ProjectType returns the type of a project.
func (s *Server) ProjectType(key string) ProjectType {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.projectTypeLocked(key)
}

func (s *Server) projectTypeLocked(key string) ProjectType {
	if t, ok := s.opts.projects[strings.ToUpper(key)]; ok {
		return t
	}
	return ProjectServiceDesk
}

// Projects returns the declared projects' keys, in the order declared.
func (s *Server) Projects() []string { return slices.Clone(s.opts.projectOrder) }

// projectJSON renders a project as issues and GET /project/{key} show it.
func (s *Server) projectJSON(base, key string) map[string]any {
	return map[string]any{
		"self": base + "/rest/api/2/project/" + key, "id": statusID("project " + key), "key": key, "name": key,
		"projectTypeKey": string(s.projectTypeLocked(key)),
	}
}

// getProjectLocked answers GET /rest/api/2/project/{key}: a declared
// project, or one that has issues.
func (s *Server) getProjectLocked(base, key string) reply {
	key = strings.ToUpper(key)
	_, declared := s.opts.projects[key]
	if !declared {
		for _, is := range s.issues {
			if is.Project() == key {
				declared = true
				break
			}
		}
	}
	if !declared {
		return errReply(http.StatusNotFound, fmt.Sprintf("No project could be found with key '%s'.", key))
	}
	return jsonReply(http.StatusOK, s.projectJSON(base, key))
}

var sandboxUserRE = regexp.MustCompile(`^[A-Za-z0-9@._:+-]{1,128}$`)

// sandboxUserLocked is the account X-Sandbox-User names, registered on
// first use (named by its id; on Data Center the id is the user name).
func (s *Server) sandboxUserLocked(id string) (User, bool) {
	if !sandboxUserRE.MatchString(id) {
		return User{}, false
	}
	if u, ok := s.users[id]; ok {
		return u, true
	}
	for _, k := range sortedKeys(s.users) {
		if u := s.users[k]; u.Name != "" && u.Name == id {
			return u, true
		}
	}
	u := User{AccountID: id, DisplayName: id}
	if s.opts.dataCenter() {
		u.Name = id
	}
	s.addUserLocked(u)
	return u, true
}

// CreateIssue files an issue into project as actor, as POST
// /rest/api/2/issue does, and sends its jira:issue_created webhook.
// is.Key, when set, must be in project; empty takes the project's next
// number. The reporter defaults to actor. It returns the stored issue.
func (s *Server) CreateIssue(project string, is Issue, actor User) (Issue, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(actor)
	stored, rep := s.createLocked(s.eventBase(), project, is, actor)
	if rep != nil {
		return Issue{}, fmt.Errorf("jiratest: create an issue in %s: %d %s", project, rep.status, replyText(*rep))
	}
	return stored.clone(), nil
}

var projectKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]{0,9}$`)

// createLocked validates and stores a new issue, then queues its webhook.
func (s *Server) createLocked(base, project string, is Issue, actor User) (*Issue, *reply) {
	project = strings.ToUpper(strings.TrimSpace(project))
	if _, ok := s.opts.projects[project]; !ok && (len(s.opts.projects) > 0 || !projectKeyRE.MatchString(project)) {
		r := fieldErrReply(http.StatusBadRequest, map[string]string{"project": "valid project is required"})
		return nil, &r
	}
	if strings.TrimSpace(is.Summary) == "" {
		r := fieldErrReply(http.StatusBadRequest, map[string]string{"summary": "You must specify a summary of the issue."})
		return nil, &r
	}
	switch {
	case is.Key == "":
		n := 0
		for _, other := range s.issues {
			if other.Project() == project {
				n = max(n, keyNumber(other.Key))
			}
		}
		is.Key = project + "-" + strconv.Itoa(n+1)
	case !strings.HasPrefix(is.Key, project+"-") || !issueKeyRE.MatchString(is.Key):
		r := errReply(http.StatusBadRequest, fmt.Sprintf("The issue key %q is not in project %s.", is.Key, project))
		return nil, &r
	case s.issues[is.Key] != nil:
		r := errReply(http.StatusBadRequest, fmt.Sprintf("An issue with key %s already exists.", is.Key))
		return nil, &r
	}
	if is.Reporter.AccountID == "" && is.Reporter.Name == "" {
		is.Reporter = actor
	}
	if is.IssueType == "" && s.projectTypeLocked(project) != ProjectServiceDesk {
		is.IssueType = "Task"
	}
	is.Created, is.Updated = s.now(), s.now()
	stored := s.addIssueLocked(is)
	if s.hooks.enabled() {
		s.queueLocked("jira:issue_created", stored.Key, s.issueEventLocked(base, "jira:issue_created", "issue_created", stored, &actor))
	}
	return stored, nil
}

// createIssueLocked answers POST /rest/api/2/issue. The fields only a
// creation takes (project, issuetype, reporter) are read here; the others
// as an edit's fields are.
func (s *Server) createIssueLocked(base string, body []byte, user User) reply {
	var req struct {
		Fields map[string]json.RawMessage `json:"fields"`
	}
	if decodeObject(body, &req) != nil || req.Fields == nil {
		return invalidPayload()
	}
	var is Issue
	var ref struct {
		Key, ID, Name, AccountID string
	}
	var project string
	if raw, ok := req.Fields["project"]; ok {
		_ = json.Unmarshal(raw, &ref)
		project = ref.Key
		for _, k := range s.opts.projectOrder {
			if ref.ID != "" && ref.ID == statusID("project "+k) {
				project = k
			}
		}
	}
	if raw, ok := req.Fields["issuetype"]; ok {
		ref.Name = ""
		_ = json.Unmarshal(raw, &ref)
		is.IssueType = ref.Name
	}
	if raw, ok := req.Fields["reporter"]; ok {
		u, msg := s.resolveUserLocked(raw)
		if msg != "" && s.opts.sandbox {
			ref.Name = ""
			_ = json.Unmarshal(raw, &ref)
			if su, ok := s.sandboxUserLocked(cmp.Or(ref.AccountID, ref.Name)); ok {
				u, msg = &su, ""
			}
		}
		if msg != "" {
			return fieldErrReply(http.StatusBadRequest, map[string]string{"reporter": "The reporter specified is not a user."})
		}
		if u != nil {
			is.Reporter = *u
		}
	}
	for _, k := range []string{"project", "issuetype", "reporter"} {
		delete(req.Fields, k)
	}
	plan, rep := s.planLocked(editBody{Fields: req.Fields}, user, false)
	if rep != nil {
		return *rep
	}
	s.applyLocked(&is, plan) // to the new issue, not stored yet
	stored, rep := s.createLocked(base, project, is, user)
	if rep != nil {
		return *rep
	}
	r := jsonReply(http.StatusCreated, map[string]any{"id": stored.ID, "key": stored.Key, "self": base + "/rest/api/2/issue/" + stored.ID})
	r.write = true
	return r
}

// AddComment posts a comment by c.Author, as POST /issue/{key}/comment
// does (c.Internal holds only in a Service Management project, a
// visibility is kept), and sends its webhooks. It returns the stored
// comment.
func (s *Server) AddComment(key string, c Comment) (Comment, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookupLocked(key)
	if is == nil {
		return Comment{}, fmt.Errorf("jiratest: comment on %s: no such issue", key)
	}
	if strings.TrimSpace(c.Body) == "" {
		return Comment{}, fmt.Errorf("jiratest: comment on %s: empty body", key)
	}
	s.addUserLocked(c.Author)
	if c.Internal {
		c.Properties = map[string]json.RawMessage{internalCommentProperty: json.RawMessage(`{"internal":true}`)}
	}
	return s.postCommentLocked(s.eventBase(), is, c).clone(), nil
}

// postCommentLocked stores a comment posted through POST /comment: the
// sd.public.comment property makes it internal only in a Service
// Management project, as in Jira.
func (s *Server) postCommentLocked(base string, is *Issue, c Comment) *Comment {
	c.Internal = isInternal(c.Properties) && s.projectTypeLocked(is.Project()) == ProjectServiceDesk
	s.changeLocked(base, is, editPlan{comments: []Comment{c}}, c.Author)
	return &is.Comments[len(is.Comments)-1]
}

// replyText is the first message of an error reply, for Go errors.
func replyText(r reply) string {
	if e, ok := r.body.(errorBody); ok {
		for _, m := range e.ErrorMessages {
			return m
		}
		for _, k := range sortedKeys(e.Errors) {
			return k + ": " + e.Errors[k]
		}
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(r.body)
	return strings.TrimSpace(buf.String())
}
