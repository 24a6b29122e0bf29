package wire

import (
	"encoding/json"
	"errors"
	"testing"
	"unicode/utf8"
)

// FuzzADF flattens arbitrary JSON (or not JSON) to text: no panic, valid
// UTF-8, never over the limit. Valid JSON is also decoded as every field of
// a comment and an issue that reads outside input: only a type error of a
// plain Go field may come back, and the body and description still read as
// text within the limit. Seeds:
// testdata/fuzz/FuzzADF.
func FuzzADF(f *testing.F) {
	f.Add([]byte(`{"type":"doc","content":[{"type":"paragraph","content":[{"type":"text","text":"hi"}]}]}`))
	f.Add([]byte(`"wiki *text*"`))
	f.Add([]byte(`1741599000000`))
	f.Add([]byte(`"2025-03-10T09:00:00.000+0000"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 4 << 10
		checkText(t, Text(data, limit), limit)
		if !json.Valid(data) {
			return
		}
		v := string(data)
		var c Comment
		if decode(t, `{"id":`+v+`,"self":`+v+`,"author":{"accountId":`+v+`,"name":`+v+`},"body":`+v+`,"created":`+v+`,"jsdPublic":true,`+
			`"visibility":{"type":`+v+`,"value":`+v+`,"identifier":`+v+`},"properties":[{"key":`+v+`,"value":`+v+`},{"key":"sd.public.comment","value":`+v+`}]}`, &c) {
			checkText(t, Text(c.Body, limit), limit)
			_ = c.Internal() // whatever the visibility and properties say, no panic
		}
		var is Issue
		if decode(t, `{"key":`+v+`,"fields":{"summary":`+v+`,"description":`+v+`,"labels":[`+v+`],"status":{"name":`+v+`},"updated":`+v+`}}`, &is) {
			checkText(t, Text(is.Fields.Description, limit), limit)
		}
	})
}

// decode unmarshals doc into v. It reports false when doc is nested deeper
// than encoding/json allows, and fails the test on any error but a type
// error.
func decode(t *testing.T, doc string, v any) bool {
	t.Helper()
	if !json.Valid([]byte(doc)) {
		return false
	}
	err := json.Unmarshal([]byte(doc), v)
	var te *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &te) {
		t.Fatalf("decoding %.200s: %v", doc, err)
	}
	return true
}

func checkText(t *testing.T, got string, limit int) {
	t.Helper()
	if len(got) > limit {
		t.Fatalf("%d bytes of text, over the limit of %d", len(got), limit)
	}
	if !utf8.ValidString(got) {
		t.Fatalf("text is not valid UTF-8: %q", got)
	}
}
