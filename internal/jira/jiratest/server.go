package jiratest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// maxRequestBody is the largest request body the fake reads; larger ones get 413.
const maxRequestBody = 1 << 20

// Server is a fake Jira. It is an http.Handler; New also runs it on a local
// httptest.Server. All methods are safe for concurrent use.
type Server struct {
	// set once by the options, read-only afterwards
	opts options
	ts   *httptest.Server

	mu            sync.Mutex
	issues        map[string]*Issue // by key
	idToKey       map[string]string
	users         map[string]User // by account id
	nextIssueID   int
	nextCommentID int
	calls         []Call
	faults        Faults
	failQueue     []Fault
	writeTimes    map[string][]time.Time // accepted writes per issue, for the write limit
	rng           *rand.Rand
	hooks         *hookSender // its own lock; queued to under mu
}

var _ http.Handler = (*Server)(nil)

// Option configures a Server.
type Option func(*options)

type options struct {
	now          func() time.Time
	seed         uint64
	basic        map[string]credential // by e-mail
	pats         map[string]User       // by token
	users        []User
	transitions  []Transition
	location     *time.Location
	commentLimit int
	faults       Faults
	flavor       Flavor
	sandbox      bool
	projects     map[string]ProjectType
	projectOrder []string
	baseURL      string
	webhook      webhookTarget
}

type credential struct {
	token string
	user  User
}

// WithClock sets the clock used for timestamps, JQL relative dates, rate-limit
// windows and the call log. The default is time.Now.
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSeed seeds the random source behind fault rates and random latency, so a
// run is repeatable. The default seed is 1.
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = seed } }

// WithBasicAuth accepts HTTP basic auth with email:token (Jira Cloud API token)
// and authenticates such requests as user. Once any credential is configured,
// requests without a valid one get 401.
func WithBasicAuth(email, token string, user User) Option {
	return func(o *options) {
		o.basic[email] = credential{token: token, user: user}
		o.users = append(o.users, user)
	}
}

// WithPAT accepts "Authorization: Bearer token" (a Data Center personal access
// token) and authenticates such requests as user.
func WithPAT(token string, user User) Option {
	return func(o *options) {
		o.pats[token] = user
		o.users = append(o.users, user)
	}
}

// WithUsers registers users that issues can be assigned to. Reporters, assignees
// and comment authors of seeded issues, and the credentials' users, are
// registered automatically.
func WithUsers(users ...User) Option {
	return func(o *options) { o.users = append(o.users, users...) }
}

// WithTransitions replaces DefaultTransitions.
func WithTransitions(ts ...Transition) Option {
	return func(o *options) { o.transitions = append([]Transition(nil), ts...) }
}

// WithLocation sets the time zone in which JQL dates without a zone are read
// (every user's profile zone, reported as their timeZone)
// (Jira uses the searching user's zone). The default is UTC.
func WithLocation(loc *time.Location) Option { return func(o *options) { o.location = loc } }

// WithIssueCommentLimit caps how many comments GET /issue/{key} embeds in its
// comment field (total still counts them all), so that clients must page the
// rest through /comment. Zero, the default, embeds every comment.
func WithIssueCommentLimit(n int) Option { return func(o *options) { o.commentLimit = n } }

// WithFaults sets the initial faults (see SetFaults).
func WithFaults(f Faults) Option { return func(o *options) { o.faults = f } }

// Flavor is the edition of Jira the server answers as.
type Flavor string

// The flavors.
const (
	// FlavorCloud answers as Jira Cloud (the default): /search/jql with
	// nextPageToken paging, the old /search gone (410), users by accountId,
	// jsdPublic on every comment.
	FlavorCloud Flavor = "cloud"
	// FlavorDataCenter answers as Jira Data Center: /search with startAt
	// paging and a total, no /search/jql (404), users by name and key, no
	// jsdPublic (a Service Management comment's internal mark is its
	// sd.public.comment property, read with expand=properties).
	FlavorDataCenter Flavor = "datacenter"
)

// ParseFlavor reads "cloud" or "datacenter" (any case; "dc", "server" and
// "data-center" name Data Center).
func ParseFlavor(s string) (Flavor, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "cloud":
		return FlavorCloud, nil
	case "datacenter", "data-center", "dc", "server":
		return FlavorDataCenter, nil
	}
	return "", fmt.Errorf("flavor %q is not cloud or datacenter", s)
}

// WithFlavor sets the edition the server answers as (default FlavorCloud).
func WithFlavor(f Flavor) Option { return func(o *options) { o.flavor = f } }

// dataCenter reports whether the server answers as Jira Data Center.
func (o options) dataCenter() bool { return o.flavor == FlavorDataCenter }

// New starts a fake Jira on a local httptest.Server. Close it when done.
func New(opts ...Option) *Server {
	s := NewHandler(opts...)
	s.ts = httptest.NewServer(s)
	return s
}

