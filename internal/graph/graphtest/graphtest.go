// Package graphtest is a faithful fake of the Microsoft Graph endpoints the
// MFA reset calls, for tests and the demo: users (by user principal name
// or object id, with $select), authentication methods of every type in
// Graph's own shapes, their deletion, revokeSignInSessions and the
// Temporary Access Pass (created in Graph's shape, replacing the user's
// earlier pass). It answers as Graph does when something is wrong: 401
// without the bearer token, 403 with Graph's error JSON when the app lacks
// a permission (Permissions), 404 for an unknown user or method, 400 for
// signInActivity asked by name rather than object id, and, on demand, 429
// with Retry-After or a 5xx (FailNext). Every answer carries a request-id
// and echoes the client-request-id.
package graphtest

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Token is the bearer token the fake accepts.
const Token = "fake-graph-token"

// The @odata.type of each method kind.
const (
	TypeAuthenticator = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod"
	TypeFido2         = "#microsoft.graph.fido2AuthenticationMethod"
	TypePhone         = "#microsoft.graph.phoneAuthenticationMethod"
	TypeSoftwareOath  = "#microsoft.graph.softwareOathAuthenticationMethod"
	TypeTAP           = "#microsoft.graph.temporaryAccessPassAuthenticationMethod"
	TypePassword      = "#microsoft.graph.passwordAuthenticationMethod"
	TypeEmail         = "#microsoft.graph.emailAuthenticationMethod"
)

// collections maps a DELETE path segment to the type it deletes.
var collections = map[string]string{
	"microsoftAuthenticatorMethods": TypeAuthenticator,
	"fido2Methods":                  TypeFido2,
	"phoneMethods":                  TypePhone,
	"softwareOathMethods":           TypeSoftwareOath,
	"temporaryAccessPassMethods":    TypeTAP,
	"emailMethods":                  TypeEmail,
}

// Permissions the fake knows; DefaultPermissions are granted unless
// Permissions is changed.
const (
	PermMethods  = "UserAuthenticationMethod.ReadWrite.All"
	PermUsers    = "User.Read.All"
	PermRevoke   = "User.RevokeSessions.All"
	PermSignIns  = "AuditLog.Read.All"
	guidPattern  = `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`
	phoneMobile  = "3179e48a-750b-4051-897c-87b9720928f7"
	passwordID   = "28c10230-6103-485e-b985-444c60001490"
	maxReqBody   = 64 << 10
	contextUsers = "/$metadata#users"
)

// DefaultPermissions is what a new fake grants: everything the reset needs.
var DefaultPermissions = []string{PermMethods, PermUsers, PermRevoke, PermSignIns}

var guidRE = regexp.MustCompile(guidPattern)

// User is a directory user.
type User struct {
	ID          string // an object id (GUID); made when empty
	UPN         string
	DisplayName string
	Enabled     bool
	LastSignIn  time.Time // zero: never signed in
}

// Method is one authentication method, as Graph holds it: its @odata.type
// and the fields of that type.
type Method struct {
	Type   string
	ID     string // made when empty
	Fields map[string]any
}

// Call is one request the fake answered.
type Call struct {
	Method, Path string
	Status       int
}

// Server is the fake. Its zero value is not usable: call New or Start.
type Server struct {
	mu          sync.Mutex
	users       []*user
	perms       map[string]bool
	fail        []failure
	calls       []Call
	taps        []string
	revocations map[string]int
	now         func() time.Time
	ts          *httptest.Server
}

type user struct {
	User
	methods []Method
}

type failure struct {
	status     int
	retryAfter string
	match      string // only requests whose "METHOD path" contains this; "" any
}

// New makes an empty fake granting DefaultPermissions.
func New() *Server {
	s := &Server{perms: map[string]bool{}, revocations: map[string]int{}, now: time.Now}
	for _, p := range DefaultPermissions {
		s.perms[p] = true
	}
	return s
}

// Start makes a fake and serves it on a local port until Close.
func Start() *Server {
	s := New()
	s.ts = httptest.NewServer(s)
	return s
}

// URL is Graph's base URL on this fake (…/v1.0), for GRAPH_BASE_URL.
func (s *Server) URL() string { return s.ts.URL + "/v1.0" }

// Close stops a started fake.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.Close()
	}
}

// Permissions replaces the application permissions the app has.
func (s *Server) Permissions(perms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.perms = map[string]bool{}
	for _, p := range perms {
		s.perms[p] = true
	}
}

// FailNext makes the next n requests whose "METHOD path" contains match
// ("" for any) answer status, with Retry-After when retryAfter is set.
func (s *Server) FailNext(n, status int, retryAfter, match string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fail = append(s.fail, failure{status, retryAfter, match})
	}
}

// AddUser adds a user with methods and returns its object id.
func (s *Server) AddUser(u User, methods ...Method) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = newGUID()
	}
	for i := range methods {
		if methods[i].ID == "" {
			methods[i].ID = newGUID()
		}
	}
	s.users = append(s.users, &user{User: u, methods: methods})
	return u.ID
}

