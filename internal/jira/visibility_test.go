package jira

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

func TestParseVisibility(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    *Visibility
		wantErr string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{"role:Administrators", &Visibility{Type: "role", Value: "Administrators"}, ""},
		{"Role: Service Desk Team ", &Visibility{Type: "role", Value: "Service Desk Team"}, ""},
		{"group:helpdesk-agents", &Visibility{Type: "group", Value: "helpdesk-agents"}, ""},
		{"group-id:276f955c-63d7-42c8-9520-92d01dca0625", &Visibility{Type: "group", Identifier: "276f955c-63d7-42c8-9520-92d01dca0625"}, ""},
		{"role-id:10002", &Visibility{Type: "role", Identifier: "10002"}, ""},
		{"group:a:b", &Visibility{Type: "group", Value: "a:b"}, ""},
		{"Administrators", nil, `names no role or group: write role:<project role>`},
		{"team:agents", nil, `"team" is not role, group, role-id or group-id`},
		{"role:", nil, "the role name is empty"},
		{"group:  ", nil, "the group name is empty"},
		{"group:a\x00b", nil, "control character"},
		{"role:" + strings.Repeat("x", 256), nil, "longer than 255 characters"},
	}
	for _, tt := range tests {
		got, err := ParseVisibility(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseVisibility(%q) error = %v, want one saying %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseVisibility(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseVisibility(%q) (-want, +got):\n%s", tt.in, diff)
		}
	}
	if err := (Config{BaseURL: "https://x.atlassian.net", PAT: "t", InternalVisibility: "admins"}).Validate(); err == nil || !strings.Contains(err.Error(), "internal visibility") {
		t.Errorf("Validate with a bad visibility = %v", err)
	}
}

// FuzzParseVisibility reads any setting without a panic: what it accepts
// names a role or group by a non-empty, valid, bounded name, and reads the
// same again from its String; what it refuses it says in words.
func FuzzParseVisibility(f *testing.F) {
	for _, s := range []string{"role:Administrators", "group:helpdesk-agents", "group-id:276f955c", "role-id:10002", "Administrators", "role:", ":", "group:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseVisibility(s)
		if err != nil {
			if v != nil || !strings.Contains(err.Error(), "internal visibility") {
				t.Fatalf("ParseVisibility(%q) = %+v, %v", s, v, err)
			}
			return
		}
		if v == nil {
			if strings.TrimSpace(s) != "" {
				t.Fatalf("ParseVisibility(%q) = nil without an error", s)
			}
			return
		}
		name := v.Value + v.Identifier
		if (v.Type != VisibilityRole && v.Type != VisibilityGroup) || name == "" || (v.Value != "" && v.Identifier != "") ||
			!utf8.ValidString(name) || utf8.RuneCountInString(name) > maxVisibilityName {
			t.Fatalf("ParseVisibility(%q) = %+v", s, v)
		}
		again, err := ParseVisibility(v.String())
		if err != nil || *again != *v {
			t.Fatalf("ParseVisibility(%q) = %+v, whose String %q reads as %+v, %v", s, v, v.String(), again, err)
		}
		if _, err := json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	})
}