// NewHandler returns a fake Jira that is not listening anywhere: mount it in an
// http.Server of your own. Self links are built from each request's Host.
func NewHandler(opts ...Option) *Server {
	o := options{
		now:         time.Now,
		seed:        1,
		basic:       map[string]credential{},
		pats:        map[string]User{},
		transitions: DefaultTransitions,
		location:    time.UTC,
		flavor:      FlavorCloud,
		projects:    map[string]ProjectType{},
	}
	for _, opt := range opts {
		opt(&o)
	}
	s := &Server{opts: o}
	s.hooks = newHookSender(o.webhook)
	s.resetLocked()
	return s
}

// URL is the base URL of the server started by New ("" for NewHandler).
func (s *Server) URL() string {
	if s.ts == nil {
		return ""
	}
	return s.ts.URL
}

// Close shuts down the server started by New and stops sending webhooks
// (those not sent yet are dropped).
func (s *Server) Close() {
	s.hooks.close()
	if s.ts != nil {
		s.ts.Close()
	}
}

// Reset forgets every issue, call, fault and write window and goes back to the
// state right after New (the options still apply, the random source is reseeded).
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resetLocked()
}

func (s *Server) resetLocked() {
	s.issues = map[string]*Issue{}
	s.idToKey = map[string]string{}
	s.users = map[string]User{}
	for _, u := range s.opts.users {
		s.addUserLocked(u)
	}
	s.nextIssueID = 10000
	s.nextCommentID = 10000
	s.calls = nil
	s.faults = s.opts.faults
	s.failQueue = nil
	s.writeTimes = map[string][]time.Time{}
	s.rng = rand.New(rand.NewPCG(s.opts.seed, s.opts.seed^0x9e3779b97f4a7c15))
}

func (s *Server) now() time.Time { return s.opts.now() }

// reply is what a handler answers; ServeHTTP writes it after the lock is released.
type reply struct {
	status int
	body   any // JSON-encoded unless nil
	header http.Header
	write  bool // a state-changing request that succeeded
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.isPage(r) {
		s.servePage(w, r) // the sandbox's page: not Jira's API, not in the call log
		return
	}
	start := s.now()
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	call := Call{
		Time:   start,
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		Body:   body,
	}
	rt := parseRoute(r.URL.Path)
	call.Issue = rt.key

	var rep reply
	switch {
	case err != nil:
		rep = errReply(http.StatusBadRequest, "Could not read the request body.")
	case len(body) > maxRequestBody:
		rep = errReply(http.StatusRequestEntityTooLarge, "The request body is too large.")
	default:
		s.mu.Lock()
		fault, delay := s.pickFaultLocked(r.Method, r.URL.Path)
		s.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
			}
		}
		s.mu.Lock()
		rep = s.answerLocked(r, rt, body, fault, &call)
		s.mu.Unlock()
	}

	call.Status = rep.status
	call.Write = rep.write
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()

	writeReply(w, rep)
}

// answerLocked decides the reply: faults first, then auth, then the route.
func (s *Server) answerLocked(r *http.Request, rt route, body []byte, fault *firedFault, call *Call) reply {
	if fault != nil {
		call.Fault = fault.Name
		return s.faultReply(*fault)
	}
	user, authDesc, ok := s.authenticate(r)
	call.Auth = authDesc
	if !ok {
		rep := errReply(http.StatusUnauthorized, "Client must be authenticated to access this resource.")
		rep.header = http.Header{
			"WWW-Authenticate":     {`Basic realm="protected-area"`},
			"X-Seraph-Loginreason": {"AUTHENTICATED_FAILED"},
		}
		return rep
	}
	if rt.key != "" {
		if is := s.lookupLocked(rt.key); is != nil {
			rt.key = is.Key
			call.Issue = is.Key
		}
	}
	if isWrite(r.Method) && rt.key != "" {
		if rep, limited := s.issueWriteLimitLocked(rt.key); limited {
			call.Fault = "issue-write-limit"
			return rep
		}
	}
	rep := s.routeLocked(r, rt, body, user)
	if rep.write && rt.key != "" {
		s.writeTimes[rt.key] = append(s.writeTimes[rt.key], s.now())
	}
	return rep
}

