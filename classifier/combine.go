package classifier

import (
	"fmt"
	"math"
	"slices"
)

// The calibration features: what tells a right verdict from a wrong one.
const (
	calBias      = iota
	calActLogit  // log-odds of the combined action
	calCatLog    // log-probability of the combined category set
	calAgreeAct  // the two judges chose the same action
	calAgreeCats // the two judges found the same categories
	calRulesAct  // the verdict's action is the rules' action
	calTextAct   // log-odds of the text model's own action
	calMargin    // the least sure category decision's distance from 0.5
	calNoCats    // the verdict has no category
	calRulesCats // the verdict's categories are the rules' categories
	calNCats     // how many categories the verdict has
	calAction    // one-hot of the verdict's action: nActs features from here
)

const (
	// calCat is where the one-hot of the verdict's categories starts:
	// nCats features (two categories are wrong more often than one).
	calCat = calAction + nActs
	// calLeftOut is the highest probability the combiner gave a category
	// the verdict left out (how near it came to a second category: most
	// wrong confident verdicts lack or add one, in cross-validation);
	// calRulesMore whether the rules found a category the verdict left
	// out; calTextMore whether the text model alone would add one. They
	// come last, so that a v3 model's calibration, which lacks them,
	// weighs them 0.
	calLeftOut   = calCat + nCats
	calRulesMore = calLeftOut + 1
	calTextMore  = calRulesMore + 1
	nCalib       = calTextMore + 1
)

// judgement is the combined decision of the two judges.
type judgement struct {
	cats     [nCats]bool
	catP     [nCats]float64
	act      int
	actP     [nActs]float64
	textAct  int
	textActP float64
	conf     float64
}

// actionIndex is the index of a in Actions().
func actionIndex(a Action) int {
	switch a {
	case ActionReply:
		return 0
	case ActionEscalateMFA:
		return 1
	case ActionEscalatePassword:
		return 2
	case ActionResolve:
		return 3
	}
	return 4
}

var actionsByIndex = [nActs]Action{ActionReply, ActionEscalateMFA, ActionEscalatePassword, ActionResolve, ActionHuman}

const humanIdx = 4

// rulesView is the rules' verdict in the combiner's terms.
type rulesView struct {
	cats [nCats]bool
	act  int
}

func viewOf(cats []string, a Action) rulesView {
	var r rulesView
	for i, id := range Categories() {
		r.cats[i] = contains(cats, id)
	}
	r.act = actionIndex(a)
	return r
}

// combDim is the size of the boosted combiner's inputs: what the rules
// found for each category and their action (one-hot), then the text
// model's probability of each category and each action.
const combDim = nCats + nActs + nCats + nActs

func combInputs(r rulesView, p textProbs) [combDim]float64 {
	var in [combDim]float64
	for k := range nCats {
		in[k] = b2f(r.cats[k])
		in[nCats+nActs+k] = p.cat[k]
	}
	in[nCats+r.act] = 1
	copy(in[2*nCats+nActs:], p.act[:])
	return in
}

// Combiner is the combiner by gradient-boosted trees (format v6) over
// combInputs: one boost per category (the probability that the ticket
// has it) and one per action (against the others; the actions'
// probabilities are normalised to sum to 1).
type Combiner struct {
	Cat [nCats]Boost `json:"cat"`
	Act [nActs]Boost `json:"act"`
}

// judge combines the rules' verdict and the text model's probabilities.
func (mt *Meta) judge(r rulesView, p textProbs) judgement {
	var j judgement
	if mt.Combiner != nil {
		mt.Combiner.judge(r, p, &j)
	} else {
		mt.judgeLinear(r, p, &j)
	}
	j.act = argmax(j.actP[:])
	j.textAct = argmax(p.act[:])
	j.textActP = p.act[j.textAct]
	j.conf = mt.confidence(calibFeatures(r, p, j))
	return j
}

