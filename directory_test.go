package triage_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"
)

func TestParseMethodTypes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    []triage.MethodType
		wantErr string
	}{
		{"authenticator,passkey", []triage.MethodType{triage.MethodAuthenticator, triage.MethodPasskey}, ""},
		{" FIDO2 , authenticator,passkey ", []triage.MethodType{triage.MethodAuthenticator, triage.MethodPasskey}, ""},
		{"tap,phone,oath", []triage.MethodType{triage.MethodPhone, triage.MethodSoftwareOath, triage.MethodTAP}, ""},
		{"password", nil, `unknown method type "password"`},
		{"", nil, "no method type to remove"},
		{",,", nil, "no method type to remove"},
	}
	for _, tt := range tests {
		got, err := triage.ParseMethodTypes(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseMethodTypes(%q) error %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseMethodTypes(%q): %v", tt.in, err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseMethodTypes(%q) (-want, +got):\n%s", tt.in, diff)
		}
	}
}

// FuzzParseMethodTypes: the --remove list and the API's remove are read
// into removable types only, without repeats, or refused.
func FuzzParseMethodTypes(f *testing.F) {
	for _, s := range []string{"authenticator,passkey", "fido2", "tap,,phone", "password", strings.Repeat("x", 100), "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := triage.ParseMethodTypes(s)
		if err != nil {
			if len(err.Error()) > 300 {
				t.Errorf("error too long: %d bytes", len(err.Error()))
			}
			return
		}
		seen := map[triage.MethodType]bool{}
		for _, m := range got {
			if !m.Removable() || seen[m] {
				t.Errorf("ParseMethodTypes(%q) = %v", s, got)
			}
			seen[m] = true
		}
		if len(got) == 0 {
			t.Errorf("ParseMethodTypes(%q) accepted an empty list", s)
		}
	})
}
