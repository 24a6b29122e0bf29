package graph

import (
	"strings"
	"testing"
)

// FuzzParse feeds Graph's answers, as read by the adapter, anything: no
// panic, and what is accepted has ids that can go into a path.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"id":"0b5d2b6c-5d0e-4c3e-9b8e-1c2f3a4b5c6d","displayName":"Alice","userPrincipalName":"a@example.com","accountEnabled":true,"signInActivity":{"lastSignInDateTime":"2026-12-01T08:30:00Z"}}`,
		`{"value":[{"@odata.type":"#microsoft.graph.fido2AuthenticationMethod","id":"x-1","displayName":"Key","model":"YubiKey 5"},{"@odata.type":"#microsoft.graph.phoneAuthenticationMethod","id":"3179e48a-750b-4051-897c-87b9720928f7","phoneNumber":"+1 2065550123","phoneType":"mobile"}],"@odata.nextLink":"https://graph.microsoft.com/v1.0/next"}`,
		`{"id":"t1","temporaryAccessPass":"Abc@12345","lifetimeInMinutes":60,"isUsableOnce":false,"startDateTime":"2026-12-06T04:00:00Z"}`,
		`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"request-id":"r"}}}`,
		`{"value":[{"@odata.type":"#microsoft.graph.x","id":"../../users"}]}`,
		`null`, `[]`, `{"value":null}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if u, err := parseUser(data); err == nil && !validID(u.ID) {
			t.Errorf("user id %q accepted", u.ID)
		}
		_, _, _ = parseSignIn(data)
		if ms, _, err := parseMethods(data); err == nil {
			for _, m := range ms {
				if !validID(m.ID) || strings.Contains(m.ID, "/") || m.Type == "" {
					t.Errorf("method %+v accepted", m)
				}
			}
		}
		if p, err := parseTAP(data); err == nil && (p.Pass == "" || !validID(p.ID)) {
			t.Errorf("pass %+v accepted", p)
		} else if err != nil && p.Pass != "" {
			t.Error("a failed parse returned a pass")
		}
		_, _ = parseError(data)
	})
}
