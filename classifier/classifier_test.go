package classifier_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage/classifier"
)

func newClassifier(t testing.TB) *classifier.Classifier {
	t.Helper()
	c, err := classifier.NewDefault()
	if err != nil {
		t.Fatalf("NewDefault: %v", err)
	}
	return c
}

// rulesOnly is the embedded rules without the learned model.
func rulesOnly(t testing.TB) *classifier.Classifier {
	t.Helper()
	rs, err := classifier.ParseRules(bytes.NewReader(classifier.DefaultRules()))
	if err != nil {
		t.Fatal(err)
	}
	c, err := classifier.New(rs)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readCorpus(t testing.TB, path string) []classifier.Labeled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open corpus: %v", err)
	}
	defer f.Close()
	tickets, err := classifier.ReadCorpus(f)
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	return tickets
}

func score(t testing.TB, c *classifier.Classifier, tickets []classifier.Labeled) classifier.Report {
	t.Helper()
	s := classifier.NewScorer()
	for _, tk := range tickets {
		if tk.Expect == nil {
			t.Fatalf("%s: no expect", tk.ID)
		}
		s.Add(tk.ID, *tk.Expect, c.Decide(tk.Ticket))
	}
	return s.Report()
}

// devCorpus is the shared labeled corpus beside the repository (as CI lays
// it out, so the test fails without it); TRIAGE_DEV_CORPUS overrides the
// path.
func devCorpus() string {
	if p := os.Getenv("TRIAGE_DEV_CORPUS"); p != "" {
		return p
	}
	return filepath.Join("..", "..", "shared", "corpus", "dev.jsonl")
}

// TestCorpusTargets holds the classifier to the targets on the dev
// corpus, and to floors on the project's own labeled tickets (written
// independently of the rules, so they measure how the rules generalise).
func TestCorpusTargets(t *testing.T) {
	t.Parallel()
	c := newClassifier(t)
	tests := []struct {
		path                             string
		macroF1, action, platform, false float64
	}{
		{path: devCorpus(), macroF1: 0.95, action: 0.93, platform: 0.95, false: 0.02},
		{path: "../testdata/corpus/handwritten.jsonl", macroF1: 0.95, action: 0.95, platform: 0.95, false: 0.02},
		{path: "../testdata/corpus/holdout.jsonl", macroF1: 0.95, action: 0.95, platform: 0.95, false: 0.02},
		{path: "../testdata/corpus/holdout2.jsonl", macroF1: 0.95, action: 0.95, platform: 0.95, false: 0.02},
		{path: "../testdata/corpus/holdout3.jsonl", macroF1: 0.95, action: 0.95, platform: 0.95, false: 0.02},
		{path: "../testdata/corpus/holdout4.jsonl", macroF1: 0.95, action: 0.95, platform: 0.95, false: 0.02},
		{path: "../testdata/corpus/holdout5.jsonl", macroF1: 0.93, action: 0.95, platform: 0.9, false: 0.02},
		{path: "../testdata/corpus/holdout6.jsonl", macroF1: 0.95, action: 0.95, platform: 0.95, false: 0.02},
		{path: "../testdata/corpus/holdout7.jsonl", macroF1: 0.93, action: 0.95, platform: 0.95, false: 0.03},
		{path: "../testdata/corpus/languages.jsonl", macroF1: 0.95, action: 0.95, platform: 0.95, false: 0},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.path), func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				t.Fatalf("corpus: %v (the dev corpus is ../shared/corpus/dev.jsonl beside the repository, as CI lays it out; TRIAGE_DEV_CORPUS names another path)", err)
			}
			r := score(t, c, readCorpus(t, tt.path))
			t.Logf("%s: tickets=%d macro_f1=%.3f micro_f1=%.3f action_accuracy=%.3f platform_accuracy=%.3f false_reply_rate=%.3f",
				tt.path, r.Tickets, r.MacroF1, r.MicroF1, r.ActionAccuracy, r.PlatformAccuracy, r.FalseReplyRate)
			if r.MacroF1 < tt.macroF1 || r.ActionAccuracy < tt.action || r.PlatformAccuracy < tt.platform || r.FalseReplyRate > tt.false {
				for _, e := range r.Errors {
					t.Logf("%s %v: want %s %v %s, got %s %v %s (%s)", e.ID, e.What, e.Want.Action, e.Want.Categories, e.Want.Platform,
						e.Got.Action, e.Got.Categories, e.Got.Platform, e.Reason)
				}
				t.Errorf("below target: macro_f1 %.3f (≥ %.2f), action %.3f (≥ %.2f), platform %.3f (≥ %.2f), false_reply_rate %.3f (≤ %.2f)",
					r.MacroF1, tt.macroF1, r.ActionAccuracy, tt.action, r.PlatformAccuracy, tt.platform, r.FalseReplyRate, tt.false)
			}
		})
	}
}