// judge sets j's category and action probabilities and its categories.
func (cb *Combiner) judge(r rulesView, p textProbs, j *judgement) {
	in := combInputs(r, p)
	for c := range nCats {
		j.catP[c] = cb.Cat[c].prob(in[:])
		j.cats[c] = j.catP[c] >= 0.5
	}
	sum := 0.0
	for a := range nActs {
		j.actP[a] = cb.Act[a].prob(in[:])
		sum += j.actP[a]
	}
	for a := range nActs {
		j.actP[a] /= sum
	}
}

// judgeLinear is judge by the linear combiner of a model before v6 (a
// model read from a file has one; one built without, in a test, weighs
// everything 0).
func (mt *Meta) judgeLinear(r rulesView, p textProbs, j *judgement) {
	var cat [nCats][catDim]float64
	var act [nActs][actDim]float64
	if mt.Cat != nil && mt.Act != nil {
		cat, act = *mt.Cat, *mt.Act
	}
	for c := range nCats {
		ci := catInputs(r, p, c)
		z := 0.0
		for k, x := range ci {
			z += cat[c][k] * x
		}
		j.catP[c] = sigmoid(z)
		j.cats[c] = j.catP[c] >= 0.5
	}
	in := actInputs(r, p)
	var z [nActs]float64
	for a := range nActs {
		for k, x := range in {
			z[a] += act[a][k] * x
		}
	}
	softmax(z[:], j.actP[:])
}

// confidence is the probability that a verdict's action and category set
// are right, from its calibration features f: the boosted calibration's,
// or the logistic one's in a model without it.
func (mt *Meta) confidence(f [nCalib]float64) float64 {
	if mt.Boost != nil {
		return mt.Boost.prob(f[:])
	}
	return confidence(&mt.Calib, f)
}

// confidence is what logistic calibration w makes of the calibration
// features f.
func confidence(w *[nCalib]float64, f [nCalib]float64) float64 {
	z := 0.0
	for k, x := range f {
		z += w[k] * x
	}
	return sigmoid(z)
}

// catDim is the size of the combiner's category inputs: whether the rules
// found each category, the text model's probability of each, its log-odds
// of the category decided, its action probabilities, and a bias. Each
// category reads them all: a new phone in the rules' eyes says something of
// a passkey's set-up. The other categories enter as probabilities, bounded:
// their log-odds would let a sure "no" elsewhere push this one up.
const catDim = nCats + nCats + 1 + nActs + 1

func catInputs(r rulesView, p textProbs, c int) [catDim]float64 {
	var in [catDim]float64
	for k := range nCats {
		in[k] = b2f(r.cats[k])
		in[nCats+k] = p.cat[k]
	}
	in[2*nCats] = logit(p.cat[c])
	copy(in[2*nCats+1:], p.act[:])
	in[catDim-1] = 1
	return in
}

// actDim is the size of the combiner's action inputs: the rules' action
// (one-hot), the text model's action probabilities, their products (how
// much the model backs each rules' action), and a bias.
const actDim = nActs + nActs + nActs*nActs + 1

func actInputs(r rulesView, p textProbs) [actDim]float64 {
	var in [actDim]float64
	in[r.act] = 1
	copy(in[nActs:], p.act[:])
	copy(in[2*nActs+r.act*nActs:], p.act[:])
	in[actDim-1] = 1
	return in
}

