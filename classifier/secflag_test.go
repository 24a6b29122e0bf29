package classifier

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLearnedSecurityFlag checks when the text model's security output
// flags a ticket the rules leave alone: from the model's threshold up,
// and from secActingPenalty above it when the same model would act on the
// ticket; structure features other than the bias never feed it; a
// threshold of 0 is off. The security caution flags, from its own
// threshold, a verdict that would act on a ticket the flag leaves alone.
func TestLearnedSecurityFlag(t *testing.T) {
	t.Parallel()
	rs, err := ParseRules(bytes.NewReader(defaultRules))
	if err != nil {
		t.Fatal(err)
	}
	structBucket := func(f int) int { return int(structFeature(f)) }
	bias, bot := structBucket(structBias), structBucket(structBot)
	// every weight zero but a few of the bias's and the bot feature's
	cautious := func(threshold, caution, sec, human, botSec float64) *Model {
		w := make([]float32, modelBuckets*nOut)
		w[bias*nOut+secOut] = float32(sec)
		w[bias*nOut+nCats+humanIdx] = float32(human)
		w[bot*nOut+secOut] = float32(botSec)
		return newModel(w, Meta{SecThreshold: threshold, SecCaution: caution})
	}
	model := func(threshold, sec, human, botSec float64) *Model {
		return cautious(threshold, 0, sec, human, botSec)
	}
	first := Ticket{Summary: "Defender says Authenticator did not complete login", Description: "on my iPhone since this morning"}
	afterBot := Ticket{Summary: first.Summary, Description: first.Description, Comments: []Comment{
		{Author: AuthorBot, Body: "Open Authenticator and approve the pending sign-in."},
		{Author: AuthorReporter, Body: "thanks, I will try that tomorrow"},
	}}
	type got struct {
		Security bool
		Learned  bool // the evidence names the learned model
		Caution  bool // the evidence names the security caution
	}
	tests := []struct {
		name   string
		m      *Model
		ticket Ticket
		want   got
	}{
		{"flagged", model(0.5, 5, 5, 0), first, got{true, true, false}},
		{"below the threshold", model(0.999, 5, 5, 0), first, got{false, false, false}},
		{"off", model(0, 5, 5, 0), first, got{false, false, false}},
		{"the model would reply: not sure enough", model(0.8, 2, -5, 0), first, got{false, false, false}},
		{"the model would reply, but it is sure", model(0.5, 5, -5, 0), first, got{true, true, false}},
		{"structure does not feed it", model(0.5, -5, 5, 50), afterBot, got{false, false, false}},
		// sigmoid(2) = 0.88: below the flag's 0.8 + 0.2 when the model
		// would reply, above a caution of 0.5
		{"the model would reply: below the flag, above the caution", cautious(0.8, 0.5, 2, -5, 0), first, got{true, false, true}},
		{"below the caution the bot acts", cautious(0.8, 0.9, 2, -5, 0), first, got{false, false, false}},
		{"the caution does not take what the flag takes", cautious(0.5, 0.1, 5, -5, 0), first, got{true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := New(rs, WithModel(tt.m))
			if err != nil {
				t.Fatal(err)
			}
			v := c.Decide(tt.ticket)
			g := got{Security: v.Security}
			for _, e := range v.Evidence {
				g.Learned = g.Learned || (e.Label == SigSecurity && e.Rule == "learned model")
				g.Caution = g.Caution || (e.Label == SigSecurity && e.Rule == RuleSecurityCaution)
			}
			if g.Security && (v.Action != ActionHuman || v.Reason != ReasonSecurity || len(v.Reply) > 0 || len(v.Categories) > 0 || v.Mode != ModeNone || v.Confidence != 1) {
				t.Errorf("flagged, but action %s, reason %q, mode %s, confidence %v, categories %v, reply %v: want human for security, confidence 1, nothing to send or suggest",
					v.Action, v.Reason, v.Mode, v.Confidence, v.Categories, v.Reply)
			}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("verdict (-want, +got):\n%s", diff)
			}
		})
	}
}