// TestInternalCommentOutsideServiceManagement posts the same internal
// comment in a Service Management project and in a software project, on
// both flavors, and reads it back: the sandbox ignores sd.public.comment
// outside Service Management, so only the visibility keeps the note from the
// reporter there, and without one no note may be posted at all.
func TestInternalCommentOutsideServiceManagement(t *testing.T) {
	t.Parallel()
	for _, flavor := range []jiratest.Flavor{jiratest.FlavorCloud, jiratest.FlavorDataCenter} {
		for _, tt := range []struct {
			name, project, visibility string
			wantBody                  string // of the POST; "" when none is posted
			wantVisibility            string
		}{
			{"service management", "SD", "", `{"body":"evidence","properties":[{"key":"sd.public.comment","value":{"internal":true}}]}`, ""},
			{"service management ignores the visibility", "SD", "role:Administrators", `{"body":"evidence","properties":[{"key":"sd.public.comment","value":{"internal":true}}]}`, ""},
			{"software with a role", "SW", "role:Administrators", `{"body":"evidence","visibility":{"type":"role","value":"Administrators"}}`, `{"type":"role","value":"Administrators"}`},
			{"software with a group id", "SW", "group-id:276f955c", `{"body":"evidence","visibility":{"type":"group","identifier":"276f955c"}}`, `{"type":"group","identifier":"276f955c"}`},
			{"software without a visibility", "SW", "", "", ""},
		} {
			t.Run(string(flavor)+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				srv := jiratest.New(jiratest.WithFlavor(flavor), jiratest.WithBasicAuth(testEmail, testToken, bot), jiratest.WithPAT(testPAT, bot),
					jiratest.WithProject("SD", jiratest.ProjectServiceDesk), jiratest.WithProject("SW", jiratest.ProjectSoftware))
				t.Cleanup(srv.Close)
				cfg := Config{BaseURL: srv.URL(), Email: testEmail, APIToken: testToken, InternalVisibility: tt.visibility}
				if flavor == jiratest.FlavorDataCenter {
					cfg = Config{BaseURL: srv.URL(), PAT: testPAT, InternalVisibility: tt.visibility}
				}
				c, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				key := tt.project + "-1"
				srv.AddIssue(jiratest.Issue{Key: key, Summary: "passkey", Reporter: alice,
					Comments: []jiratest.Comment{{Author: alice, Body: "still broken"}}})
				ctx := context.Background()

				err = c.Edit(ctx, key, Edit{Comment: "evidence", Internal: true, AddLabels: []string{"triage-escalated"}})
				var skipped *NoteSkippedError
				if tt.wantBody == "" {
					if !errors.As(err, &skipped) || skipped.Reason != "project SW is not Service Management and TRIAGE_INTERNAL_VISIBILITY is unset" {
						t.Fatalf("Edit = %v, want a NoteSkippedError", err)
					}
					if n := len(srv.Comments(key)); n != 1 {
						t.Errorf("%d comments, want the reporter's only: no note without a way to keep it private", n)
					}
					if diff := cmp.Diff([]string{"triage-escalated"}, srv.Labels(key)); diff != "" {
						t.Errorf("labels (-want, +got):\n%s", diff)
					}
					return
				}
				if err != nil {
					t.Fatalf("Edit: %v", err)
				}
				var post []byte
				for _, call := range srv.Calls() {
					if call.Method == "POST" {
						post = call.Body
					}
				}
				var got, want any
				_ = json.Unmarshal(post, &got)
				_ = json.Unmarshal([]byte(tt.wantBody), &want)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("POST body (-want, +got):\n%s", diff)
				}
				stored := srv.Comments(key)[1]
				if vis := string(stored.Visibility); vis != tt.wantVisibility {
					t.Errorf("stored visibility %s, want %q", vis, tt.wantVisibility)
				}
				if !stored.Internal && len(stored.Visibility) == 0 {
					t.Errorf("the note is public on the sandbox: %+v", stored)
				}

				is, err := c.GetIssue(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				var internal []bool
				for _, cm := range is.Comments {
					internal = append(internal, cm.Internal)
				}
				if diff := cmp.Diff([]bool{false, true}, internal); diff != "" {
					t.Errorf("internal marks read back (-want, +got):\n%s", diff)
				}
			})
		}
	}
}

// TestProjectTypesExpire checks that a project's type is read again once
// projectTypeTTL has passed: an admin may move a project to Service
// Management, and the notes must then become internal comments.
func TestProjectTypesExpire(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	var p projectTypes
	if _, ok := p.get("SW", at); ok {
		t.Fatal("an empty cache knows SW")
	}
	p.put("SW", ProjectSoftware, at)
	at = at.Add(projectTypeTTL - time.Second)
	if got, ok := p.get("SW", at); !ok || got != ProjectSoftware {
		t.Errorf("within the TTL: get = %q, %v; want %q, true", got, ok, ProjectSoftware)
	}
	at = at.Add(time.Second)
	if got, ok := p.get("SW", at); ok {
		t.Errorf("after the TTL: get = %q, true; want a miss", got)
	}
}
