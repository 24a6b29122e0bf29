package classifier

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHeldOutIsNotTrainedOn checks that no ticket of the held-out sets is
// among the training corpora (the same text in both would make the
// held-out figures worthless) and that the held-out folder is not under
// the training glob.
func TestHeldOutIsNotTrainedOn(t *testing.T) {
	train := map[string]string{}
	files, _ := filepath.Glob("../testdata/corpus/*.jsonl")
	files = append(files, "../../shared/corpus/dev.jsonl")
	for _, f := range files {
		if strings.Contains(f, "heldout") {
			t.Fatalf("%s is a training corpus", f)
		}
		for _, l := range readLabeled(t, f) {
			train[l.Summary+"\x00"+l.Description] = f
		}
	}
	held, _ := filepath.Glob("../testdata/heldout/*.jsonl")
	if len(held) == 0 {
		t.Fatal("no held-out set in testdata/heldout")
	}
	for _, f := range held {
		for _, l := range readLabeled(t, f) {
			if src, ok := train[l.Summary+"\x00"+l.Description]; ok {
				t.Errorf("%s: %s is also in the training corpus %s", f, l.ID, src)
			}
		}
	}
}

// TestModelRoundTrip writes and reads the embedded model back.
func TestModelRoundTrip(t *testing.T) {
	m, err := LoadDefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := m.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), DefaultModel()) {
		t.Error("writing the embedded model back gives other bytes")
	}
	if diff := cmp.Diff(m.Meta(), mustRead(t, buf.Bytes()).Meta()); diff != "" {
		t.Errorf("meta after a round trip (-want, +got):\n%s", diff)
	}
}

