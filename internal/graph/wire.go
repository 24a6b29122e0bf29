package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfatriage/triage"
)

// What Graph answers, as this adapter reads it. Unknown fields are
// ignored; a field of the wrong JSON type is an error.

type wireUser struct {
	ID             string          `json:"id"`
	DisplayName    string          `json:"displayName"`
	UPN            string          `json:"userPrincipalName"`
	AccountEnabled *bool           `json:"accountEnabled"`
	SignInActivity *wireSignInInfo `json:"signInActivity"`
}

type wireSignInInfo struct {
	LastSignIn           *time.Time `json:"lastSignInDateTime"`
	LastSuccessfulSignIn *time.Time `json:"lastSuccessfulSignInDateTime"`
}

type wireMethod struct {
	Type        string     `json:"@odata.type"`
	ID          string     `json:"id"`
	DisplayName string     `json:"displayName"`
	Model       string     `json:"model"`
	PhoneNumber string     `json:"phoneNumber"`
	PhoneType   string     `json:"phoneType"`
	Email       string     `json:"emailAddress"`
	Created     *time.Time `json:"createdDateTime"`
	Lifetime    int        `json:"lifetimeInMinutes"`
	Start       *time.Time `json:"startDateTime"`
}

type wireMethods struct {
	Value    []wireMethod `json:"value"`
	NextLink string       `json:"@odata.nextLink"`
}

type wireTAP struct {
	ID        string     `json:"id"`
	Pass      string     `json:"temporaryAccessPass"`
	Start     *time.Time `json:"startDateTime"`
	Lifetime  int        `json:"lifetimeInMinutes"`
	UsableOne bool       `json:"isUsableOnce"`
}

type wireError struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// methodTypes maps Graph's @odata.type to a method type and the segment of
// its collection (for DELETE); "" for types that cannot be deleted here.
var methodTypes = map[string]struct {
	t    triage.MethodType
	path string
}{
	"#microsoft.graph.microsoftAuthenticatorAuthenticationMethod":             {triage.MethodAuthenticator, "microsoftAuthenticatorMethods"},
	"#microsoft.graph.fido2AuthenticationMethod":                              {triage.MethodPasskey, "fido2Methods"},
	"#microsoft.graph.phoneAuthenticationMethod":                              {triage.MethodPhone, "phoneMethods"},
	"#microsoft.graph.softwareOathAuthenticationMethod":                       {triage.MethodSoftwareOath, "softwareOathMethods"},
	"#microsoft.graph.temporaryAccessPassAuthenticationMethod":                {triage.MethodTAP, "temporaryAccessPassMethods"},
	"#microsoft.graph.passwordAuthenticationMethod":                           {triage.MethodPassword, ""},
	"#microsoft.graph.emailAuthenticationMethod":                              {triage.MethodEmail, ""},
	"#microsoft.graph.windowsHelloForBusinessAuthenticationMethod":            {triage.MethodWindowsHello, ""},
	"#microsoft.graph.platformCredentialAuthenticationMethod":                 {triage.MethodOther, ""},
	"#microsoft.graph.externalAuthenticationMethod":                           {triage.MethodOther, ""},
	"#microsoft.graph.qrCodePinAuthenticationMethod":                          {triage.MethodOther, ""},
	"#microsoft.graph.hardwareOathAuthenticationMethod":                       {triage.MethodOther, ""},
	"#microsoft.graph.passwordlessMicrosoftAuthenticatorAuthenticationMethod": {triage.MethodOther, ""},
}

// collection is the path segment of a removable method type's collection.
func collection(t triage.MethodType) string {
	for _, m := range methodTypes {
		if m.t == t && m.path != "" {
			return m.path
		}
	}
	return ""
}

// maxIDLen bounds the ids read from Graph: they go into paths and the
// audit.
const maxIDLen = 256

// validID reports whether an id from Graph can go into a path: no slash,
// no control character, not empty, not too long.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen || id == "." || id == ".." {
		return false
	}
	for _, r := range id {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' || r == '?' || r == '#' || r == '%' {
			return false
		}
	}
	return true
}

