package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/rs/zerolog"
)

// DefaultBaseURL is Microsoft Graph v1.0 in the global cloud.
const DefaultBaseURL = "https://graph.microsoft.com/v1.0"

// Defaults of Config.
const (
	DefaultTAPLifetime   = time.Hour
	DefaultMaxAttempts   = 4
	DefaultBaseBackoff   = 500 * time.Millisecond
	DefaultMaxBackoff    = 10 * time.Second
	DefaultMaxRetryAfter = 60 * time.Second
	DefaultTimeout       = 20 * time.Second
)

// The TAP lifetimes Entra ID accepts, in minutes (the tenant's policy may
// narrow them).
const (
	MinTAPLifetime = 10 * time.Minute
	MaxTAPLifetime = 30 * 24 * time.Hour
)

// Config configures the client. Zero values are defaults; TenantID and
// ClientID with ClientSecret or ClientCert are required unless Tokens is set.
type Config struct {
	// TenantID and ClientID name the app registration (GRAPH_TENANT_ID,
	// GRAPH_CLIENT_ID).
	TenantID, ClientID string
	// ClientSecret (GRAPH_CLIENT_SECRET) or ClientCert (GRAPH_CLIENT_CERT,
	// the path of a PEM file holding the certificate and its private key)
	// proves the app's identity; exactly one is set.
	ClientSecret, ClientCert string
	// BaseURL is Graph's root (GRAPH_BASE_URL); default DefaultBaseURL. The
	// token's scope is its origin + "/.default".
	BaseURL string
	// Tokens, when set, gives the bearer tokens instead of azidentity:
	// tests and the demo, against the fake Graph.
	Tokens TokenSource
	// TAPLifetime is how long a Temporary Access Pass is valid
	// (GRAPH_TAP_LIFETIME); default one hour, 10 minutes to 30 days.
	TAPLifetime time.Duration
	// HTTPClient makes the calls; default a client with Timeout per attempt.
	HTTPClient *http.Client
	// Retries: attempts in all, the backoff for 5xx, and the longest
	// Retry-After slept through (a longer one is returned as an error).
	MaxAttempts   int
	BaseBackoff   time.Duration
	MaxBackoff    time.Duration
	MaxRetryAfter time.Duration
	// Logger receives one line per call; the zero value logs nothing.
	Logger zerolog.Logger
	// Now and Sleep are injectable for tests.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Configured reports whether Graph access is configured at all: without
// it, the MFA reset is not offered.
func (c Config) Configured() bool {
	return c.TenantID != "" || c.ClientID != "" || c.ClientSecret != "" || c.ClientCert != "" || c.BaseURL != "" || c.Tokens != nil
}

// Validate explains, in plain English, what is wrong with the
// configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Tokens == nil {
		if c.TenantID == "" {
			errs = append(errs, errors.New("GRAPH_TENANT_ID is missing: the directory (tenant) id of the app registration"))
		}
		if c.ClientID == "" {
			errs = append(errs, errors.New("GRAPH_CLIENT_ID is missing: the application (client) id of the app registration"))
		}
		switch {
		case c.ClientSecret == "" && c.ClientCert == "":
			errs = append(errs, errors.New("set GRAPH_CLIENT_SECRET or GRAPH_CLIENT_CERT (a PEM file with the certificate and its key)"))
		case c.ClientSecret != "" && c.ClientCert != "":
			errs = append(errs, errors.New("set GRAPH_CLIENT_SECRET or GRAPH_CLIENT_CERT, not both"))
		}
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fmt.Errorf("GRAPH_BASE_URL %q is not an http(s) URL", c.BaseURL))
		}
	}
	if c.TAPLifetime != 0 && (c.TAPLifetime < MinTAPLifetime || c.TAPLifetime > MaxTAPLifetime) {
		errs = append(errs, fmt.Errorf("GRAPH_TAP_LIFETIME %v is outside what Entra ID accepts (10m to 720h)", c.TAPLifetime))
	}
	if c.MaxAttempts < 0 {
		errs = append(errs, errors.New("the number of attempts cannot be negative"))
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.TAPLifetime == 0 {
		c.TAPLifetime = DefaultTAPLifetime
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.BaseBackoff == 0 {
		c.BaseBackoff = DefaultBaseBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.MaxRetryAfter == 0 {
		c.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// TokenSource gives a bearer token for Graph.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// StaticToken is a TokenSource that always gives the same token: for the
// fake Graph only.
type StaticToken string

// Token implements TokenSource.
func (t StaticToken) Token(context.Context) (string, error) { return string(t), nil }

// credentialTokens gets tokens from an azidentity credential, which caches
// and renews them.
type credentialTokens struct {
	cred  azcore.TokenCredential
	scope string
}

func (t credentialTokens) Token(ctx context.Context) (string, error) {
	tk, err := t.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{t.scope}})
	if err != nil {
		return "", fmt.Errorf("get a Graph token from Entra ID: %w", err)
	}
	return tk.Token, nil
}

// newCredential builds the azidentity credential of the app registration.
func newCredential(c Config) (TokenSource, error) {
	u, _ := url.Parse(c.BaseURL) // checked by Validate
	scope := u.Scheme + "://" + u.Host + "/.default"
	if c.ClientCert != "" {
		data, err := os.ReadFile(c.ClientCert)
		if err != nil {
			return nil, fmt.Errorf("GRAPH_CLIENT_CERT: %w", err)
		}
		certs, key, err := azidentity.ParseCertificates(data, nil)
		if err != nil {
			return nil, fmt.Errorf("GRAPH_CLIENT_CERT %s: %w (a PEM file with the certificate and its unencrypted private key)", c.ClientCert, err)
		}
		cred, err := azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key, nil)
		if err != nil {
			return nil, fmt.Errorf("Graph certificate credential: %w", err)
		}
		return credentialTokens{cred, scope}, nil
	}
	cred, err := azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret, nil)
	if err != nil {
		return nil, fmt.Errorf("Graph client secret credential: %w", err)
	}
	return credentialTokens{cred, scope}, nil
}