func calibFeatures(r rulesView, p textProbs, j judgement) [nCalib]float64 {
	var f [nCalib]float64
	f[calBias] = 1
	f[calActLogit] = logit(j.actP[j.act])
	catLog := 0.0
	agreeCats := true
	for c := range nCats {
		if j.cats[c] {
			catLog += math.Log(max(j.catP[c], 1e-6))
		} else {
			catLog += math.Log(max(1-j.catP[c], 1e-6))
		}
		agreeCats = agreeCats && r.cats[c] == (p.cat[c] >= 0.5)
	}
	f[calCatLog] = max(catLog, -10)
	f[calAgreeAct] = b2f(r.act == j.textAct)
	f[calAgreeCats] = b2f(agreeCats)
	f[calRulesAct] = b2f(r.act == j.act)
	f[calTextAct] = logit(j.textActP)
	margin := 0.5
	none := true
	for c := range nCats {
		margin = min(margin, math.Abs(j.catP[c]-0.5))
		none = none && !j.cats[c]
	}
	f[calMargin] = margin
	f[calNoCats] = b2f(none)
	f[calAction+j.act] = 1
	n := 0
	for c := range nCats {
		if j.cats[c] {
			f[calCat+c] = 1
			n++
		}
	}
	f[calNCats] = float64(n)
	f[calRulesCats] = b2f(j.cats == r.cats)
	for c := range nCats {
		if j.cats[c] {
			continue
		}
		f[calLeftOut] = max(f[calLeftOut], j.catP[c])
		f[calRulesMore] = max(f[calRulesMore], b2f(r.cats[c]))
		f[calTextMore] = max(f[calTextMore], b2f(p.cat[c] >= 0.5))
	}
	return f
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func argmax(x []float64) int {
	best := 0
	for i := range x {
		if x[i] > x[best] {
			best = i
		}
	}
	return best
}

// combine turns the rules' verdict v into the combined verdict. The hard
// rules stay hard: an agent on the ticket means human, and the bot's own
// latest comment means nothing new to do.
func (c *Classifier) combine(v *Verdict, sc *scratch, fs featureSet, t Ticket, agent, botLast bool) {
	p := c.model.score(fs).probs()
	textAct := argmax(p.act[:])
	v.Judges = Judges{RulesAction: v.Action, ModelAction: actionsByIndex[textAct], ModelProbability: round3(p.act[textAct]), SecurityProbability: round3(p.sec)}
	if !v.Security && secFlags(c.model.meta.SecThreshold, secScore(p)) {
		// the learned judge reads a possible attack the rules' phrases
		// missed: a person looks, as when the rules flag it
		flagSecurity(v, learnedSecurity("learned model", p.sec, ""))
	}
	if agent || botLast || v.Security {
		// a hard rule decides: the combiner's trees are not needed
		v.Confidence = 1
		return
	}
	r := viewOf(v.Categories, v.Action)
	j := c.model.meta.judge(r, p)
	if actionsByIndex[j.act] != ActionHuman && cautionHolds(c.model.meta.SecCaution, p.sec) {
		// the verdict would answer with steps (alone or as a suggestion)
		// what the model reads, less surely, as a possible attack: too
		// likely an attack to answer with steps, so it is flagged too
		flagSecurity(v, learnedSecurity(RuleSecurityCaution, p.sec, fmt.Sprintf("from %.2f the bot does not answer a ticket with steps", c.model.meta.SecCaution)))
		v.Confidence = 1
		return
	}
	rulesAction := v.Action
	rulesCats := v.Categories
	act := actionsByIndex[j.act]
	var buf [nCats]string
	cats := buf[:0]
	for i, id := range Categories() {
		if j.cats[i] {
			cats = append(cats, id)
		}
	}
	if act == ActionHuman && len(rulesCats) == 0 {
		// a ticket left to a person keeps no category the rules did not
		// find: the model's guesses there are about words, not the problem
		cats = cats[:0]
	}
	if act == ActionReply && len(cats) == 0 {
		// a reply needs something to reply with
		if len(rulesCats) == 0 {
			act = ActionHuman
		} else {
			cats = append(cats, rulesCats...)
		}
	}
	if !slices.Equal(cats, rulesCats) {
		v.Categories = append(make([]string, 0, len(cats)), cats...)
	}
	if act == ActionReply {
		// an empty list means every category was already answered:
		// nothing to post, as with the rules alone
		v.Reply = replyList(v.Reply, rulesAction == ActionReply, rulesCats, v.Categories, t.Replied)
	} else {
		v.Reply = nil
	}
	if act != rulesAction {
		v.Reason = "the learned model and the rules weighed together: " + string(act) + " (the rules alone: " + string(rulesAction) + ")"
	}
	v.Action = act
	v.Confidence = round3(j.conf)
	if act != ActionHuman && cautionHolds(c.model.meta.SecDoubt, p.sec) {
		// less sure than the caution, but too likely an attack to answer
		// alone: the agents see it first, as a suggestion
		v.Evidence = append(v.Evidence, learnedSecurity(RuleSecurityDoubt, p.sec, fmt.Sprintf("from %.2f the bot only suggests", c.model.meta.SecDoubt)))
	}
	if d := c.model.meta.SecondDoubt; act != ActionHuman && d > 0 && v.Confidence >= c.autoThreshold {
		// one sentence read alone names a problem the verdict leaves out:
		// a second problem the whole ticket's reading missed; the agents
		// see it first (only a verdict that would act alone is read so)
		best, at := sentenceMax(c.model, len(sc.sents), sc.sentenceFeatures)
		for i, id := range Categories() {
			if !j.cats[i] && best[i] >= d {
				s := sc.sents[at[i]]
				v.Evidence = append(v.Evidence, Evidence{Kind: "category", Label: id, Rule: RuleSecondProblem, Text: string(sc.text[s.start:s.end]), Where: secondProblemWhere, Weight: round3(best[i])})
			}
		}
	}
}

// RuleSecondProblem is the rule of the evidence that makes a verdict a
// suggestion at most: one sentence of the reporter's, read alone by the
// learned model, names a category the verdict lacks with a probability
// from the model's second-problem doubt up.
const RuleSecondProblem = "learned model (second problem)"

// secondProblemWhere is where the second-problem evidence was read, as an
// agent's note shows it ("… (authenticator-sign-in, in a sentence read
// alone; …)"): it names a category the suggestion lacks.
const secondProblemWhere = "a sentence read alone; the suggestion lacks this category"

// learnedSecurity is the evidence of the learned model's probability psec
// of a possible attack, read under rule, with what the bot does about it
// (then; "" when flagging says it all).
func learnedSecurity(rule string, psec float64, then string) Evidence {
	text := fmt.Sprintf("the learned model's probability of a possible attack: %.2f", psec)
	if then != "" {
		text += "; " + then
	}
	return Evidence{Kind: "signal", Label: SigSecurity, Rule: rule, Text: text, Where: "ticket", Weight: round3(psec)}
}

// RuleSecurityCaution is the rule of the evidence that flags a verdict
// that would answer with steps: the learned model's probability of a
// possible attack reached the model's security caution.
const RuleSecurityCaution = "learned model (caution)"

// RuleSecurityDoubt is the rule of the evidence that makes a verdict a
// suggestion at most: the learned model's probability of a possible attack
// reached the model's security doubt.
const RuleSecurityDoubt = "learned model (doubt)"

// doubted reports whether v carries the evidence of a doubt: the security
// doubt's or the second problem's.
func doubted(v Verdict) bool {
	return slices.ContainsFunc(v.Evidence, func(e Evidence) bool { return e.Rule == RuleSecurityDoubt || e.Rule == RuleSecondProblem })
}

// flagSecurity makes v the hard rule's verdict on a possible attack the
// learned judge read (e): human, no category, nothing to send.
func flagSecurity(v *Verdict, e Evidence) {
	v.Security = true
	v.Categories = v.Categories[:0]
	v.Reply = nil
	v.Action, v.Reason = ActionHuman, ReasonSecurity
	if !slices.Contains(v.Signals, SigSecurity) {
		v.Signals = append(v.Signals, SigSecurity)
	}
	v.Evidence = append(v.Evidence, e)
}

// replyList is what to post for a combined reply: the rules' own list
// (which knows which categories the bot's steps already answered), less
// the categories the combiner dropped, plus those it added.
func replyList(rulesReply []string, rulesReplied bool, rulesCats, cats, replied []string) []string {
	var out []string
	for _, id := range cats {
		switch {
		case contains(replied, id):
		case contains(rulesCats, id) && rulesReplied && !contains(rulesReply, id):
			// the rules know this one was answered before
		default:
			out = append(out, id)
		}
	}
	return out
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// mode is the verdict's mode under the classifier's auto threshold.
func (c *Classifier) mode(v Verdict) string {
	switch {
	case v.Action == ActionHuman:
		return ModeNone
	case v.Confidence >= c.autoThreshold && !doubted(v):
		return ModeAuto
	}
	return ModeSuggest
}