// parseUser reads a user.
func parseUser(data []byte) (triage.DirectoryUser, error) {
	var w wireUser
	if err := json.Unmarshal(data, &w); err != nil {
		return triage.DirectoryUser{}, fmt.Errorf("read the user: %w", err)
	}
	if !validID(w.ID) {
		return triage.DirectoryUser{}, errors.New("read the user: Graph sent no usable id")
	}
	u := triage.DirectoryUser{ID: w.ID, UPN: w.UPN, DisplayName: w.DisplayName, Enabled: w.AccountEnabled != nil && *w.AccountEnabled}
	if w.SignInActivity != nil {
		u.SignInKnown = true
		if t := w.SignInActivity.LastSignIn; t != nil {
			u.LastSignIn = t.UTC()
		}
	}
	return u, nil
}

// parseSignIn reads the signInActivity of a user: known is false when the
// answer carries none.
func parseSignIn(data []byte) (last time.Time, known bool, err error) {
	var w wireUser
	if err := json.Unmarshal(data, &w); err != nil {
		return time.Time{}, false, fmt.Errorf("read the sign-in activity: %w", err)
	}
	if w.SignInActivity == nil {
		return time.Time{}, false, nil
	}
	if t := w.SignInActivity.LastSignIn; t != nil {
		last = t.UTC()
	}
	return last, true, nil
}

// parseMethods reads one page of a user's methods and the link to the
// next page ("" at the end).
func parseMethods(data []byte) ([]triage.AuthMethod, string, error) {
	var w wireMethods
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, "", fmt.Errorf("read the authentication methods: %w", err)
	}
	out := make([]triage.AuthMethod, 0, len(w.Value))
	for _, m := range w.Value {
		if !validID(m.ID) {
			return nil, "", fmt.Errorf("read the authentication methods: a %s without a usable id", strings.TrimPrefix(m.Type, "#microsoft.graph."))
		}
		t, ok := methodTypes[m.Type]
		if !ok {
			t.t = triage.MethodOther
		}
		am := triage.AuthMethod{ID: m.ID, Type: t.t}
		if m.Created != nil {
			am.Created = m.Created.UTC()
		}
		switch t.t {
		case triage.MethodPhone:
			am.Detail = strings.TrimSpace(m.PhoneType + " " + m.PhoneNumber)
		case triage.MethodEmail:
			am.Detail = m.Email
		case triage.MethodTAP:
			if m.Lifetime > 0 {
				am.Detail = fmt.Sprintf("valid %v", time.Duration(m.Lifetime)*time.Minute)
			}
		default:
			am.Detail = m.DisplayName
			if m.Model != "" && m.Model != m.DisplayName {
				am.Detail = strings.TrimSpace(m.DisplayName + " (" + m.Model + ")")
			}
		}
		if !ok && m.Type != "" {
			am.Detail = strings.TrimSpace(strings.TrimPrefix(m.Type, "#microsoft.graph.") + " " + am.Detail)
		}
		out = append(out, am)
	}
	return out, w.NextLink, nil
}

// parseTAP reads a Temporary Access Pass just created.
func parseTAP(data []byte) (triage.TemporaryAccessPass, error) {
	var w wireTAP
	if err := json.Unmarshal(data, &w); err != nil {
		return triage.TemporaryAccessPass{}, errors.New("read the Temporary Access Pass: the answer is not its JSON") // never echo the body: it holds the pass
	}
	if !validID(w.ID) || w.Pass == "" {
		return triage.TemporaryAccessPass{}, errors.New("read the Temporary Access Pass: Graph sent no pass or no id")
	}
	p := triage.TemporaryAccessPass{ID: w.ID, Pass: w.Pass, Lifetime: time.Duration(w.Lifetime) * time.Minute, UsedOnce: w.UsableOne}
	if w.Start != nil {
		p.Start = w.Start.UTC()
	}
	return p, nil
}

// parseError reads Graph's error body; empty strings when it is not one.
func parseError(data []byte) (code, message string) {
	var w wireError
	if json.Unmarshal(data, &w) != nil {
		return "", ""
	}
	msg := w.Error.Message
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return w.Error.Code, msg
}