type want struct {
	Categories []string
	Platform   string
	Action     classifier.Action
	Reply      []string
}

func got(v classifier.Verdict) want {
	return want{Categories: v.Categories, Platform: v.Platform, Action: v.Action, Reply: v.Reply}
}

func bot(body string) classifier.Comment {
	return classifier.Comment{Author: classifier.AuthorBot, Body: body}
}
func reporter(body string) classifier.Comment {
	return classifier.Comment{Author: classifier.AuthorReporter, Body: body}
}
func agent(body string) classifier.Comment {
	return classifier.Comment{Author: classifier.AuthorAgent, Body: body}
}

const botIncompleteSteps = `Hi Sam,

Defender could not finish the sign-in because the approval in your authenticator app was not completed.
# Open *Microsoft Authenticator*, *Company Portal* or the main Microsoft app on your device (for example Outlook).
# Finish the pending sign-in or approval there.

_This is an automated reply from the IT helpdesk assistant. Reply to this ticket if it did not help and a colleague will take over._`

// TestThreadRules checks the SPEC's thread rules, one by one.
func TestThreadRules(t *testing.T) {
	t.Parallel()
	c := newClassifier(t)
	incomplete := classifier.Ticket{Summary: "Defender login", Description: "Defender says Authenticator did not complete login."}
	with := func(base classifier.Ticket, comments ...classifier.Comment) classifier.Ticket {
		base.Comments = comments
		return base
	}
	cats := []string{classifier.CatAuthenticatorIncomplete}
	tests := []struct {
		name   string
		ticket classifier.Ticket
		want   want
	}{
		{"new ticket gets a reply", incomplete,
			want{cats, "unknown", classifier.ActionReply, cats}},
		{"works now after the steps resolves", with(incomplete, bot(botIncompleteSteps), reporter("That worked, thanks!")),
			want{cats, "unknown", classifier.ActionResolve, nil}},
		{"still fails after the steps escalates", with(incomplete, bot(botIncompleteSteps), reporter("Did that, Defender still says the same thing.")),
			want{cats, "unknown", classifier.ActionEscalateMFA, nil}},
		{"new information replies with the new category only", with(incomplete, bot(botIncompleteSteps), reporter("OK that part is done, but now it says my passkey can no longer be used. iPhone 14.")),
			want{[]string{classifier.CatAuthenticatorIncomplete, classifier.CatPasskeyInvalid}, "ios", classifier.ActionReply, []string{classifier.CatPasskeyInvalid}}},
		{"works now but a new problem replies", with(incomplete, bot(botIncompleteSteps), reporter("The approval works now, but I also got a new phone last week, what do I do?")),
			want{[]string{classifier.CatAuthenticatorIncomplete, classifier.CatNewDevice}, "unknown", classifier.ActionReply, []string{classifier.CatNewDevice}}},
		{"an agent comment means human", with(incomplete, agent("I'll call you in 5 minutes."), reporter("still fails")),
			want{cats, "unknown", classifier.ActionHuman, nil}},
		{"the bot's own comment is the latest event", with(incomplete, bot(botIncompleteSteps)),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"escalate wins over reply", with(incomplete, bot(botIncompleteSteps), reporter("Still not working, and now my passkey can't be used either.")),
			want{[]string{classifier.CatAuthenticatorIncomplete, classifier.CatPasskeyInvalid}, "unknown", classifier.ActionEscalateMFA, nil}},
		{"forgot the password after the steps", with(incomplete, bot(botIncompleteSteps), reporter("Now I also forgot my password. Can you reset it?")),
			want{[]string{classifier.CatAuthenticatorIncomplete, classifier.CatPasswordForgotten}, "unknown", classifier.ActionEscalatePassword, nil}},
		{"steps already done in the first message escalates", classifier.Ticket{Summary: "passkey", Description: "I removed the old passkey and set up a new one as the guide says. Defender still says this passkey can no longer be used."},
			want{[]string{classifier.CatPasskeyInvalid}, "unknown", classifier.ActionEscalateMFA, nil}},
		{"asks for an MFA reset", classifier.Ticket{Summary: "MFA", Description: "Please reset my MFA methods so I can start from scratch."},
			want{[]string{}, "unknown", classifier.ActionEscalateMFA, nil}},
		{"lost phone, no other way", classifier.Ticket{Summary: "phone lost", Description: "I lost my phone on the bus. Authenticator was only on that phone and I have no other way to sign in."},
			want{[]string{}, "unknown", classifier.ActionEscalateMFA, nil}},
		{"locked account", classifier.Ticket{Summary: "locked", Description: "My account is locked after too many attempts."},
			want{[]string{classifier.CatPasswordForgotten}, "unknown", classifier.ActionEscalatePassword, nil}},
		{"already replied categories are not replied again", classifier.Ticket{Summary: "passkey", Description: "My passkey can no longer be used", Replied: []string{classifier.CatPasskeyInvalid}},
			want{[]string{classifier.CatPasskeyInvalid}, "unknown", classifier.ActionReply, nil}},
		{"off-topic", classifier.Ticket{Summary: "printer", Description: "The printer on floor 2 is jammed again."},
			want{[]string{}, "unknown", classifier.ActionHuman, nil}},
		{"a thumbs-up answers the steps", with(incomplete, bot(botIncompleteSteps), reporter("\U0001F44D")),
			want{cats, "unknown", classifier.ActionResolve, nil}},
		{"a thumbs-up before trying is not a resolve: nothing new to post", with(incomplete, bot(botIncompleteSteps), reporter("\U0001F44D will try tomorrow when I'm back in the office")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, in German", with(incomplete, bot(botIncompleteSteps), reporter("Danke! Probiere ich morgen früh vor Schichtbeginn aus.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, in Spanish", with(incomplete, bot(botIncompleteSteps), reporter("Genial, gracias. Lo pruebo luego cuando termine la clase.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, in French", with(incomplete, bot(botIncompleteSteps), reporter("Merci, je m'en occuperai demain matin avant la réunion.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, in Dutch", with(incomplete, bot(botIncompleteSteps), reporter("Top, ik doe het vanavond thuis even.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, in Portuguese", with(incomplete, bot(botIncompleteSteps), reporter("Obrigado, vou fazer isso quando chegar em casa.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, in Italian", with(incomplete, bot(botIncompleteSteps), reporter("Grazie, lo faccio stasera con calma.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, later today in German", with(incomplete, bot(botIncompleteSteps), reporter("Danke, mach ich heute Nachmittag in der Pause.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, on a weekday, in Spanish", with(incomplete, bot(botIncompleteSteps), reporter("Vale, lo reviso el jueves cuando vuelva a la oficina.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"thanks before trying, tomorrow morning, in Italian", with(incomplete, bot(botIncompleteSteps), reporter("Ok grazie, ci provo domattina appena arrivo.")),
			want{cats, "unknown", classifier.ActionReply, nil}},
		{"did the steps and it works, in the category's own words", with(classifier.Ticket{Summary: "number", Description: "How do I sign in with Authenticator? A number shows up on my screen."},
			bot(botIncompleteSteps), reporter("Entered the number in the app and approved it. Works, thanks!")),
			want{[]string{classifier.CatAuthenticatorSignIn}, "unknown", classifier.ActionResolve, nil}},
		{"a reset request wins over how-to words in the answer", with(classifier.Ticket{Summary: "new phone", Description: "I have a new phone, the old one is gone."},
			bot(botIncompleteSteps), reporter("I can't set up a passkey on the new phone because it wants an approval on the old one. Please reset my MFA.")),
			want{[]string{classifier.CatNewDevice}, "unknown", classifier.ActionEscalateMFA, nil}},
		{"the quoted bot reply does not count", with(classifier.Ticket{Summary: "login", Description: "Authenticator did not complete login"},
			bot(botIncompleteSteps), reporter("perfect, that fixed it\n\nOn Tue, 14 May 2024 at 09:31, IT Helpdesk <helpdesk@example.com> wrote:\n> Open Microsoft Authenticator, Company Portal or the main Microsoft app on your device.\n> If your passkey can no longer be used, remove it.")),
			want{cats, "unknown", classifier.ActionResolve, nil}},
	}
	rules := rulesOnly(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// the thread rules are the rules' own: exact
			if diff := cmp.Diff(tt.want, got(rules.Decide(tt.ticket))); diff != "" {
				t.Errorf("the rules alone (-want +got):\n%s", diff)
			}
			// the combined decision takes the same action, and acts alone
			// only on the categories the thread rules give
			v := c.Decide(tt.ticket)
			if v.Action != tt.want.Action {
				t.Errorf("the combined decision: action %s, want %s", v.Action, tt.want.Action)
			}
			if diff := cmp.Diff(tt.want, got(v)); diff != "" && v.Mode == classifier.ModeAuto {
				t.Errorf("the combined decision acts alone (confidence %.3f) on another verdict (-want +got):\n%s", v.Confidence, diff)
			}
		})
	}
}

