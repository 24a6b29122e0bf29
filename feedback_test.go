package triage_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/classifier"
)

func TestParseCommand(t *testing.T) {
	t.Parallel()
	tests := []struct {
		body    string
		want    triage.Command
		is, err bool
	}{
		{body: "/triage send", want: triage.Command{Verb: "send"}, is: true},
		{body: "\n  /TRIAGE Send  \nthanks, sending", want: triage.Command{Verb: "send"}, is: true},
		{body: "/triage wrong", want: triage.Command{Verb: "wrong"}, is: true},
		{body: "/triage wrong human", want: triage.Command{Verb: "wrong", Human: true}, is: true},
		{body: "/triage wrong passkey-setup,new-device", want: triage.Command{Verb: "wrong", Categories: []string{"passkey-setup", "new-device"}}, is: true},
		{body: "/triage wrong passkey-setup, new-device,passkey-setup", want: triage.Command{Verb: "wrong", Categories: []string{"passkey-setup", "new-device"}}, is: true},
		{body: "/triage wrong printer", is: true, err: true},
		{body: "/triage send now", is: true, err: true},
		{body: "/triage", is: true, err: true},
		{body: "/triage resend", is: true, err: true},
		{body: "please /triage send", is: false},
		{body: "/triagesend", is: false},
		{body: "Hi Alice,\n/triage send", is: false},
		{body: "", is: false},
	}
	for _, tc := range tests {
		got, is, err := triage.ParseCommand(tc.body)
		if is != tc.is || (err != nil) != tc.err {
			t.Errorf("ParseCommand(%q) = is %v, err %v; want is %v, err %v", tc.body, is, err, tc.is, tc.err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseCommand(%q) (-want +got):\n%s", tc.body, diff)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"/triage send", "/triage wrong human", "/triage wrong passkey-setup,new-device", "\n\n/triage wrong ,,", "/triage \x00", "hello"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c, is, err := triage.ParseCommand(body)
		if !is && (err != nil || c.Verb != "") {
			t.Fatalf("not a command, yet %+v, %v", c, err)
		}
		if err != nil {
			if c.Verb != "" {
				t.Fatalf("an error with a command %+v", c)
			}
			if utf8.ValidString(body) && !utf8.ValidString(err.Error()) {
				t.Fatalf("error is not UTF-8: %q", err)
			}
			return
		}
		if is {
			again, is2, err2 := triage.ParseCommand(c.String())
			if !is2 || err2 != nil || !cmp.Equal(c, again) {
				t.Fatalf("%+v prints as %q, which reads back as %+v, %v", c, c.String(), again, err2)
			}
			for _, cat := range c.Categories {
				if !strings.Contains(strings.Join(classifier.Categories(), " "), cat) {
					t.Fatalf("unknown category %q accepted", cat)
				}
			}
		}
	})
}

func TestSuggestionExpect(t *testing.T) {
	t.Parallel()
	base := triage.Suggestion{Action: classifier.ActionReply, Categories: []string{"new-device", "passkey-setup"}, Reply: []string{"new-device"}, Platform: "android"}
	with := func(f func(*triage.Suggestion)) *triage.Suggestion { s := base; f(&s); return &s }
	human := classifier.Expect{Categories: []string{}, Platform: "android", Action: classifier.ActionHuman}
	tests := []struct {
		name string
		s    *triage.Suggestion
		want *classifier.Expect
	}{
		{"pending: nothing known", &base, nil},
		{"sent: the suggestion, categories in canonical order", with(func(s *triage.Suggestion) { s.Outcome = triage.OutcomeSent }),
			&classifier.Expect{Categories: []string{"passkey-setup", "new-device"}, Platform: "android", Action: classifier.ActionReply}},
		{"corrected to categories", with(func(s *triage.Suggestion) {
			s.Outcome, s.Corrected = triage.OutcomeCorrected, &triage.Correction{Categories: []string{"authenticator-sign-in"}}
		}), &classifier.Expect{Categories: []string{"authenticator-sign-in"}, Platform: "android", Action: classifier.ActionReply}},
		{"corrected to human", with(func(s *triage.Suggestion) {
			s.Outcome, s.Corrected = triage.OutcomeCorrected, &triage.Correction{Human: true}
		}), &human},
		{"a bare wrong: not known", with(func(s *triage.Suggestion) {
			s.Outcome, s.Corrected = triage.OutcomeCorrected, &triage.Correction{Human: true, Unknown: true}
		}), nil},
		{"otherwise: human", with(func(s *triage.Suggestion) { s.Outcome = triage.OutcomeOtherwise }), &human},
		{"no suggestion", nil, nil},
	}
	for _, tc := range tests {
		e, ok := tc.s.Expect()
		var got *classifier.Expect
		if ok {
			got = &e
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}