// StandardMethods is what a typical user has registered: Authenticator on
// a phone, a passkey, a mobile phone number, a software OATH token and the
// password.
func StandardMethods() []Method {
	return []Method{
		{Type: TypeAuthenticator, Fields: map[string]any{"displayName": "iPhone 15", "deviceTag": "SoftwareTokenActivated", "phoneAppVersion": "6.8.12", "createdDateTime": "2025-03-01T09:12:00Z"}},
		{Type: TypeFido2, Fields: map[string]any{"displayName": "Passkey in Authenticator", "model": "Microsoft Authenticator - iOS", "aaGuid": "90a3ccdf-635c-4729-a248-9b709135078f", "attestationLevel": "attested", "createdDateTime": "2025-03-01T09:20:00Z"}},
		{Type: TypePhone, ID: phoneMobile, Fields: map[string]any{"phoneNumber": "+1 2065550123", "phoneType": "mobile", "smsSignInState": "notEnabled"}},
		{Type: TypeSoftwareOath, Fields: map[string]any{"secretKey": nil}},
		{Type: TypePassword, ID: passwordID, Fields: map[string]any{"password": nil, "createdDateTime": "2024-11-02T08:00:00Z"}},
	}
}

// Methods returns the @odata.type of each method the user (UPN or id)
// has, in order.
func (s *Server) Methods(who string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.find(who)
	if u == nil {
		return nil
	}
	var out []string
	for _, m := range u.methods {
		out = append(out, m.Type)
	}
	return out
}

// Calls returns the requests answered so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// IssuedTAPs returns every Temporary Access Pass the fake handed out, so a
// test can look for them where they must not be.
func (s *Server) IssuedTAPs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.taps)
}

// Revocations returns how many times the user's sessions were revoked.
func (s *Server) Revocations(who string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.find(who); u != nil {
		return s.revocations[u.ID]
	}
	return 0
}