// TestTextHandling checks normalisation, markup, quotes, signatures,
// typos and negation through the decision.
func TestTextHandling(t *testing.T) {
	t.Parallel()
	c := newClassifier(t)
	tests := []struct {
		name        string
		summary     string
		description string
		want        want
	}{
		{"typos", "defnder", "authenitcator didnt complete the login, pls help", want{[]string{"authenticator-incomplete"}, "unknown", "reply", []string{"authenticator-incomplete"}}},
		{"phone keyboard slip", "pasky", "my passkye cant be used anymore", want{[]string{"passkey-invalid"}, "unknown", "reply", []string{"passkey-invalid"}}},
		{"curly quotes and caps", "HELP", "MY PASSKEY CAN\u2019T BE USED ANYMORE!!!", want{[]string{"passkey-invalid"}, "unknown", "reply", []string{"passkey-invalid"}}},
		{"word order", "error", "The login was not completed by Authenticator", want{[]string{"authenticator-incomplete"}, "unknown", "reply", []string{"authenticator-incomplete"}}},
		{"negation", "laptop battery", "This is NOT about my passkey, it's about my laptop's battery draining.", want{[]string{}, "unknown", "human", nil}},
		{"html e-mail", "passkey", "<p>Hello,</p><p>Defender says &quot;This passkey can&#39;t be used&quot;.</p><p>Sent from my iPhone</p>", want{[]string{"passkey-invalid"}, "ios", "reply", []string{"passkey-invalid"}}},
		{"wiki markup", "error", "h3. Error\n{code}Authenticator did not complete login{code}\n*Device:* [my phone|http://example.com] Pixel 8", want{[]string{"authenticator-incomplete"}, "android", "reply", []string{"authenticator-incomplete"}}},
		{"signature platform counts", "passkey setup", "How do I set up a passkey in Authenticator?\n\nThanks\nJo\n\nSent from my Galaxy", want{[]string{"passkey-setup"}, "android", "reply", []string{"passkey-setup"}}},
		{"disclaimer does not count", "login", "Authenticator did not complete login.\n\nRegards,\nJo\n---\nIT will never ask you for your password. This e-mail is confidential; if you are not the intended recipient, your account may be locked.", want{[]string{"authenticator-incomplete"}, "unknown", "reply", []string{"authenticator-incomplete"}}},
		{"quoted helpdesk reply in the first message", "RE: passkey", "I still need help.\n\nFrom: IT Helpdesk <helpdesk@example.com>\nSent: Monday\nTo: Jo\nSubject: passkey\n\nTo set up a passkey on your new phone, open Authenticator.", want{[]string{}, "unknown", "human", nil}},
		{"forwarded message counts", "FW: login problem", "Forwarding for my colleague.\n\n-----Original Message-----\nFrom: Sam <sam@example.com>\nSent: Monday\nTo: Jo\nSubject: login\n\nDefender says Authenticator did not complete login on my iPhone.", want{[]string{"authenticator-incomplete"}, "ios", "reply", []string{"authenticator-incomplete"}}},
		{"door passkey is off-topic", "door passkey", "My passkey for the side entrance stopped working, the keypad beeps.", want{[]string{}, "unknown", "human", nil}},
		{"switched phones: the new one counts", "new phone", "I switched from an iPhone to a Samsung Galaxy S23. Authenticator is empty on the Samsung.", want{[]string{"new-device"}, "android", "reply", []string{"new-device"}}},
		{"template syntax is just text", "{{.Summary}}", "{{template \"x\"}} my passkey can no longer be used {{end}}", want{[]string{"passkey-invalid"}, "unknown", "reply", []string{"passkey-invalid"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := c.Decide(classifier.Ticket{Summary: tt.summary, Description: tt.description})
			if tt.want.Categories == nil {
				tt.want.Categories = []string{}
			}
			if diff := cmp.Diff(tt.want, got(v)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLanguages checks every ticket of the per-language set, one subtest
// per ticket so that a failure names the language.
func TestLanguages(t *testing.T) {
	t.Parallel()
	c := newClassifier(t)
	for _, tk := range readCorpus(t, "../testdata/corpus/languages.jsonl") {
		t.Run(tk.ID, func(t *testing.T) {
			t.Parallel()
			v := c.Decide(tk.Ticket)
			w := want{Categories: tk.Expect.Categories, Platform: tk.Expect.Platform, Action: tk.Expect.Action}
			g := want{Categories: v.Categories, Platform: v.Platform, Action: v.Action}
			if diff := cmp.Diff(w, g); diff != "" {
				t.Errorf("%s %q (-want +got):\n%s", tk.ID, tk.Summary, diff)
			}
		})
	}
}

// TestEvidence checks that a verdict explains itself: the matched phrase
// and where it was found.
func TestEvidence(t *testing.T) {
	t.Parallel()
	c := newClassifier(t)
	v := c.Decide(classifier.Ticket{Summary: "Passkey problem", Description: "Defender: This passkey can no longer be used.",
		Comments: []classifier.Comment{reporter("Forgot to say: iPhone 15.")}})
	var where []string
	for _, e := range v.Evidence {
		where = append(where, e.Kind+"/"+e.Label+"@"+e.Where)
		if e.Text == "" || e.Rule == "" {
			t.Errorf("evidence without text or rule: %+v", e)
		}
	}
	for _, w := range []string{"category/passkey-invalid@description", "platform/ios@comment"} {
		if !contains(where, w) {
			t.Errorf("evidence %v lacks %s", where, w)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestDeterministic checks that the same ticket always gets the same
// verdict, also when decided concurrently (the scratch pool is shared).
func TestDeterministic(t *testing.T) {
	t.Parallel()
	c := newClassifier(t)
	tickets := readCorpus(t, "../testdata/corpus/handwritten.jsonl")
	first := make([]classifier.Verdict, len(tickets))
	for i, tk := range tickets {
		first[i] = c.Decide(tk.Ticket)
	}
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i, tk := range tickets {
				if diff := cmp.Diff(first[i], c.Decide(tk.Ticket)); diff != "" {
					t.Errorf("%s: verdict changed (-first +again):\n%s", tk.ID, diff)
					return
				}
			}
		}()
	}
	for w := 0; w < 4; w++ {
		<-done
	}
}

// TestRulesValidation checks that a broken rules file is refused with
// plain-English errors.
func TestRulesValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"empty", "", "rules file is empty"},
		{"unknown field", "version: 1\nbogus: 2\n", "field bogus not found"},
		{"wrong version", "version: 2\n", "version must be 1"},
		{"missing category", "version: 1\n", `category "passkey-setup" is missing`},
		{"unknown group", strings.Replace(string(classifier.DefaultRules()), `"@passkey", "@invalid_strong"], window: 10`, `"@nosuchgroup", "@invalid_strong"], window: 10`, 1), "group @nosuchgroup, which is not defined"},
		{"negative weight", strings.Replace(string(classifier.DefaultRules()), `{phrase: "number matching", weight: 2, no_negation: true}`, `{phrase: "number matching", weight: -2, no_negation: true}`, 1), "weight cannot be negative"},
		{"both phrase and near", strings.Replace(string(classifier.DefaultRules()), `{phrase: "number matching", weight: 2, no_negation: true}`, `{phrase: "number matching", near: [a, b]}`, 1), "has both phrase and near"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := classifier.ParseRules(strings.NewReader(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseRules error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestParseTicket checks the classify command's input: corpus JSON or
// plain text.
func TestParseTicket(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     classifier.Ticket
		wantErr  string
	}{
		{name: "plain text", in: "Passkey problem\nit can no longer be used\n", want: classifier.Ticket{Summary: "Passkey problem", Description: "it can no longer be used"}},
		{name: "json", in: `{"id":"x","summary":"s","description":"d","comments":[{"author":"bot","body":"b"}],"expect":{"categories":[],"platform":"unknown","action":"human"}}`,
			want: classifier.Ticket{ID: "x", Summary: "s", Description: "d", Comments: []classifier.Comment{{Author: "bot", Body: "b"}}}},
		{name: "empty", in: "  \n", wantErr: "empty"},
		{name: "bad author", in: `{"summary":"s","comments":[{"author":"admin","body":"b"}]}`, wantErr: `author "admin"`},
		{name: "bad action", in: `{"summary":"s","expect":{"categories":[],"platform":"unknown","action":"delete"}}`, wantErr: `unknown action "delete"`},
		{name: "binary", in: "\xff\xfe\x00junk", wantErr: "neither JSON nor UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l, err := classifier.ParseTicket([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, l.Ticket); diff != "" {
				t.Errorf("ParseTicket (-want +got):\n%s", diff)
			}
		})
	}
}