func isWrite(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

func writeReply(w http.ResponseWriter, rep reply) {
	for k, vs := range rep.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if rep.body == nil {
		w.WriteHeader(rep.status)
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep.body); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(rep.status)
	_, _ = w.Write(buf.Bytes())
}

// route is a parsed REST path.
type route struct {
	kind string // see the constants below
	key  string // issue id or key from the path
	prop string // property key from the path
}

const (
	routeUnknown     = ""
	routeMyself      = "myself"
	routeServerInfo  = "serverInfo"
	routeSearchOld   = "search"
	routeSearchJQL   = "search/jql"
	routeIssue       = "issue"
	routeComments    = "comments"
	routeProperties  = "properties"
	routeProperty    = "property"
	routeTransitions = "transitions"
	routeAssignee    = "assignee"
	routeCreate      = "create"
	routeProject     = "project"
)

func parseRoute(path string) route {
	var rest string
	switch {
	case strings.HasPrefix(path, "/rest/api/2/"):
		rest = strings.TrimPrefix(path, "/rest/api/2/")
	case strings.HasPrefix(path, "/rest/api/latest/"):
		rest = strings.TrimPrefix(path, "/rest/api/latest/")
	default:
		return route{}
	}
	seg := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	switch {
	case len(seg) == 1 && seg[0] == "myself":
		return route{kind: routeMyself}
	case len(seg) == 1 && seg[0] == "serverInfo":
		return route{kind: routeServerInfo}
	case len(seg) == 1 && seg[0] == "search":
		return route{kind: routeSearchOld}
	case len(seg) == 2 && seg[0] == "search" && seg[1] == "jql":
		return route{kind: routeSearchJQL}
	case len(seg) == 1 && seg[0] == "issue":
		return route{kind: routeCreate}
	case len(seg) == 2 && seg[0] == "project" && seg[1] != "":
		return route{kind: routeProject, prop: seg[1]}
	case len(seg) >= 2 && seg[0] == "issue" && seg[1] != "":
		rt := route{key: seg[1]}
		switch {
		case len(seg) == 2:
			rt.kind = routeIssue
		case len(seg) == 3 && seg[2] == "comment":
			rt.kind = routeComments
		case len(seg) == 3 && seg[2] == "properties":
			rt.kind = routeProperties
		case len(seg) == 4 && seg[2] == "properties" && seg[3] != "":
			rt.kind, rt.prop = routeProperty, seg[3]
		case len(seg) == 3 && seg[2] == "transitions":
			rt.kind = routeTransitions
		case len(seg) == 3 && seg[2] == "assignee":
			rt.kind = routeAssignee
		default:
			return route{}
		}
		return rt
	}
	return route{}
}

// routeLocked dispatches an authenticated request.
func (s *Server) routeLocked(r *http.Request, rt route, body []byte, user User) reply {
	base := baseURL(r)
	method := r.Method
	switch rt.kind {
	case routeMyself:
		if method != http.MethodGet {
			return methodNotAllowed()
		}
		return jsonReply(http.StatusOK, s.userJSON(base, &user))
	case routeServerInfo:
		if method != http.MethodGet {
			return methodNotAllowed()
		}
		return jsonReply(http.StatusOK, s.serverInfo(base))
	case routeSearchOld:
		if !s.opts.dataCenter() {
			return errReply(http.StatusGone, "The requested API has been removed. Please migrate to the /rest/api/2/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
		}
		return s.searchRoute(r, body, user, s.searchStartAtLocked)
	case routeSearchJQL:
		if s.opts.dataCenter() {
			return errReply(http.StatusNotFound, "null for uri: "+base+r.URL.RequestURI())
		}
		return s.searchRoute(r, body, user, s.searchLocked)
	case routeCreate:
		if method != http.MethodPost {
			return methodNotAllowed()
		}
		return s.createIssueLocked(base, body, user)
	case routeProject:
		if method != http.MethodGet {
			return methodNotAllowed()
		}
		return s.getProjectLocked(base, rt.prop)
	case routeUnknown:
		return errReply(http.StatusNotFound, "null for uri: "+base+r.URL.RequestURI())
	}

	is := s.lookupLocked(rt.key)
	if is == nil {
		return errReply(http.StatusNotFound, "Issue does not exist or you do not have permission to see it.")
	}
	q := r.URL.Query()
	switch rt.kind {
	case routeIssue:
		switch method {
		case http.MethodGet:
			return s.getIssueLocked(base, is, q)
		case http.MethodPut:
			return s.editIssueLocked(base, is, body, user, q)
		}
	case routeComments:
		switch method {
		case http.MethodGet:
			return s.listCommentsLocked(base, is, q)
		case http.MethodPost:
			return s.addCommentLocked(base, is, body, user)
		}
	case routeProperties:
		if method == http.MethodGet {
			return s.listPropertiesLocked(base, is)
		}
	case routeProperty:
		switch method {
		case http.MethodGet:
			return s.getPropertyLocked(is, rt.prop)
		case http.MethodPut:
			return s.setPropertyLocked(is, rt.prop, body)
		case http.MethodDelete:
			return s.deletePropertyLocked(is, rt.prop)
		}
	case routeTransitions:
		switch method {
		case http.MethodGet:
			return s.listTransitionsLocked(base, is)
		case http.MethodPost:
			return s.doTransitionLocked(base, is, body, user)
		}
	case routeAssignee:
		if method == http.MethodPut {
			return s.assignLocked(base, is, body, user)
		}
	}
	return methodNotAllowed()
}

// searchRoute reads a search from the query (GET) or the body (POST) and
// runs it with search.
func (s *Server) searchRoute(r *http.Request, body []byte, user User, search func(base string, req searchRequest, user User) reply) reply {
	switch r.Method {
	case http.MethodGet:
		return search(baseURL(r), searchRequestFromQuery(r), user)
	case http.MethodPost:
		req, err := searchRequestFromBody(body)
		if err != nil {
			return invalidPayload()
		}
		return search(baseURL(r), req, user)
	}
	return methodNotAllowed()
}

func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
