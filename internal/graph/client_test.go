package graph_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/graph"
	"github.com/mfatriage/triage/internal/graph/graphtest"
	"github.com/mfatriage/triage/internal/logtest"
)

// fixture is a fake Graph with one user holding the standard methods, and
// a client on it that records its sleeps instead of sleeping.
type fixture struct {
	fake   *graphtest.Server
	client *graph.Client
	userID string
	logs   *logtest.Buffer
	mu     sync.Mutex
	sleeps []time.Duration
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{fake: graphtest.Start(), logs: &logtest.Buffer{}}
	t.Cleanup(f.fake.Close)
	f.userID = f.fake.AddUser(graphtest.User{UPN: "alice@example.com", DisplayName: "Alice Example", Enabled: true, LastSignIn: time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC)}, graphtest.StandardMethods()...)
	var err error
	f.client, err = graph.New(graph.Config{
		BaseURL: f.fake.URL(), Tokens: graph.StaticToken(graphtest.Token), Logger: zerolog.New(f.logs),
		Sleep: func(_ context.Context, d time.Duration) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.sleeps = append(f.sleeps, d)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUserAndMethods(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	u, err := f.client.User(ctx, "ALICE@example.com")
	if err != nil {
		t.Fatal(err)
	}
	want := triage.DirectoryUser{ID: f.userID, UPN: "alice@example.com", DisplayName: "Alice Example", Enabled: true, LastSignIn: time.Date(2026, 12, 1, 8, 30, 0, 0, time.UTC), SignInKnown: true}
	if diff := cmp.Diff(want, u); diff != "" {
		t.Errorf("user (-want, +got):\n%s", diff)
	}
	ms, err := f.client.Methods(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []triage.MethodType
	for _, m := range ms {
		types = append(types, m.Type)
	}
	if diff := cmp.Diff([]triage.MethodType{triage.MethodAuthenticator, triage.MethodPasskey, triage.MethodPhone, triage.MethodSoftwareOath, triage.MethodPassword}, types); diff != "" {
		t.Errorf("method types (-want, +got):\n%s", diff)
	}
	if ms[0].Detail != "iPhone 15" || ms[2].Detail != "mobile +1 2065550123" {
		t.Errorf("details %q, %q", ms[0].Detail, ms[2].Detail)
	}
	logs := f.logs.String()
	for _, want := range []string{`"request_id":"`, `"client_request_id":"`, `"graph_call":"list the authentication methods"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %s:\n%s", want, logs)
		}
	}
	for _, never := range []string{graphtest.Token, "alice@example.com"} {
		if strings.Contains(logs, never) {
			t.Errorf("the logs contain %q:\n%s", never, logs)
		}
	}
}

// Without AuditLog.Read.All the user is still found; the last sign-in is
// unknown.
func TestUserWithoutSignInPermission(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.fake.Permissions(graphtest.PermUsers, graphtest.PermMethods)
	u, err := f.client.User(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if u.SignInKnown || !u.LastSignIn.IsZero() || u.DisplayName != "Alice Example" {
		t.Errorf("user %+v; want the name and an unknown last sign-in", u)
	}
}

func TestErrorsInPlainWords(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.client.User(ctx, "nobody@example.com")
	if !errors.Is(err, triage.ErrNoSuchUser) || !strings.Contains(err.Error(), "no such user in Entra ID: nobody@example.com") {
		t.Errorf("unknown user: %v; want triage.ErrNoSuchUser", err)
	}
	f.fake.Permissions(graphtest.PermUsers)
	_, err = f.client.Methods(ctx, f.userID)
	if !errors.Is(err, triage.ErrDirectoryForbidden) || !strings.Contains(err.Error(), "UserAuthenticationMethod.ReadWrite.All") || !strings.Contains(err.Error(), "Grant admin consent") {
		t.Errorf("without the permission: %v; want ErrDirectoryForbidden naming UserAuthenticationMethod.ReadWrite.All", err)
	}
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Code != "Authorization_RequestDenied" || ge.RequestID == "" {
		t.Errorf("the error %#v lacks Graph's code or request id", ge)
	}
}

// 429 waits as long as Retry-After says; a 5xx on a GET backs off; a 503
// without Retry-After on the TAP's POST is not repeated (it may have made
// a pass).
func TestRetries(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	f.fake.FailNext(2, http.StatusTooManyRequests, "3", "/authentication/methods")
	if _, err := f.client.Methods(ctx, f.userID); err != nil {
		t.Fatalf("after two 429s: %v", err)
	}
	if diff := cmp.Diff([]time.Duration{3 * time.Second, 3 * time.Second}, f.sleeps); diff != "" {
		t.Errorf("sleeps (-want, +got):\n%s", diff)
	}
	f.fake.FailNext(1, http.StatusBadGateway, "", "/authentication/methods")
	if _, err := f.client.Methods(ctx, f.userID); err != nil {
		t.Fatalf("after a 502: %v", err)
	}
	f.fake.FailNext(1, http.StatusServiceUnavailable, "", "temporaryAccessPassMethods")
	if _, err := f.client.CreateTAP(ctx, f.userID); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a 503 on the TAP's POST: %v; want it returned, not repeated", err)
	}
	f.fake.FailNext(1, http.StatusTooManyRequests, "600", "")
	if _, err := f.client.Methods(ctx, f.userID); err == nil || !strings.Contains(err.Error(), "retry after 10m0s") {
		t.Errorf("a Retry-After of 10 minutes: %v; want it returned, not slept", err)
	}
}

// Removing a method twice removes it once; the TAP is Graph's shape,
// replaces an earlier one, and is never logged.
func TestRemoveAndTAP(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	ms, err := f.client.Methods(ctx, f.userID)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := f.client.RemoveMethod(ctx, f.userID, ms[1]); err != nil {
			t.Fatalf("remove the passkey: %v", err)
		}
	}
	if got := f.fake.Methods(f.userID); len(got) != 4 || got[1] != graphtest.TypePhone {
		t.Errorf("after removing the passkey the user has %v", got)
	}
	if err := f.client.RemoveMethod(ctx, f.userID, ms[4]); err == nil {
		t.Error("removing the password succeeded; the reset must not remove it")
	}
	first, err := f.client.CreateTAP(ctx, f.userID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := f.client.CreateTAP(ctx, f.userID)
	if err != nil {
		t.Fatal(err)
	}
	if first.Pass == "" || first.Lifetime != time.Hour || first.ID == second.ID {
		t.Errorf("passes %v and %v", first, second)
	}
	taps := 0
	for _, typ := range f.fake.Methods(f.userID) {
		if typ == graphtest.TypeTAP {
			taps++
		}
	}
	if taps != 1 {
		t.Errorf("the user has %d passes, want 1: a new one replaces the old", taps)
	}
	if err := f.client.RevokeSessions(ctx, f.userID); err != nil || f.fake.Revocations(f.userID) != 1 {
		t.Errorf("revoke: %v, %d revocations", err, f.fake.Revocations(f.userID))
	}
	for _, p := range f.fake.IssuedTAPs() {
		if strings.Contains(f.logs.String(), p) {
			t.Errorf("the logs contain the pass %q", p)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  graph.Config
		want string // part of the error; "" for none
	}{
		{"secret", graph.Config{TenantID: "t", ClientID: "c", ClientSecret: "s"}, ""},
		{"no tenant", graph.Config{ClientID: "c", ClientSecret: "s"}, "GRAPH_TENANT_ID is missing"},
		{"no secret", graph.Config{TenantID: "t", ClientID: "c"}, "set GRAPH_CLIENT_SECRET or GRAPH_CLIENT_CERT"},
		{"both", graph.Config{TenantID: "t", ClientID: "c", ClientSecret: "s", ClientCert: "x.pem"}, "not both"},
		{"fake", graph.Config{BaseURL: "http://127.0.0.1:1/v1.0", Tokens: graph.StaticToken("x")}, ""},
		{"bad url", graph.Config{BaseURL: "graph", Tokens: graph.StaticToken("x")}, "not an http(s) URL"},
		{"short TAP", graph.Config{Tokens: graph.StaticToken("x"), TAPLifetime: time.Minute}, "10m to 720h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
}

// The production path builds azidentity's credential from the app
// registration (no call is made until a token is needed); a certificate
// file that is not PEM is refused by name.
func TestNewWithAppRegistration(t *testing.T) {
	t.Parallel()
	if _, err := graph.New(graph.Config{TenantID: "00000000-0000-0000-0000-000000000001", ClientID: "00000000-0000-0000-0000-000000000002", ClientSecret: "s3cret-value"}); err != nil {
		t.Errorf("client secret credential: %v", err)
	}
	bad := t.TempDir() + "/cert.pem"
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := graph.New(graph.Config{TenantID: "00000000-0000-0000-0000-000000000001", ClientID: "00000000-0000-0000-0000-000000000002", ClientCert: bad})
	if err == nil || !strings.Contains(err.Error(), "GRAPH_CLIENT_CERT "+bad) {
		t.Errorf("a certificate file that is not PEM: %v", err)
	}
}