func mustRead(t *testing.T, b []byte) *Model {
	t.Helper()
	m, err := ReadModel(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestReadModelRejects lists model files that must be refused with an
// error, not loaded or panicked on.
func TestReadModelRejects(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write([]byte(s))
		w.Close()
		return b.Bytes()
	}
	for name, data := range map[string][]byte{
		"not gzip":            []byte("hello"),
		"no magic":            gz("something else\n{}\n"),
		"bad meta":            gz(modelMagic + "{not json\n"),
		"threshold":           gz(modelMagic + v6Meta(`"auto_threshold": 7`)),
		"sec threshold":       gz(modelMagic + v6Meta(`"sec_threshold": -1`)),
		"second doubt":        gz(modelMagic + v6Meta(`"second_doubt": 2`)),
		"older format":        gz(modelMagicV1 + "{}\n"),
		"v2 format":           gz(modelMagicV2 + "{}\n"),
		"truncated weights":   gz(modelMagic + v6Meta("") + "\x01\x00\x00\x00\x00"),
		"bucket range":        gz(modelMagic + v6Meta("") + "\xff\xff\xff\xff" + strings.Repeat("\x00", 4*nOut)),
		"NaN weight":          gz(modelMagic + v6Meta("") + "\x01\x00\x00\x00" + "\x00\x00\xc0\x7f" + strings.Repeat("\x00", 4*(nOut-1))),
		"boost feature":       gz(modelMagic + v6Meta(`"boost":{"base":0,"trees":[{"f":[99,-1,-1,-1,-1,-1,-1]}]}`)),
		"boost below -1":      gz(modelMagic + v6Meta(`"boost":{"base":0,"trees":[{"f":[-2,-1,-1,-1,-1,-1,-1]}]}`)),
		"v6 without combiner": gz(modelMagic + "{}\n"),
		"combiner feature":    gz(modelMagic + `{"combiner":{"cat":[{"base":0,"trees":[{"f":[22,-1,-1,-1,-1,-1,-1]}]}]}}` + "\n"),
		"v5 without cat, act": gz(modelMagicV5 + "{}\n"),
		"v5 with cat only":    gz(modelMagicV5 + `{"cat":[]}` + "\n"),
	} {
		if _, err := ReadModel(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: ReadModel accepted it", name)
		}
	}
}

// v6Meta is a v6 meta line with the least ReadModel needs (a combiner:
// trees-less boosts) and the JSON fields more.
func v6Meta(more string) string {
	b := `{"base":0,"trees":null}`
	meta := `"combiner":{"cat":[` + strings.Repeat(b+",", nCats-1) + b + `],"act":[` + strings.Repeat(b+",", nActs-1) + b + `]}`
	if more != "" {
		meta += "," + more
	}
	return "{" + meta + "}\n"
}

// linearMeta turns the embedded model's meta line into one of a model
// before v6: no boosted combiner, the linear one's weights (cat and act,
// from set when set gives them, else 0).
func linearMeta(t *testing.T, metaLine []byte, set func(cat *[nCats][catDim]float64, act *[nActs][actDim]float64)) []byte {
	t.Helper()
	var meta map[string]any
	if err := json.Unmarshal(metaLine, &meta); err != nil {
		t.Fatal(err)
	}
	if _, ok := meta["combiner"]; !ok {
		t.Fatal("the embedded model has no combiner")
	}
	delete(meta, "combiner")
	var cat [nCats][catDim]float64
	var act [nActs][actDim]float64
	if set != nil {
		set(&cat, &act)
	}
	meta["cat"], meta["act"] = cat, act
	out, err := json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReadModelV5 checks that a model of the format before the boosted
// combiner is still read, and judges with its linear combiner (a v5 file
// has none; one that had would not be read as such).
func TestReadModelV5(t *testing.T) {
	t.Parallel()
	m, err := LoadDefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	if mt := m.Meta(); mt.Combiner == nil || mt.Cat != nil || mt.Act != nil {
		t.Fatal("the embedded model has no boosted combiner, or a linear one too")
	}
	_, metaLine, weights := embeddedModelParts(t)
	// a linear combiner that finds passkey-setup (its bias) and escalates
	// for an MFA reset, whatever it reads
	const setup, escalate = 1, 1
	line := linearMeta(t, metaLine, func(cat *[nCats][catDim]float64, act *[nActs][actDim]float64) {
		for c := range nCats {
			cat[c][catDim-1] = -8
		}
		cat[setup][catDim-1] = 8
		act[escalate][actDim-1] = 8
	})
	// the line keeps the embedded combiner too: a v5 file must not use it
	var meta, embedded map[string]any
	if err := json.Unmarshal(line, &meta); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(metaLine, &embedded); err != nil {
		t.Fatal(err)
	}
	meta["combiner"] = embedded["combiner"]
	if line, err = json.Marshal(meta); err != nil {
		t.Fatal(err)
	}
	mt := mustRead(t, gzipModel(modelMagicV5, line, weights)).Meta()
	if mt.Combiner != nil || mt.Boost == nil {
		t.Fatalf("a v5 model read with a boosted combiner (%v) or without its boosted calibration (%v)", mt.Combiner != nil, mt.Boost == nil)
	}
	j := mt.judge(rulesView{act: humanIdx}, textProbs{act: [nActs]float64{0.2, 0.2, 0.2, 0.2, 0.2}})
	want := [nCats]bool{setup: true}
	if j.cats != want || j.act != escalate {
		t.Errorf("a v5 model judged categories %v and action %d, want %v and %d (its linear combiner's)", j.cats, j.act, want, escalate)
	}
}

// embeddedModelParts splits the embedded model, decompressed, into its
// header line (with its newline), its meta line and its weights.
func embeddedModelParts(t *testing.T) (head string, metaLine, weights []byte) {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(DefaultModel()))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	h, rest, _ := bytes.Cut(plain, []byte("\n"))
	metaLine, weights, _ = bytes.Cut(rest, []byte("\n"))
	return string(h) + "\n", metaLine, weights
}

// gzipModel writes a model file of header magic from its meta line and
// weights.
func gzipModel(magic string, metaLine, weights []byte) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(magic))
	zw.Write(metaLine)
	zw.Write([]byte("\n"))
	zw.Write(weights)
	zw.Close()
	return b.Bytes()
}

