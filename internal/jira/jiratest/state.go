package jiratest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

var issueKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*-[1-9][0-9]*$`)

// AddIssue stores a copy of is, replacing any issue with the same key, and
// returns the stored copy with its defaults filled in (ID, Status "Open",
// IssueType "Service Request", Created/Updated from the server clock, comment
// ids). It panics when is.Key is not a Jira issue key such as "HD-12".
func (s *Server) AddIssue(is Issue) Issue {
	if !issueKeyRE.MatchString(is.Key) {
		panic(fmt.Sprintf("jiratest: AddIssue: %q is not an issue key like HD-12", is.Key))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addIssueLocked(is.clone()).clone()
}

// addIssueLocked stores is (which it keeps) with its defaults filled in.
func (s *Server) addIssueLocked(is Issue) *Issue {
	if old, ok := s.issues[is.Key]; ok {
		delete(s.idToKey, old.ID)
	}
	if is.ID == "" {
		s.nextIssueID++
		is.ID = strconv.Itoa(s.nextIssueID)
	} else if n, err := strconv.Atoi(is.ID); err == nil && n > s.nextIssueID {
		s.nextIssueID = n
	}
	if is.Status == "" {
		is.Status = "Open"
	}
	if is.IssueType == "" {
		is.IssueType = "Service Request"
	}
	if is.Created.IsZero() {
		is.Created = s.now()
	}
	if is.Updated.IsZero() {
		is.Updated = is.Created
	}
	for i := range is.Comments {
		c := &is.Comments[i]
		if c.ID == "" {
			s.nextCommentID++
			c.ID = strconv.Itoa(s.nextCommentID)
		} else if n, err := strconv.Atoi(c.ID); err == nil && n > s.nextCommentID {
			s.nextCommentID = n
		}
		if c.Created.IsZero() {
			c.Created = is.Created
		}
		if c.Updated.IsZero() {
			c.Updated = c.Created
		}
		s.addUserLocked(c.Author)
	}
	s.addUserLocked(is.Reporter)
	if is.Assignee != nil {
		s.addUserLocked(*is.Assignee)
	}
	s.issues[is.Key] = &is
	s.idToKey[is.ID] = is.Key
	return &is
}

// AddUser registers a user that issues can be assigned to.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(u)
}

func (s *Server) addUserLocked(u User) {
	if u.AccountID != "" {
		s.users[u.AccountID] = u
	}
}

// Issue returns a copy of the issue with the given key.
func (s *Server) Issue(key string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookupLocked(key)
	if is == nil {
		return Issue{}, false
	}
	return is.clone(), true
}

// Comments returns a copy of the issue's comments, oldest first (nil when the
// issue does not exist).
func (s *Server) Comments(key string) []Comment {
	is, _ := s.Issue(key)
	return is.Comments
}

// Labels returns a copy of the issue's labels.
func (s *Server) Labels(key string) []string {
	is, _ := s.Issue(key)
	return is.Labels
}

// Property returns the raw JSON value of one entity property of the issue.
func (s *Server) Property(key, prop string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is := s.lookupLocked(key)
	if is == nil {
		return nil, false
	}
	v, ok := is.Properties[prop]
	return cloneRaw(v), ok
}

// Keys returns the keys of all stored issues in creation (id) order.
func (s *Server) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.issues))
	for _, is := range s.sortedIssuesLocked() {
		out = append(out, is.Key)
	}
	return out
}

// lookupLocked finds an issue by key (case-insensitively, as Jira does) or id.
func (s *Server) lookupLocked(idOrKey string) *Issue {
	if is, ok := s.issues[idOrKey]; ok {
		return is
	}
	if key, ok := s.idToKey[idOrKey]; ok {
		return s.issues[key]
	}
	for k, is := range s.issues {
		if len(k) == len(idOrKey) && equalFoldASCII(k, idOrKey) {
			return is
		}
	}
	return nil
}

func (s *Server) sortedIssuesLocked() []*Issue {
	out := make([]*Issue, 0, len(s.issues))
	for _, is := range s.issues {
		out = append(out, is)
	}
	slices.SortFunc(out, func(a, b *Issue) int { return compareIDs(a.ID, b.ID) })
	return out
}

func compareIDs(a, b string) int {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	if ea == nil && eb == nil {
		return na - nb
	}
	if a < b {
		return -1
	}
	if a > b {
		return 1
	}
	return 0
}

func equalFoldASCII(a, b string) bool {
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if 'a' <= ca && ca <= 'z' {
			ca -= 'a' - 'A'
		}
		if 'a' <= cb && cb <= 'z' {
			cb -= 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
