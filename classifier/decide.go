package classifier

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Author is who wrote a comment.
type Author string

// The authors of the corpus format.
const (
	AuthorReporter Author = "reporter"
	AuthorAgent    Author = "agent"
	AuthorBot      Author = "bot"
)

// Comment is one comment of a ticket's thread.
type Comment struct {
	Author Author `json:"author"`
	Body   string `json:"body"`
}

// Ticket is what the classifier reads: the corpus format's ticket, or the
// worker's view of a Jira issue.
type Ticket struct {
	ID          string    `json:"id,omitempty"`
	Summary     string    `json:"summary"`
	Description string    `json:"description"`
	Comments    []Comment `json:"comments,omitempty"` // oldest first
	// Replied lists the categories whose steps were already posted on the
	// ticket (the worker's triage state); they are not replied again.
	Replied []string `json:"-"`
}

// Action is what the worker does after the ticket's latest event.
type Action string

// The actions of the SPEC.
const (
	ActionReply            Action = "reply"
	ActionEscalateMFA      Action = "escalate-mfa"
	ActionEscalatePassword Action = "escalate-password"
	ActionResolve          Action = "resolve"
	ActionHuman            Action = "human"
)

// Actions lists the actions in the SPEC's order.
func Actions() []Action {
	return []Action{ActionReply, ActionEscalateMFA, ActionEscalatePassword, ActionResolve, ActionHuman}
}

// Evidence is one matched rule: what it is evidence of, the text it
// matched (folded: lower case, no diacritics) and where.
type Evidence struct {
	Kind  string `json:"kind"`  // "category", "signal" or "platform"
	Label string `json:"label"` // the category, signal or platform id
	Rule  string `json:"rule"`  // the rule's name or pattern
	Text  string `json:"text"`  // the matched text
	// Where is "summary", "description", "comment" or "signature";
	// Comment is then the 1-based index of the comment in the thread.
	Where   string  `json:"where"`
	Comment int     `json:"comment,omitempty"`
	Weight  float64 `json:"weight"`
}

// Verdict is the classifier's decision for a ticket.
type Verdict struct {
	// Categories are the categories of the whole ticket, from the
	// reporter's own text, in canonical order.
	Categories []string `json:"categories"`
	// Reply lists the categories whose steps are to be posted now: those
	// of Categories not yet answered. Set when Action is reply.
	Reply      []string `json:"reply,omitempty"`
	Platform   string   `json:"platform"`
	Action     Action   `json:"action"`
	Confidence float64  `json:"confidence"`
	// Signals lists the signals found in the reporter's text ("steps_done",
	// "still_fails", "works_now", …).
	Signals []string `json:"signals,omitempty"`
	// Language is the ISO 639-1 code of the reporter's own text.
	Language string `json:"language"`
	// Security is set when the reporter's text reports a possible attack
	// (unexpected approval requests, an approval they did not start,
	// phishing): the action is then human, whatever else matched.
	Security bool `json:"security"`
	// Mode says how far the bot acts alone: ModeAuto (it acts), ModeSuggest
	// (an internal note suggests the action to agents) or ModeNone (the
	// action is human).
	Mode string `json:"mode"`
	// Judges records what each judge said, when the learned model took
	// part.
	Judges Judges `json:"judges,omitzero"`
	// Reason says in a few words why the action was chosen.
	Reason   string     `json:"reason"`
	Evidence []Evidence `json:"evidence"`
}

// ReasonSecurity is the reason of a verdict that flags a possible attack.
const ReasonSecurity = "security: the reporter describes a possible attack (sign-in requests they did not start, an approval by mistake, phishing)"

// The modes of a verdict.
const (
	ModeAuto    = "auto"
	ModeSuggest = "suggest"
	ModeNone    = "none"
)

// Judges is what the rules and the learned model each said.
type Judges struct {
	RulesAction Action `json:"rules_action"`
	ModelAction Action `json:"model_action"`
	// ModelProbability is the model's probability of its action.
	ModelProbability float64 `json:"model_probability"`
	// SecurityProbability is the model's probability that the reporter
	// describes a possible attack.
	SecurityProbability float64 `json:"security_probability"`
}