// TestReadModelV4 checks that a model of the format before the boosted
// calibration is still read, and decides with its logistic calibration
// (a v4 file has no boosted trees; one that had would not be read as such).
func TestReadModelV4(t *testing.T) {
	t.Parallel()
	m, err := LoadDefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta().Boost == nil {
		t.Fatal("the embedded model has no boosted calibration")
	}
	_, metaLine, weights := embeddedModelParts(t)
	old := mustRead(t, gzipModel(modelMagicV4, linearMeta(t, metaLine, nil), weights))
	if old.Meta().Boost != nil {
		t.Error("a v4 model was read with boosted trees")
	}
	meta := old.Meta()
	var f [nCalib]float64
	f[calBias], f[calActLogit], f[calAgreeAct] = 1, 2, 1
	if got, want := meta.confidence(f), confidence(&meta.Calib, f); got != want {
		t.Errorf("a v4 model's confidence %v, want its logistic calibration's %v", got, want)
	}
}

// TestReadModelV3 checks that a model of the format before the
// calibration's last features is still read, with those features weighing
// 0 and the others as written: a v3 file is the embedded one with a shorter
// calibration (and the boosted trees, which a v3 file is read without).
func TestReadModelV3(t *testing.T) {
	t.Parallel()
	m, err := LoadDefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	head, metaLine, weights := embeddedModelParts(t)
	if head != modelMagic {
		t.Fatalf("header %q, want %q", head, modelMagic)
	}
	metaLine = linearMeta(t, metaLine, nil)
	var meta map[string]any
	if err := json.Unmarshal(metaLine, &meta); err != nil {
		t.Fatal(err)
	}
	calib := meta["calib"].([]any)
	if len(calib) != nCalib {
		t.Fatalf("calib has %d weights, want %d", len(calib), nCalib)
	}
	meta["calib"] = calib[:calLeftOut]
	metaLine, err = json.Marshal(meta)
	if err != nil {
		t.Fatal(err)
	}
	old := mustRead(t, gzipModel(modelMagicV3, metaLine, weights))
	want := m.Meta().Calib
	for k := calLeftOut; k < nCalib; k++ {
		want[k] = 0
	}
	if diff := cmp.Diff(want, old.Meta().Calib); diff != "" {
		t.Errorf("v3 calibration (-want, +got):\n%s", diff)
	}
}

// FuzzReadModel feeds arbitrary bytes to the model reader (a model file
// is outside input: TRIAGE_MODEL).
func FuzzReadModel(f *testing.F) {
	f.Add(DefaultModel()[:200])
	f.Add([]byte{0x1f, 0x8b})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = ReadModel(bytes.NewReader(data))
	})
}

// TestModes checks the tiers: human is none; a verdict that acts is auto
// from the threshold up, a suggestion below it; above 1, never auto.
func TestModes(t *testing.T) {
	ticket := Ticket{Summary: "Authenticator did not complete login", Description: "Defender says Authenticator did not complete login on my iPhone."}
	for _, tc := range []struct {
		threshold float64
		want      string
	}{{0, ModeAuto}, {1.01, ModeSuggest}} {
		c, err := NewDefault(WithAutoThreshold(tc.threshold))
		if err != nil {
			t.Fatal(err)
		}
		v := c.Decide(ticket)
		if v.Action == ActionHuman {
			t.Fatalf("a plain incomplete-login ticket went to a human: %+v", v)
		}
		if v.Mode != tc.want {
			t.Errorf("threshold %.2f: mode %q, want %q (confidence %.3f)", tc.threshold, v.Mode, tc.want, v.Confidence)
		}
		if v.Confidence < 0 || v.Confidence > 1 {
			t.Errorf("confidence %v outside [0, 1]", v.Confidence)
		}
	}
	c, _ := NewDefault()
	v := c.Decide(Ticket{Summary: "Printer on floor 3 is jammed", Description: "The printer near the kitchen jams on every page."})
	if v.Action != ActionHuman || v.Mode != ModeNone {
		t.Errorf("an off-topic ticket: action %s mode %s, want human none", v.Action, v.Mode)
	}
	v = c.Decide(Ticket{Summary: "passkey can no longer be used", Description: "Defender says my passkey can no longer be used.",
		Comments: []Comment{{Author: AuthorAgent, Body: "Looking into it."}}})
	if v.Action != ActionHuman || v.Mode != ModeNone || v.Confidence != 1 {
		t.Errorf("an agent's comment: action %s mode %s confidence %v, want human none 1", v.Action, v.Mode, v.Confidence)
	}
}