func (s *Server) find(who string) *user {
	for _, u := range s.users {
		if u.ID == who || strings.EqualFold(u.UPN, who) {
			return u
		}
	}
	return nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &recorder{ResponseWriter: w, status: http.StatusOK}
	rid := newGUID()
	w.Header().Set("request-id", rid)
	if c := r.Header.Get("client-request-id"); c != "" {
		w.Header().Set("client-request-id", c)
	}
	s.serve(rw, r, rid)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Status: rw.status})
	s.mu.Unlock()
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, rid string) {
	errorOut := func(status int, code, msg string) { writeError(w, r, rid, status, code, msg) }
	if r.Header.Get("Authorization") != "Bearer "+Token {
		errorOut(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
		return
	}
	s.mu.Lock()
	if f, ok := s.takeFailure(r.Method + " " + r.URL.Path); ok {
		s.mu.Unlock()
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		if f.status == http.StatusTooManyRequests {
			errorOut(f.status, "TooManyRequests", "Too many requests.")
		} else {
			errorOut(f.status, "serviceNotAvailable", "The service is temporarily unavailable.")
		}
		return
	}
	s.mu.Unlock()
	path, ok := strings.CutPrefix(r.URL.Path, "/v1.0/users/")
	if !ok {
		errorOut(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+strings.Trim(r.URL.Path, "/")+"'.")
		return
	}
	parts := strings.Split(path, "/")
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.find(parts[0])
	if u == nil {
		errorOut(http.StatusNotFound, "Request_ResourceNotFound", "Resource '"+parts[0]+"' does not exist or one of its queried reference-property objects are not present.")
		return
	}
	need := func(perm string) bool {
		if s.perms[perm] {
			return true
		}
		errorOut(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
		return false
	}
	switch {
	case len(parts) == 1 && r.Method == http.MethodGet:
		sel := strings.Split(r.URL.Query().Get("$select"), ",")
		if slices.Contains(sel, "signInActivity") {
			if !guidRE.MatchString(parts[0]) {
				errorOut(http.StatusBadRequest, "Request_UnsupportedQuery", "Get By Key only supports UserId and the key has to be a valid Guid")
				return
			}
			if !need(PermSignIns) {
				return
			}
		}
		if !need(PermUsers) {
			return
		}
		writeJSON(w, http.StatusOK, s.userJSON(r, u, sel))
	case len(parts) == 3 && parts[1] == "authentication" && parts[2] == "methods" && r.Method == http.MethodGet:
		if !need(PermMethods) {
			return
		}
		out := []map[string]any{}
		for _, m := range u.methods {
			out = append(out, methodJSON(m))
		}
		writeJSON(w, http.StatusOK, map[string]any{"@odata.context": base(r) + contextUsers + "('" + u.ID + "')/authentication/methods", "value": out})
	case len(parts) == 4 && parts[1] == "authentication" && r.Method == http.MethodDelete:
		typ, ok := collections[parts[2]]
		if !ok {
			errorOut(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+parts[2]+"'.")
			return
		}
		if !need(PermMethods) {
			return
		}
		i := slices.IndexFunc(u.methods, func(m Method) bool { return m.ID == parts[3] && m.Type == typ })
		if i < 0 {
			errorOut(http.StatusNotFound, "itemNotFound", "The requested resource does not exist.")
			return
		}
		u.methods = slices.Delete(u.methods, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	case len(parts) == 2 && parts[1] == "revokeSignInSessions" && r.Method == http.MethodPost:
		if !need(PermRevoke) {
			return
		}
		s.revocations[u.ID]++
		writeJSON(w, http.StatusOK, map[string]any{"@odata.context": base(r) + "/$metadata#Edm.Boolean", "value": true})
	case len(parts) == 3 && parts[1] == "authentication" && parts[2] == "temporaryAccessPassMethods" && r.Method == http.MethodPost:
		if !need(PermMethods) {
			return
		}
		var req struct {
			Lifetime     *int       `json:"lifetimeInMinutes"`
			IsUsableOnce bool       `json:"isUsableOnce"`
			Start        *time.Time `json:"startDateTime"`
		}
		if err := json.NewDecoder(io.LimitReader(r.Body, maxReqBody)).Decode(&req); err != nil {
			errorOut(http.StatusBadRequest, "BadRequest", "Unable to read JSON request payload.")
			return
		}
		life := 60
		if req.Lifetime != nil {
			life = *req.Lifetime
		}
		if life < 10 || life > 43200 {
			errorOut(http.StatusBadRequest, "badRequest", "The lifetime must be between 10 and 43200 minutes.")
			return
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		start := now
		if req.Start != nil {
			start = req.Start.UTC()
		}
		pass := newPass()
		s.taps = append(s.taps, pass)
		u.methods = slices.DeleteFunc(u.methods, func(m Method) bool { return m.Type == TypeTAP }) // one pass a user: the new one replaces it
		m := Method{Type: TypeTAP, ID: newGUID(), Fields: map[string]any{
			"createdDateTime": now.Format(time.RFC3339Nano), "startDateTime": start.Format(time.RFC3339Nano),
			"lifetimeInMinutes": life, "isUsableOnce": req.IsUsableOnce, "isUsable": true, "methodUsabilityReason": "EnabledByPolicy",
		}}
		u.methods = append(u.methods, m)
		out := methodJSON(m)
		delete(out, "@odata.type")
		out["@odata.context"] = base(r) + contextUsers + "('" + u.ID + "')/authentication/temporaryAccessPassMethods/$entity"
		out["temporaryAccessPass"] = pass
		writeJSON(w, http.StatusCreated, out)
	default:
		errorOut(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	}
}

// takeFailure pops the first queued failure matching call; s.mu is held.
func (s *Server) takeFailure(call string) (failure, bool) {
	for i, f := range s.fail {
		if f.match == "" || strings.Contains(call, f.match) {
			s.fail = slices.Delete(s.fail, i, i+1)
			return f, true
		}
	}
	return failure{}, false
}

func (s *Server) userJSON(r *http.Request, u *user, sel []string) map[string]any {
	all := map[string]any{
		"id": u.ID, "displayName": u.DisplayName, "userPrincipalName": u.UPN, "accountEnabled": u.Enabled,
		"mail": u.UPN, "givenName": strings.Fields(u.DisplayName + " x")[0], "jobTitle": nil,
	}
	if slices.Contains(sel, "signInActivity") {
		act := map[string]any{"lastSignInDateTime": nil, "lastSignInRequestId": nil, "lastNonInteractiveSignInDateTime": nil, "lastSuccessfulSignInDateTime": nil}
		if !u.LastSignIn.IsZero() {
			at := u.LastSignIn.UTC().Format(time.RFC3339)
			act["lastSignInDateTime"], act["lastSignInRequestId"], act["lastSuccessfulSignInDateTime"] = at, newGUID(), at
		}
		all["signInActivity"] = act
	}
	out := map[string]any{"@odata.context": base(r) + contextUsers + "/$entity"}
	if len(sel) == 1 && sel[0] == "" {
		delete(all, "signInActivity")
		for k, v := range all {
			out[k] = v
		}
		return out
	}
	for _, k := range sel {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

func methodJSON(m Method) map[string]any {
	out := map[string]any{"@odata.type": m.Type, "id": m.ID}
	for k, v := range m.Fields {
		out[k] = v
	}
	if m.Type == TypeTAP {
		out["temporaryAccessPass"] = nil // Graph never lists the pass
	}
	return out
}

func base(r *http.Request) string { return "https://graph.microsoft.com/v1.0" }

func writeError(w http.ResponseWriter, r *http.Request, rid string, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"date": time.Now().UTC().Format("2006-01-02T15:04:05"), "request-id": rid, "client-request-id": r.Header.Get("client-request-id")},
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newPass is a pass in Entra's style: 8 characters from an alphabet
// without look-alikes, with a symbol.
func newPass() string {
	const alpha = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	var b [10]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, 0, 11)
	for _, c := range b {
		out = append(out, alpha[int(c)%len(alpha)])
	}
	return string(out[:5]) + "@" + string(out[5:])
}
