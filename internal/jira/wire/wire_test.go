package wire

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw string
		want      String
	}{
		{"string", `"HD-1"`, "HD-1"},
		{"string kept as sent", `" a b "`, " a b "},
		{"escapes", `"a\nb\u00e9"`, "a\nbé"},
		{"number", `10001`, "10001"},
		{"float", `1.5e3`, "1.5e3"},
		{"boolean", `true`, "true"},
		{"null", `null`, ""},
		{"object", `{"a":1}`, ""},
		{"array", `["a"]`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got struct {
				V String `json:"v"`
			}
			if err := json.Unmarshal([]byte(`{"v":`+tt.raw+`}`), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if diff := cmp.Diff(tt.want, got.V); diff != "" {
				t.Errorf("(-want, +got):\n%s", diff)
			}
		})
	}
	if got := String(" a b \n").String(); got != "a b" {
		t.Errorf("String() = %q, want it trimmed", got)
	}
}

func TestTime(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 10, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name, raw string
		want      time.Time
	}{
		{"REST", `"2025-03-10T09:00:00.000+0000"`, at},
		{"REST in a zone", `"2025-03-10T10:00:00.000+0100"`, at},
		{"without milliseconds", `"2025-03-10T09:00:00+0000"`, at},
		{"RFC 3339", `"2025-03-10T09:00:00Z"`, at},
		{"milliseconds", `1741597200000`, at},
		{"milliseconds as a string", `"1741597200000"`, at},
		{"out of range", `1e300`, time.Time{}},
		{"too many milliseconds", `9000000000000000`, time.Time{}},
		{"not a time", `"yesterday"`, time.Time{}},
		{"empty", `""`, time.Time{}},
		{"null", `null`, time.Time{}},
		{"object", `{}`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got struct {
				V Time `json:"v"`
			}
			if err := json.Unmarshal([]byte(`{"v":`+tt.raw+`}`), &got); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !got.V.Equal(tt.want) {
				t.Errorf("got %v, want %v", got.V.Time, tt.want)
			}
		})
	}
}

// TestCommentInternal reads a comment's marks as both editions send them:
// the reporter cannot see a comment Jira Cloud marks jsdPublic=false, one
// whose sd.public.comment property says internal (Data Center, with
// expand=properties), or one restricted to a role or group.
func TestCommentInternal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		json           string
		internal, mark bool
	}{
		{`{"jsdPublic":true}`, false, true},
		{`{"jsdPublic":false}`, true, true},
		{`{}`, false, false}, // Data Center without expand=properties: cannot tell
		{`{"jsdPublic":null}`, false, false},
		{`{"properties":[]}`, false, true},
		{`{"properties":[{"key":"sd.public.comment","value":{"internal":true}}]}`, true, true},
		{`{"properties":[{"key":"sd.public.comment","value":{"internal":false}}]}`, false, true},
		{`{"properties":[{"key":"other","value":{"internal":true}}]}`, false, true},
		{`{"jsdPublic":true,"visibility":{"type":"role","value":"Administrators"}}`, true, true},
		{`{"visibility":{"type":"group","identifier":"276f955c"}}`, true, true},
		{`{"visibility":{"type":"group"}}`, false, true},
	} {
		var c Comment
		if err := json.Unmarshal([]byte(tc.json), &c); err != nil {
			t.Fatal(err)
		}
		if got := c.Internal(); got != tc.internal {
			t.Errorf("%s: Internal() = %v, want %v", tc.json, got, tc.internal)
		}
		if got := c.Marked(); got != tc.mark {
			t.Errorf("%s: Marked() = %v, want %v", tc.json, got, tc.mark)
		}
	}
}
