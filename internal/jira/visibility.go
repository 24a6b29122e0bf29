package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Visibility restricts a comment to a project role or a group, as Jira's
// comment resource takes it: {"type":"role","value":"Administrators"}, or
// {"type":"group","identifier":"<group id>"} (Jira Cloud names groups
// reliably by id only: a group's name can change).
type Visibility struct {
	Type       string `json:"type"`
	Value      string `json:"value,omitempty"`
	Identifier string `json:"identifier,omitempty"`
}

// The visibility types.
const (
	VisibilityRole  = "role"
	VisibilityGroup = "group"
)

// maxVisibilityName bounds a role or group name or id.
const maxVisibilityName = 255

// ParseVisibility reads a visibility setting: "role:<project role>",
// "group:<group name>", "group-id:<group id>" or "role-id:<role id>", e.g.
// "role:Administrators" or "group:helpdesk-agents". The kind is read in any
// case; the name is kept as written. An empty setting is no restriction
// (nil).
func ParseVisibility(s string) (*Visibility, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	const want = "write role:<project role>, group:<group name> or group-id:<group id>, e.g. role:Administrators"
	kind, name, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("internal visibility %q names no role or group: %s", s, want)
	}
	name = strings.TrimSpace(name)
	var v Visibility
	switch strings.ToLower(strings.TrimSpace(kind)) {
	case "role":
		v = Visibility{Type: VisibilityRole, Value: name}
	case "group":
		v = Visibility{Type: VisibilityGroup, Value: name}
	case "role-id":
		v = Visibility{Type: VisibilityRole, Identifier: name}
	case "group-id":
		v = Visibility{Type: VisibilityGroup, Identifier: name}
	default:
		return nil, fmt.Errorf("internal visibility %q: %q is not role, group, role-id or group-id: %s", s, kind, want)
	}
	switch {
	case name == "":
		return nil, fmt.Errorf("internal visibility %q: the %s name is empty: %s", s, kind, want)
	case !utf8.ValidString(name):
		return nil, fmt.Errorf("internal visibility %q: the %s name is not valid UTF-8", s, kind)
	case utf8.RuneCountInString(name) > maxVisibilityName:
		return nil, fmt.Errorf("internal visibility: the %s name is longer than %d characters", kind, maxVisibilityName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return nil, fmt.Errorf("internal visibility %q: the %s name contains a control character", s, kind)
	}
	return &v, nil
}

// String is the setting v was parsed from.
func (v Visibility) String() string {
	if v.Identifier != "" {
		return v.Type + "-id:" + v.Identifier
	}
	return v.Type + ":" + v.Value
}

// The project types (projectTypeKey) the adapter tells apart.
const (
	ProjectServiceDesk = "service_desk"
	ProjectSoftware    = "software"
	ProjectBusiness    = "business"
)

// maxProjectTypes bounds the cache of project types; past it, the cache
// starts again empty (a site with that many projects pays one more read
// per project).
const maxProjectTypes = 1024

// projectKeyRE matches a project key.
var projectKeyRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,254}$`)

// projectTypeTTL is how long a project's type is trusted: a project an
// admin moves to Service Management (or off it) is read again within it.
const projectTypeTTL = time.Hour

// projectTypes caches each project's type for projectTypeTTL, on the
// client's clock.
type projectTypes struct {
	mu sync.Mutex
	m  map[string]projectType
}

type projectType struct {
	t    string
	read time.Time
}

func (p *projectTypes) get(key string, now time.Time) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.m[key]
	if !ok || now.Sub(e.read) >= projectTypeTTL {
		return "", false
	}
	return e.t, true
}

func (p *projectTypes) put(key, t string, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil || len(p.m) >= maxProjectTypes {
		p.m = map[string]projectType{}
	}
	p.m[key] = projectType{t: t, read: now}
}

// ProjectType returns a project's type (projectTypeKey: service_desk,
// software, business, …), read once with GET /project/{key} and then
// cached.
func (c *Client) ProjectType(ctx context.Context, project string) (string, error) {
	project = strings.ToUpper(project)
	if !projectKeyRE.MatchString(project) {
		return "", fmt.Errorf("project type: %w: %q is not a project key such as HD", ErrInvalidInput, project)
	}
	if t, ok := c.projects.get(project, c.now()); ok {
		return t, nil
	}
	var out struct {
		ProjectTypeKey string `json:"projectTypeKey"`
	}
	if err := c.call(ctx, http.MethodGet, "rest/api/2/project/"+project, nil, &out, true); err != nil {
		return "", fmt.Errorf("project type of %s: %w", project, err)
	}
	t := strings.ToLower(strings.TrimSpace(out.ProjectTypeKey))
	c.projects.put(project, t, c.now())
	return t, nil
}

// NoteSkippedError is returned when an internal comment was not posted
// because nothing could keep it from the reporter: its project is not a
// Service Management one (where the sd.public.comment property works) and
// no restricted visibility is configured (Config.InternalVisibility). An
// Edit that returns it has written the rest of the edit.
type NoteSkippedError struct {
	Project string
	Reason  string
}

func (e *NoteSkippedError) Error() string { return "internal note skipped: " + e.Reason }

// private is how an internal comment on an issue of project is kept from
// the reporter: the sd.public.comment property (internal), a restricted
// visibility (vis), or not at all (a *NoteSkippedError). A project whose
// type Jira refuses to tell (403, 404) is taken for one outside Service
// Management: a note must not reach the reporter on a guess.
func (c *Client) private(ctx context.Context, project string) (vis *Visibility, err error) {
	t, err := c.ProjectType(ctx, project)
	switch {
	case err == nil && t == ProjectServiceDesk:
		return nil, nil
	case err != nil && !IsPermanent(err):
		return nil, err
	case c.visibility != nil:
		return c.visibility, nil
	case err != nil:
		var je *Error
		why := err.Error()
		if errors.As(err, &je) {
			why = fmt.Sprintf("Jira answered %d", je.Status)
		}
		return nil, &NoteSkippedError{Project: project, Reason: fmt.Sprintf("the type of project %s could not be read (%s) and TRIAGE_INTERNAL_VISIBILITY is unset", project, why)}
	}
	return nil, &NoteSkippedError{Project: project, Reason: fmt.Sprintf("project %s is not Service Management and TRIAGE_INTERNAL_VISIBILITY is unset", project)}
}