func readLabeled(t *testing.T, path string) []Labeled {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (the dev corpus is in ../shared beside the repository)", err)
	}
	defer f.Close()
	l, err := ReadCorpus(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return l
}

// TestAnswerWordsAlsoCountAsFirstMessage: the words of an answer after the
// bot's steps are features in the answers' namespace and in the first
// message's; the first message's words only in their own.
func TestAnswerWordsAlsoCountAsFirstMessage(t *testing.T) {
	c, err := New(mustDefaultRules(t))
	if err != nil {
		t.Fatal(err)
	}
	tk := Ticket{Summary: "passkey", Description: "How do I set up a passkey?", Comments: []Comment{
		{Author: AuthorBot, Body: "Open Authenticator and add a passkey."},
		{Author: AuthorReporter, Body: "thanks. weirdly I got three requests overnight"},
	}}
	var fs featureSet
	c.decideTicket(tk, false, &fs, nil)
	has := func(b uint32) bool { return slices.Contains(fs.idx[:fs.text], b) }
	for _, tt := range []struct {
		name string
		b    uint32
		want bool
	}{
		{"an answer's word, answers' namespace", wordFeature(1, []byte("overnight")), true},
		{"an answer's word, first message's namespace", wordFeature(0, []byte("overnight")), true},
		{"an answer's pair, first message's namespace", pairFeature(0, []byte("requests"), []byte("overnight")), true},
		{"a first message's word, answers' namespace", wordFeature(1, []byte("passkey")), false},
		{"a first message's word, its own namespace", wordFeature(0, []byte("passkey")), true},
	} {
		if got := has(tt.b); got != tt.want {
			t.Errorf("%s: present %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestSecurityDoubt checks that a verdict that would act alone is only a
// suggestion, with the doubt's evidence, when the model's probability of a
// possible attack reaches its security doubt; action and confidence stay.
func TestSecurityDoubt(t *testing.T) {
	t.Parallel()
	m, err := LoadDefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	ticket := Ticket{Summary: "Authenticator did not complete login", Description: "Defender says Authenticator did not complete login on my iPhone."}
	decide := func(doubt float64) Verdict {
		t.Helper()
		dm := *m
		dm.meta.SecDoubt = doubt
		c, err := NewDefault(WithModel(&dm), WithAutoThreshold(0))
		if err != nil {
			t.Fatal(err)
		}
		return c.Decide(ticket)
	}
	plain, doubtful := decide(0), decide(1e-9)
	if plain.Mode != ModeAuto || doubted(plain) {
		t.Fatalf("without the doubt: mode %s, doubted %v; want auto, not doubted", plain.Mode, doubted(plain))
	}
	if doubtful.Mode != ModeSuggest || !doubted(doubtful) {
		t.Errorf("with the doubt below its probability: mode %s, doubted %v; want suggest, doubted", doubtful.Mode, doubted(doubtful))
	}
	if doubtful.Action != plain.Action || doubtful.Confidence != plain.Confidence || doubtful.Security {
		t.Errorf("the doubt changed the verdict: %s %v security %v, want %s %v, no flag", doubtful.Action, doubtful.Confidence, doubtful.Security, plain.Action, plain.Confidence)
	}
}

// TestSecondProblemDoubt: a verdict that would act alone is only suggested
// when one sentence, read alone, names a category the verdict lacks with a
// probability from the model's second-problem doubt up; the evidence names
// the category and quotes the sentence; action and confidence stay.
func TestSecondProblemDoubt(t *testing.T) {
	t.Parallel()
	m, err := LoadDefaultModel()
	if err != nil {
		t.Fatal(err)
	}
	ticket := Ticket{Summary: "passkey not valid", Description: "Defender says my passkey can no longer be used. " +
		"I would rather just sign in with the notification on my phone like before, how do I pick that?"}
	decide := func(doubt, threshold float64) Verdict {
		t.Helper()
		dm := *m
		dm.meta.SecondDoubt = doubt
		c, err := NewDefault(WithModel(&dm), WithAutoThreshold(threshold))
		if err != nil {
			t.Fatal(err)
		}
		return c.Decide(ticket)
	}
	plain := decide(0, 0)
	if plain.Mode != ModeAuto || doubted(plain) {
		t.Fatalf("without the doubt: mode %s, doubted %v; want auto, not doubted", plain.Mode, doubted(plain))
	}
	if contains(plain.Categories, "authenticator-sign-in") {
		t.Fatalf("the verdict already has the second problem (%v): the test needs one that lacks it", plain.Categories)
	}
	doubtful := decide(0.3, 0)
	if doubtful.Mode != ModeSuggest || !doubted(doubtful) {
		t.Errorf("with the doubt: mode %s, doubted %v; want suggest, doubted", doubtful.Mode, doubted(doubtful))
	}
	var got []Evidence
	for _, e := range doubtful.Evidence {
		if e.Rule == RuleSecondProblem {
			got = append(got, e)
		}
	}
	if len(got) != 1 || got[0].Label != "authenticator-sign-in" || !strings.Contains(got[0].Text, "sign in with the notification on my phone") || got[0].Weight < 0.3 || got[0].Where != secondProblemWhere {
		t.Errorf("second-problem evidence %+v; want one, authenticator-sign-in, quoting the second sentence", got)
	}
	if doubtful.Action != plain.Action || doubtful.Confidence != plain.Confidence || !slices.Equal(doubtful.Categories, plain.Categories) {
		t.Errorf("the doubt changed the verdict: %s %v %v, want %s %v %v", doubtful.Action, doubtful.Confidence, doubtful.Categories, plain.Action, plain.Confidence, plain.Categories)
	}
	// a verdict below the auto threshold is a suggestion anyway: not read
	if below := decide(0.3, 1.01); doubted(below) {
		t.Errorf("below the auto threshold: doubted; want the sentences left unread")
	}
}

// TestSentences: the reporter's sentences of four words or more are kept
// for training, each read alone: its text features (all among the
// ticket's) and the bias.
func TestSentences(t *testing.T) {
	t.Parallel()
	c, err := NewDefault()
	if err != nil {
		t.Fatal(err)
	}
	var fs featureSet
	c.decideTicket(Ticket{Summary: "Help", Description: "Hello. My passkey can no longer be used on my phone. Thanks! How do I sign in with a notification instead?"}, false, &fs, nil)
	if len(fs.sents) != 2 {
		t.Fatalf("%d sentences kept, want 2 (the two of four words or more)", len(fs.sents))
	}
	text := map[uint32]bool{}
	for _, b := range fs.idx[:fs.text] {
		text[b] = true
	}
	bias := structFeature(structBias)
	for i, s := range fs.sents {
		if len(s) < 2 || s[len(s)-1] != bias {
			t.Fatalf("sentence %d: %d features, last %d; want text features then the bias %d", i, len(s), s[len(s)-1], bias)
		}
		for _, b := range s[:len(s)-1] {
			if !text[b] {
				t.Errorf("sentence %d: feature %d is not among the ticket's text features", i, b)
			}
		}
	}
}

// TestTrainRefusesBadOptions: options that would give a meaningless model
// are refused before any training, with an error that names them.
func TestTrainRefusesBadOptions(t *testing.T) {
	t.Parallel()
	c, err := New(mustDefaultRules(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		opt  TrainOptions
		want string
	}{
		{"one fold", TrainOptions{Folds: 1}, "at least 2 folds"},
		{"target precision above 1", TrainOptions{TargetPrecision: 1.5}, "target precision 1.5"},
		{"target precision under 0.5", TrainOptions{TargetPrecision: 0.3}, "target precision 0.3"},
		{"negative target precision", TrainOptions{TargetPrecision: -0.98}, "target precision -0.98"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Train(c, nil, nil, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Train(%+v) = %v, want an error with %q", tt.opt, err, tt.want)
			}
		})
	}
}
