package triage

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MethodType is a kind of Entra ID authentication method, in the words the
// admin page, the API and the CLI use ("authenticator", "passkey", …).
type MethodType string

// The authentication method types. The first five can be removed by the
// MFA reset; the others are shown for the record.
const (
	MethodAuthenticator MethodType = "authenticator" // Microsoft Authenticator
	MethodPasskey       MethodType = "passkey"       // FIDO2: security keys and passkeys
	MethodPhone         MethodType = "phone"         // SMS or voice
	MethodSoftwareOath  MethodType = "software-oath" // a third-party authenticator app's codes
	MethodTAP           MethodType = "tap"           // Temporary Access Pass
	MethodPassword      MethodType = "password"
	MethodEmail         MethodType = "email"
	MethodWindowsHello  MethodType = "windows-hello"
	MethodOther         MethodType = "other" // a type this version does not know
)

// RemovableMethods lists the method types an MFA reset can remove, in the
// order the admin page shows them.
var RemovableMethods = []MethodType{MethodAuthenticator, MethodPasskey, MethodPhone, MethodSoftwareOath, MethodTAP}

// DefaultRemove is what an MFA reset removes unless told otherwise:
// Authenticator and passkeys.
var DefaultRemove = []MethodType{MethodAuthenticator, MethodPasskey}

// Removable reports whether an MFA reset can remove methods of type t.
func (t MethodType) Removable() bool { return slices.Contains(RemovableMethods, t) }

// Label is the type's name for people.
func (t MethodType) Label() string {
	switch t {
	case MethodAuthenticator:
		return "Microsoft Authenticator"
	case MethodPasskey:
		return "Passkey (FIDO2)"
	case MethodPhone:
		return "Phone (SMS or call)"
	case MethodSoftwareOath:
		return "Software OATH token"
	case MethodTAP:
		return "Temporary Access Pass"
	case MethodPassword:
		return "Password"
	case MethodEmail:
		return "E-mail"
	case MethodWindowsHello:
		return "Windows Hello for Business"
	}
	return "Other"
}

// ParseMethodTypes reads a comma-separated list of removable method types
// ("authenticator,passkey"); "fido2" is read as passkey, "oath" as
// software-oath. Repeats count once; the result keeps the order of
// RemovableMethods. An empty list is an error: a reset removes something.
func ParseMethodTypes(s string) ([]MethodType, error) {
	seen := map[MethodType]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		t := MethodType(f)
		switch f {
		case "fido2", "passkeys":
			t = MethodPasskey
		case "oath", "softwareoath", "software_oath":
			t = MethodSoftwareOath
		case "temporary-access-pass":
			t = MethodTAP
		case "microsoft-authenticator":
			t = MethodAuthenticator
		}
		if !t.Removable() {
			if len(f) > 40 {
				f = f[:40] + "…"
			}
			return nil, fmt.Errorf("unknown method type %q: use %s", f, joinTypes(RemovableMethods))
		}
		seen[t] = true
	}
	var out []MethodType
	for _, t := range RemovableMethods {
		if seen[t] {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no method type to remove: use %s", joinTypes(RemovableMethods))
	}
	return out, nil
}

func joinTypes(ts []MethodType) string {
	s := make([]string, len(ts))
	for i, t := range ts {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// DirectoryUser is a user of the directory (Entra ID), as the admin sees
// them before a reset.
type DirectoryUser struct {
	ID          string `json:"id"`
	UPN         string `json:"user_principal_name"`
	DisplayName string `json:"display_name"`
	Enabled     bool   `json:"account_enabled"`
	// LastSignIn is the last interactive sign-in; zero when unknown
	// (never signed in, or SignInKnown false).
	LastSignIn time.Time `json:"last_sign_in,omitzero"`
	// SignInKnown is false when the directory would not say (the app
	// lacks AuditLog.Read.All, or the tenant has no Entra ID P1).
	SignInKnown bool `json:"sign_in_known"`
}

// AuthMethod is one authentication method registered to a user.
type AuthMethod struct {
	ID   string     `json:"id"`
	Type MethodType `json:"type"`
	// Detail tells it apart for the admin: the device's or key's name,
	// the phone number, the TAP's validity.
	Detail  string    `json:"detail,omitempty"`
	Created time.Time `json:"created,omitzero"`
}

// TemporaryAccessPass is a pass just created. Pass is the secret: shown to
// the admin once, never stored, logged or posted.
type TemporaryAccessPass struct {
	ID       string        `json:"id"`
	Pass     string        `json:"-"`
	Start    time.Time     `json:"start,omitzero"`
	Lifetime time.Duration `json:"lifetime"`
	UsedOnce bool          `json:"usable_once"`
}

// String never shows the pass.
func (p TemporaryAccessPass) String() string {
	return fmt.Sprintf("temporary access pass %s (%v)", p.ID, p.Lifetime)
}

// Errors of the directory, wrapped by its adapter with the details.
var (
	// ErrDirectoryForbidden: the app registration lacks a permission.
	ErrDirectoryForbidden = errors.New("the directory refused: a permission is missing")
	// ErrNoSuchUser: no user with that name or id.
	ErrNoSuchUser = errors.New("no such user in Entra ID")
)