// Classifier decides tickets. It is safe for concurrent use.
type Classifier struct {
	m    *matcher
	pool sync.Pool
	// model, when set, is the learned second judge; without it the
	// verdict is the rules' alone.
	model *Model
	// autoThreshold is the confidence from which the verdict's mode is
	// auto.
	autoThreshold float64
	// langs are the language detector's word lists; fallback the
	// language of a ticket whose language is not told or not supported.
	langs    langIndex
	fallback string
}

// Option configures a Classifier.
type Option func(*options)

type options struct {
	model        *Model
	threshold    float64
	thresholdSet bool
	fallback     string
}

// WithFallbackLanguage sets the language of tickets in no supported
// language (default "en").
func WithFallbackLanguage(l string) Option { return func(o *options) { o.fallback = l } }

// WithModel adds the learned second judge: its combiner decides the
// verdict and its calibration the confidence, and its auto threshold is
// the default.
func WithModel(m *Model) Option { return func(o *options) { o.model = m } }

// WithAutoThreshold sets the confidence from which the bot acts alone
// (mode auto); above 1, it never does.
func WithAutoThreshold(t float64) Option {
	return func(o *options) { o.threshold, o.thresholdSet = t, true }
}

// New compiles rules into a classifier. Without a model or an auto
// threshold, every verdict that acts is auto, as when the rules alone
// decided.
func New(rs *Rules, opts ...Option) (*Classifier, error) {
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	m, err := newMatcher(rs)
	if err != nil {
		return nil, err
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.fallback == "" {
		o.fallback = "en"
	}
	if !contains(Languages(), o.fallback) {
		return nil, fmt.Errorf("fallback language %q is not one of %s", o.fallback, strings.Join(Languages(), ", "))
	}
	c := &Classifier{m: m, model: o.model, autoThreshold: o.threshold, langs: buildLangIndex(), fallback: o.fallback}
	if !o.thresholdSet && o.model != nil {
		c.autoThreshold = o.model.meta.AutoThreshold
	}
	c.pool.New = func() any { return new(scratch) }
	return c, nil
}

// NewDefault compiles the embedded rules with the embedded model.
func NewDefault(opts ...Option) (*Classifier, error) {
	rs, err := ParseRules(bytes.NewReader(defaultRules))
	if err != nil {
		return nil, err
	}
	m, err := LoadDefaultModel()
	if err != nil {
		return nil, err
	}
	return New(rs, append([]Option{WithModel(m)}, opts...)...)
}

// AutoThreshold is the confidence from which verdicts are auto.
func (c *Classifier) AutoThreshold() float64 { return c.autoThreshold }

// Model is the learned judge in use, nil for the rules alone.
func (c *Classifier) Model() *Model { return c.model }

// MinConfidence is the confidence below which the action is human.
func (c *Classifier) MinConfidence() float64 { return c.m.settings.MinConfidence }

// maxTextBytes bounds the text read from any one field or comment: a
// ticket is a few kilobytes; megabytes of pasted logs tell nothing more.
const maxTextBytes = 64 << 10

// maxComments bounds the comments read: the latest ones count.
const maxComments = 200

// scratch holds the buffers of one decision, reused through a pool.
type scratch struct {
	raw, text, tmp []byte
	in             []byte
	echo           []byte
	tallies        [3]tally
	echoes         []uint64
	spans          []span
	toks           []token
	hits           []hit
	matches        []match
	segs           []segment
	stamp          []uint32
	cand           []int32
	gen            uint32
	ruleMax        []float64
	feats          []uint32
	sentFeats      []uint32   // the text features in token order (see sentences)
	sents          []sentence // the reporter's sentences (see features)
	sentBuf        []uint32
}

type segment struct {
	where     string
	comment   int   // 1-based comment index, 0 for the first message
	descStart int32 // folded offset where the description starts (first message)
	tokStart  int32
	tokEnd    int32
}

// Decide classifies a ticket and chooses the action after its latest event.
func (c *Classifier) Decide(t Ticket) Verdict { return c.decideTicket(t, false, nil, nil) }

// Language names the language of the reporter's own words in t ("" when
// no supported language is told), as Decide does before the fallback.
func (c *Classifier) Language(t Ticket) string {
	var lang string
	c.decideTicket(t, false, nil, &lang)
	return lang
}

// Trace is Decide with every rule that matched in the evidence, including
// the categories and signals that did not reach their threshold and the
// negative rules: for tuning rules.
func (c *Classifier) Trace(t Ticket) Verdict { return c.decideTicket(t, true, nil, nil) }

// decideTicket decides t. With keep set (training), it returns the rules'
// verdict alone and copies the ticket's features into keep. With lang set,
// it detects the language (before the fallback) into lang, and without keep
// does nothing more.
func (c *Classifier) decideTicket(t Ticket, trace bool, keep *featureSet, lang *string) Verdict {
	sc := c.pool.Get().(*scratch)
	defer c.pool.Put(sc)
	m := c.m
	sc.text, sc.toks, sc.matches, sc.segs, sc.echoes = sc.text[:0], sc.toks[:0], sc.matches[:0], sc.segs[:0], sc.echoes[:0]

	comments := t.Comments
	offset := 0
	if len(comments) > maxComments {
		offset = len(comments) - maxComments
		comments = comments[offset:]
	}

	// Lines of bot and agent comments: a reporter's copy of them is not
	// the reporter's own text.
	agent, lastBot := false, -1
	for i, cm := range comments {
		switch cm.Author {
		case AuthorReporter:
			continue
		case AuthorAgent:
			agent = true
		case AuthorBot:
			lastBot = i
		}
		sc.raw = stripMarkup(sc.raw[:0], sc.clip(cm.Body))
		sc.echo, sc.tmp = fold(sc.echo[:0], sc.tmp[:0], sc.raw)
		for rest := sc.echo; len(rest) > 0; {
			line := rest
			if k := bytes.IndexByte(rest, '\n'); k >= 0 {
				line, rest = rest[:k], rest[k+1:]
			} else {
				rest = nil
			}
			if h, n := lineHash(line); n >= minEchoWords {
				sc.echoes = append(sc.echoes, h)
			}
		}
	}

	// The first message: summary and description.
	forward := m.hasSubjectPrefix(sc, t.Summary, m.markers.forwardSubjects)
	reply := m.hasSubjectPrefix(sc, t.Summary, m.markers.replySubjects)
	base := len(sc.text)
	sc.raw = stripMarkup(sc.raw[:0], sc.clip(t.Summary))
	sc.text, sc.tmp = fold(sc.text, sc.tmp[:0], sc.raw)
	sc.text = append(sc.text, '\n', '\n')
	descStart := int32(len(sc.text))
	sc.raw = stripMarkup(sc.raw[:0], sc.clip(t.Description))
	sc.text, sc.tmp = fold(sc.text, sc.tmp[:0], sc.raw)
	c.analyse(sc, segment{where: "description", descStart: descStart}, base, cleanOpts{forward: forward, reply: reply, echoes: sc.echoes})

	// The reporter's comments.
	firstAfter := -1 // index into sc.segs of the first reporter comment after the last bot comment
	for i, cm := range comments {
		if cm.Author != AuthorReporter {
			continue
		}
		if i > lastBot && lastBot >= 0 && firstAfter < 0 {
			firstAfter = len(sc.segs)
		}
		base := len(sc.text)
		sc.raw = stripMarkup(sc.raw[:0], sc.clip(cm.Body))
		sc.text, sc.tmp = fold(sc.text, sc.tmp[:0], sc.raw)
		c.analyse(sc, segment{where: "comment", comment: offset + i + 1}, base, cleanOpts{comment: true, forward: forward, echoes: sc.echoes})
	}

	detected := c.detectLanguage(sc)
	if lang != nil {
		*lang = detected
		if keep == nil {
			return Verdict{}
		}
	}
	v := c.decide(sc, t, agent, lastBot, firstAfter, trace)
	v.Language = cmp.Or(detected, c.fallback)
	if keep != nil {
		fs := c.features(sc, t, agent, lastBot, firstAfter, v.Security)
		*keep = featureSet{idx: append([]uint32(nil), fs.idx...), text: fs.text, scale: fs.scale}
		for i := range sc.sents {
			keep.sents = append(keep.sents, slices.Clone(sc.sentenceFeatures(i).idx))
		}
		return v
	}
	if c.model != nil {
		c.combine(&v, sc, c.features(sc, t, agent, lastBot, firstAfter, v.Security), t, agent, lastBot >= 0 && firstAfter < 0)
	}
	v.Mode = c.mode(v)
	return v
}

// clip copies at most maxTextBytes of s into the scratch input buffer.
func (sc *scratch) clip(s string) []byte {
	if len(s) > maxTextBytes {
		s = s[:maxTextBytes]
	}
	sc.in = append(sc.in[:0], s...)
	return sc.in
}

// analyse cleans, tokenises and matches the text from base to the end of
// sc.text as one segment.
func (c *Classifier) analyse(sc *scratch, seg segment, base int, opt cleanOpts) {
	m := c.m
	text := sc.text[base:]
	sc.spans = m.clean(text, opt, sc.spans[:0])
	for i := range sc.spans {
		sc.spans[i].start += int32(base)
		sc.spans[i].end += int32(base)
	}
	seg.tokStart = int32(len(sc.toks))
	sc.toks = m.tokenize(sc.text, sc.spans, sc.toks)
	seg.tokEnd = int32(len(sc.toks))
	toks := sc.toks[seg.tokStart:seg.tokEnd]
	sc.hits = m.scan(toks, sc.hits[:0])
	before := len(sc.matches)
	sc.matches = m.evaluate(toks, sc.hits, int32(len(sc.segs)), sc, sc.matches)
	// make token indexes absolute
	for i := before; i < len(sc.matches); i++ {
		sc.matches[i].start += seg.tokStart
		sc.matches[i].end += seg.tokStart
	}
	sc.segs = append(sc.segs, seg)
}

// hasSubjectPrefix reports whether a summary starts with one of the
// prefixes and a colon ("FW:", "RE:").
func (m *matcher) hasSubjectPrefix(sc *scratch, summary string, prefixes [][]byte) bool {
	s := summary
	if len(s) > 20 {
		s = s[:20]
	}
	var f []byte
	f, sc.tmp = fold(sc.raw[:0], sc.tmp[:0], sc.clip(s))
	sc.raw = f
	f = bytes.TrimSpace(f)
	for _, p := range prefixes {
		if bytes.HasPrefix(f, p) && len(f) > len(p) && f[len(p)] == ':' {
			return true
		}
	}
	return false
}

// zone is a run of segments [from, to).
type zone struct{ from, to int }

// tally sums, per class, the weights of the rules matched in a zone (each
// rule once, at its strongest), negative rules subtracted.
type tally struct {
	score []float64
	veto  []bool
}

func (c *Classifier) tally(sc *scratch, z zone, slot int) tally {
	m := c.m
	if cap(sc.ruleMax) < len(m.rules) {
		sc.ruleMax = make([]float64, len(m.rules))
	}
	ruleMax := sc.ruleMax[:len(m.rules)]
	clear(ruleMax)
	t := &sc.tallies[slot]
	if cap(t.score) < len(m.classes) {
		t.score = make([]float64, len(m.classes))
		t.veto = make([]bool, len(m.classes))
	}
	t.score, t.veto = t.score[:len(m.classes)], t.veto[:len(m.classes)]
	clear(t.score)
	clear(t.veto)
	for _, mt := range sc.matches {
		if int(mt.seg) < z.from || int(mt.seg) >= z.to {
			continue
		}
		if m.classes[m.rules[mt.rule].class].perMatch {
			ruleMax[mt.rule] += mt.weight
			continue
		}
		if mt.weight > ruleMax[mt.rule] {
			ruleMax[mt.rule] = mt.weight
		}
	}
	for ri, w := range ruleMax {
		if w == 0 {
			continue
		}
		r := &m.rules[ri]
		if r.negative {
			if r.veto {
				t.veto[r.class] = true
			}
			t.score[r.class] -= w
			continue
		}
		t.score[r.class] += w
	}
	return *t
}

func (c *Classifier) holds(t tally, id string) bool {
	ci := c.m.classIdx[id]
	if t.veto[ci] || t.score[ci] < c.m.classes[ci].threshold {
		return false
	}
	for _, req := range c.m.classes[ci].requires {
		if !c.holds(t, req) {
			return false
		}
	}
	return true
}

// strength maps a class score to a confidence: 0.5 at its threshold, 1 at
// twice the threshold.
func (c *Classifier) strength(t tally, id string) float64 {
	ci := c.m.classIdx[id]
	th := c.m.classes[ci].threshold
	if t.veto[ci] || t.score[ci] <= 0 {
		return 0
	}
	v := 0.5 * t.score[ci] / th
	if t.score[ci] >= th {
		v = 0.5 + 0.5*(t.score[ci]-th)/th
	}
	return min(v, 1)
}

// categories lists the categories that hold in a tally, in canonical order.
// Off-topic evidence (a door passkey, a personal account) raises the bar.
// Off-topic evidence without any word of the product's world (Microsoft,
// Defender, a work account) means no category at all. Setup words in a
// report of steps already done ("removed it and set up a new passkey, still
// invalid") are not a request for the setup steps: passkey-setup is dropped
// when the steps were done and another category holds, or when the text
// answers the bot's steps (reportsSteps).
func (c *Classifier) categories(t tally, dst *[6]string, reportsSteps bool) []string {
	// Off-topic evidence (a door, a keypad, a personal Gmail) without a word
	// of the product's world (sign-in, password, Microsoft, Authenticator)
	// means no category; with one, it raises the bar.
	var bar float64
	if c.holds(t, SigOffTopic) {
		if !c.holds(t, SigInScope) {
			return dst[:0]
		}
		bar = t.score[c.m.classIdx[SigOffTopic]]
	}
	n := 0
	for _, id := range Categories() {
		ci := c.m.classIdx[id]
		if !c.holds(t, id) || t.score[ci] < c.m.classes[ci].threshold+bar {
			continue
		}
		dst[n] = id
		n++
	}
	out := dst[:n]
	if c.holds(t, SigStepsDone) && !c.holds(t, SigAsksSetup) && (reportsSteps || len(out) > 1) {
		k := 0
		for _, id := range out {
			if id != CatPasskeySetup {
				out[k] = id
				k++
			}
		}
		out = out[:k]
	}
	return out
}

func (c *Classifier) decide(sc *scratch, t Ticket, agent bool, lastBot, firstAfter int, trace bool) Verdict {
	all := c.tally(sc, zone{0, len(sc.segs)}, 0)
	var catBuf [6]string
	cats := c.categories(all, &catBuf, false)

	v := Verdict{
		Categories: append(make([]string, 0, len(cats)), cats...),
		Platform:   c.platform(all),
	}
	var sigBuf [16]string
	sigs := sigBuf[:0]
	for _, id := range c.m.signals {
		if c.holds(all, id) {
			sigs = append(sigs, id)
		}
	}
	if len(sigs) > 0 {
		v.Signals = append(make([]string, 0, len(sigs)), sigs...)
	}

	var use usedSet // signals and categories the decision relied on

	switch {
	case c.holds(all, SigSecurity):
		// a possible attack goes to a person, whoever else commented
		use.add(SigSecurity)
		v.Security = true
		v.Categories = v.Categories[:0]
		v.Action, v.Confidence, v.Reason = ActionHuman, 1, ReasonSecurity
	case agent:
		v.Action, v.Confidence, v.Reason = ActionHuman, 1, "a helpdesk agent has replied on the ticket"
	case c.holds(all, SigOffTopic) && !c.holds(all, SigInScope):
		use.add(SigOffTopic)
		v.Action, v.Confidence, v.Reason = ActionHuman, 1, "about something else (a door, a personal app)"
	case lastBot < 0:
		c.decideFirst(&v, all, t.Replied, &use)
	case firstAfter < 0:
		// The latest event is the bot's own comment: nothing new to do.
		v.Action, v.Confidence, v.Reason = ActionReply, 1, "waiting for the reporter's answer to the steps"
	default:
		before := c.tally(sc, zone{0, firstAfter}, 1)
		after := c.tally(sc, zone{firstAfter, len(sc.segs)}, 2)
		c.decideAfterBot(&v, before, after, t.Replied, &use)
	}

	if v.Action != ActionHuman && v.Confidence < c.m.settings.MinConfidence {
		v.Reason = "not confident enough (" + v.Reason + ")"
		v.Action = ActionHuman
		v.Reply = nil
	}
	v.Evidence = c.evidence(sc, all, v.Platform, use.list(), trace)
	return v
}

// usedSet collects the signals and categories a decision relied on.
type usedSet struct {
	ids [16]string
	n   int
}

func (u *usedSet) add(ids ...string) {
	for _, id := range ids {
		if u.n < len(u.ids) {
			u.ids[u.n] = id
			u.n++
		}
	}
}

func (u *usedSet) list() []string { return u.ids[:u.n] }

// decideFirst decides a ticket the bot has not answered yet.
func (c *Classifier) decideFirst(v *Verdict, all tally, replied []string, use *usedSet) {
	// A lost phone with nothing else to say, or no other way to sign in
	// after losing or replacing the phone.
	lost, noOther := c.holds(all, SigLostDevice), c.holds(all, SigNoOtherMethod)
	lostOrNoMethod := lost && len(v.Categories) == 0 ||
		noOther && (lost || len(v.Categories) == 0 || contains(v.Categories, CatNewDevice))
	switch {
	case c.holds(all, SigResetMFA):
		use.add(SigResetMFA)
		v.Action, v.Confidence, v.Reason = ActionEscalateMFA, c.strength(all, SigResetMFA), "the reporter asks for an MFA reset"
	case lostOrNoMethod && !contains(v.Categories, CatPasswordForgotten):
		use.add(SigLostDevice, SigNoOtherMethod)
		v.Action = ActionEscalateMFA
		v.Confidence = max(c.strength(all, SigLostDevice), c.strength(all, SigNoOtherMethod))
		v.Reason = "the phone is lost or gone and there is no other way to sign in"
	case c.holds(all, SigStepsDone) && c.holds(all, SigStillFails) && !contains(v.Categories, CatPasswordForgotten):
		use.add(SigStepsDone, SigStillFails)
		v.Action = ActionEscalateMFA
		v.Confidence = min(c.strength(all, SigStepsDone), c.strength(all, SigStillFails))
		v.Reason = "the reporter did the steps and sign-in still fails"
	case contains(v.Categories, CatPasswordForgotten):
		use.add(CatPasswordForgotten)
		v.Action, v.Confidence, v.Reason = ActionEscalatePassword, c.strength(all, CatPasswordForgotten), "forgotten password or locked account"
	case len(v.Categories) > 0:
		c.reply(v, all, v.Categories, replied, use)
	default:
		v.Action, v.Reason = ActionHuman, "no category matched"
		v.Confidence = 1 - c.bestPartial(all)
	}
}

// decideAfterBot decides a ticket whose latest events are the reporter's
// answers to the bot's steps.
func (c *Classifier) decideAfterBot(v *Verdict, before, after tally, replied []string, use *usedSet) {
	var bBuf, aBuf [6]string
	answered := c.categories(before, &bBuf, false)
	now := c.categories(after, &aBuf, true)
	// "Entered the number and approved it, works!": an answer that says
	// the steps were done and now work describes them in the categories'
	// own words; only a new error is new information then.
	doneAndWorks := c.holds(after, SigWorksNow) && c.holds(after, SigStepsDone) && !c.holds(after, SigStillFails)
	var newBuf [6]string
	fresh := newBuf[:0]
	for _, id := range now {
		if !contains(answered, id) && !contains(replied, id) && (!doneAndWorks || isErrorCategory(id)) {
			fresh = append(fresh, id)
		}
	}
	switch {
	case contains(fresh, CatPasswordForgotten):
		use.add(CatPasswordForgotten)
		v.Action, v.Confidence, v.Reason = ActionEscalatePassword, c.strength(after, CatPasswordForgotten), "forgotten password or locked account"
	case c.holds(after, SigNoOtherMethod) || c.holds(after, SigLostDevice):
		use.add(SigNoOtherMethod, SigLostDevice)
		v.Action = ActionEscalateMFA
		v.Confidence = max(c.strength(after, SigNoOtherMethod), c.strength(after, SigLostDevice))
		v.Reason = "the reporter cannot follow the steps: no other way to sign in"
	case c.holds(after, SigStillFails):
		use.add(SigStillFails)
		v.Action, v.Confidence, v.Reason = ActionEscalateMFA, c.strength(after, SigStillFails), "still fails after the bot's steps"
	case c.holds(after, SigResetMFA) && !c.holds(after, SigWorksNow) && !hasErrorCategory(fresh):
		// "can't set up the passkey on the new one, please reset my MFA":
		// an explicit request wins over the how-to words around it
		use.add(SigResetMFA)
		v.Action, v.Confidence, v.Reason = ActionEscalateMFA, c.strength(after, SigResetMFA), "the reporter asks for an MFA reset"
	case len(fresh) > 0:
		c.reply(v, after, fresh, nil, use)
		v.Reason = "new information after the bot's steps"
		return
	case c.holds(after, SigWorksNow):
		use.add(SigWorksNow)
		v.Action, v.Confidence, v.Reason = ActionResolve, c.strength(after, SigWorksNow), "works now after the bot's steps"
	case c.holds(after, SigWillTry):
		// "thanks, I'll try it tomorrow": the steps are not tried yet;
		// a reply with nothing new to post, and the follow-up window
		// keeps running (a resolve would close the ticket untried)
		use.add(SigWillTry)
		v.Action, v.Confidence, v.Reason = ActionReply, c.strength(after, SigWillTry), "the reporter will try the steps later: nothing new to post"
		v.Reply = nil
		return
	case c.holds(after, SigResetMFA):
		// after "works now": a reporter whose sign-in works needs no reset
		use.add(SigResetMFA)
		v.Action, v.Confidence, v.Reason = ActionEscalateMFA, c.strength(after, SigResetMFA), "the reporter asks for an MFA reset"
	default:
		v.Action, v.Confidence, v.Reason = ActionHuman, 0.5, "the reporter's answer is not clear"
	}
	if v.Action == ActionEscalateMFA {
		// The answer describes how the steps failed ("can't register the
		// passkey on the new phone"): the how-to words in it are the same
		// problem, not a new category; a new error message is one.
		k := 0
		for _, id := range v.Categories {
			if contains(answered, id) || contains(replied, id) || isErrorCategory(id) {
				v.Categories[k] = id
				k++
			}
		}
		v.Categories = v.Categories[:k]
	}
}

// hasErrorCategory reports whether any of ids is an error category.
func hasErrorCategory(ids []string) bool {
	for _, id := range ids {
		if isErrorCategory(id) {
			return true
		}
	}
	return false
}

// isErrorCategory reports whether a category is an error the reporter
// sees (as opposed to a how-to question).
func isErrorCategory(id string) bool {
	return id == CatPasskeyInvalid || id == CatAuthenticatorIncomplete || id == CatPasswordForgotten
}

// reply sets a reply with the categories not yet replied to.
func (c *Classifier) reply(v *Verdict, t tally, cats, replied []string, use *usedSet) {
	var buf [6]string
	reply := buf[:0]
	conf := 1.0
	for _, id := range cats {
		if contains(replied, id) {
			continue
		}
		reply = append(reply, id)
		use.add(id)
		conf = min(conf, c.strength(t, id))
	}
	if len(reply) > 0 {
		reply = append(make([]string, 0, len(reply)), reply...)
	} else {
		reply = nil
	}
	v.Action, v.Reply = ActionReply, reply
	v.Confidence, v.Reason = conf, "matched the reporter's problem"
	if len(reply) == 0 {
		v.Reason = "every category was already replied to"
	}
}

// bestPartial is the strongest category evidence that did not reach its
// threshold, as a confidence.
func (c *Classifier) bestPartial(t tally) float64 {
	best := 0.0
	for _, id := range Categories() {
		best = max(best, c.strength(t, id))
	}
	return best
}

// platform picks the platform with the most evidence; a tie is unknown.
func (c *Classifier) platform(t tally) string {
	ios, android := 0.0, 0.0
	if ci, ok := c.m.classIdx[PlatformIOS]; ok {
		ios = t.score[ci]
	}
	if ci, ok := c.m.classIdx[PlatformAndroid]; ok {
		android = t.score[ci]
	}
	switch {
	case ios > android && c.holds(t, PlatformIOS):
		return PlatformIOS
	case android > ios && c.holds(t, PlatformAndroid):
		return PlatformAndroid
	}
	return PlatformUnknown
}

// evidence lists the matches behind the verdict: the categories found, the
// platform chosen and the signals the action relied on.
func (c *Classifier) evidence(sc *scratch, all tally, platform string, used []string, trace bool) []Evidence {
	m := c.m
	keep := func(mt match) bool {
		if trace {
			return true
		}
		r := &m.rules[mt.rule]
		if r.negative {
			return false
		}
		cl := &m.classes[r.class]
		switch cl.kind {
		case kindPlatform:
			return cl.id == platform
		case kindCategory:
			return c.holds(all, cl.id) || contains(used, cl.id)
		default:
			return contains(used, cl.id)
		}
	}
	n, size := 0, 0
	for _, mt := range sc.matches {
		if keep(mt) {
			n++
			size += int(sc.toks[mt.end].end - sc.toks[mt.start].start)
		}
	}
	if n == 0 {
		return []Evidence{}
	}
	arena := make([]byte, 0, size)
	for _, mt := range sc.matches {
		if keep(mt) {
			arena = append(arena, sc.text[sc.toks[mt.start].start:sc.toks[mt.end].end]...)
		}
	}
	all2 := string(arena)
	out := make([]Evidence, 0, n)
	pos := 0
	for _, mt := range sc.matches {
		if !keep(mt) {
			continue
		}
		r := &m.rules[mt.rule]
		cl := &m.classes[r.class]
		l := int(sc.toks[mt.end].end - sc.toks[mt.start].start)
		seg := &sc.segs[mt.seg]
		e := Evidence{
			Kind:    kindName(cl.kind, r.negative),
			Label:   cl.id,
			Rule:    r.label,
			Text:    all2[pos : pos+l],
			Where:   seg.where,
			Comment: seg.comment,
			Weight:  mt.weight,
		}
		pos += l
		if seg.comment == 0 && sc.toks[mt.start].start < seg.descStart {
			e.Where = "summary"
		}
		if sc.toks[mt.start].sig {
			e.Where = "signature"
		}
		out = append(out, e)
	}
	return out
}

func kindName(k uint8, negative bool) string {
	if negative {
		return "negative"
	}
	switch k {
	case kindCategory:
		return "category"
	case kindSignal:
		return "signal"
	}
	return "platform"
}
