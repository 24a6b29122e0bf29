package classifier

// Expect is a labeled ticket's truth, as in the corpus format.
type Expect struct {
	Categories []string `json:"categories"`
	Platform   string   `json:"platform"`
	Action     Action   `json:"action"`
	// Language, when set, is the ISO 639-1 code of the reporter's own text.
	Language string `json:"language,omitempty"`
	// Security marks a report of a possible attack (unexpected approval
	// requests, an approval the reporter did not start, phishing).
	Security bool `json:"security,omitempty"`
}

// PRF is precision, recall and F1 with the counts behind them.
type PRF struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	TP        int     `json:"tp"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
}

func newPRF(tp, fp, fn int) PRF {
	p := PRF{TP: tp, FP: fp, FN: fn}
	if tp+fp > 0 {
		p.Precision = float64(tp) / float64(tp+fp)
	}
	if tp+fn > 0 {
		p.Recall = float64(tp) / float64(tp+fn)
	}
	if p.Precision+p.Recall > 0 {
		p.F1 = 2 * p.Precision * p.Recall / (p.Precision + p.Recall)
	}
	return p
}

// Report is the score of a classifier on a labeled set: the keys the SPEC
// names for `triage eval --json`.
type Report struct {
	Tickets          int            `json:"tickets"`
	MacroF1          float64        `json:"macro_f1"`
	MicroF1          float64        `json:"micro_f1"`
	ActionAccuracy   float64        `json:"action_accuracy"`
	PlatformAccuracy float64        `json:"platform_accuracy"`
	FalseReplyRate   float64        `json:"false_reply_rate"`
	PerCategory      map[string]PRF `json:"per_category"`
	// Confusion counts tickets by expected action, then by decided action.
	Confusion map[Action]map[Action]int `json:"action_confusion"`
	// PlatformTickets is how many tickets platform accuracy counts (those
	// with at least one expected category); HumanTickets how many the
	// false reply rate counts.
	PlatformTickets int `json:"platform_tickets"`
	HumanTickets    int `json:"human_tickets"`

	// The tiers. Coverage is the share of tickets whose expected action
	// is not human that the bot handled alone (mode auto);
	// AutonomousPrecision the share of auto verdicts with the right action
	// and category set; FalseAutonomousRate the share of human tickets
	// acted on alone; SuggestionAccuracy the share of suggestions (on
	// tickets whose expected action is not human) with the right action
	// and category set; ECE the expected calibration error of the
	// confidence (10 bins), a verdict counting as right when its action
	// and category set are.
	Coverage            float64        `json:"coverage"`
	AutonomousPrecision float64        `json:"autonomous_precision"`
	FalseAutonomousRate float64        `json:"false_autonomous_rate"`
	SuggestionAccuracy  float64        `json:"suggestion_accuracy"`
	ECE                 float64        `json:"ece"`
	Modes               map[string]int `json:"modes"`
	// LanguageAccuracy is the share of tickets whose expected language
	// (when the corpus gives one) the verdict named.
	LanguageAccuracy float64 `json:"language_accuracy,omitempty"`
	// Security counts the expected security reports, how many were
	// flagged, and how many in-scope tickets were flagged wrongly.
	SecurityTickets       int     `json:"security_tickets,omitempty"`
	SecurityRecall        float64 `json:"security_recall,omitempty"`
	SecurityFalseFlagRate float64 `json:"security_false_flag_rate,omitempty"`
	// Errors lists the tickets decided wrongly, for reading.
	Errors []EvalError `json:"errors,omitempty"`
}

// EvalError is one ticket the classifier got wrong in some way.
type EvalError struct {
	ID     string   `json:"id"`
	Want   Expect   `json:"want"`
	Got    Expect   `json:"got"`
	Reason string   `json:"reason"`
	What   []string `json:"what"` // "categories", "platform", "action"
}

// Scorer accumulates verdicts against expectations.
type Scorer struct {
	tickets, actionOK, platformN, platformOK, humanN, humanReplied int
	auto, autoRight, notHuman, autoNotHuman, humanAuto             int
	suggestN, suggestRight                                         int
	langN, langOK, secN, secFlagged, inScopeN, inScopeFlagged      int
	modes                                                          map[string]int
	confs                                                          []float64
	rights                                                         []bool
	tp, fp, fn                                                     map[string]int
	confusion                                                      map[Action]map[Action]int
	errors                                                         []EvalError
}

// NewScorer returns an empty scorer.
func NewScorer() *Scorer {
	s := &Scorer{tp: map[string]int{}, fp: map[string]int{}, fn: map[string]int{}, confusion: map[Action]map[Action]int{}, modes: map[string]int{}}
	for _, a := range Actions() {
		s.confusion[a] = map[Action]int{}
	}
	return s
}

// Add scores one verdict.
func (s *Scorer) Add(id string, want Expect, got Verdict) {
	s.tickets++
	var what []string
	catsOK := true
	for _, c := range Categories() {
		w, g := contains(want.Categories, c), contains(got.Categories, c)
		switch {
		case w && g:
			s.tp[c]++
		case g:
			s.fp[c]++
			catsOK = false
		case w:
			s.fn[c]++
			catsOK = false
		}
	}
	if !catsOK {
		what = append(what, "categories")
	}
	if len(want.Categories) > 0 {
		s.platformN++
		if want.Platform == got.Platform {
			s.platformOK++
		} else {
			what = append(what, "platform")
		}
	}
	if s.confusion[want.Action] == nil {
		s.confusion[want.Action] = map[Action]int{}
	}
	s.confusion[want.Action][got.Action]++
	if want.Action == got.Action {
		s.actionOK++
	} else {
		what = append(what, "action")
	}
	if want.Action == ActionHuman {
		s.humanN++
		switch got.Action {
		case ActionReply, ActionEscalateMFA, ActionEscalatePassword:
			s.humanReplied++
		}
	}
	right := catsOK && want.Action == got.Action
	s.confs = append(s.confs, got.Confidence)
	s.rights = append(s.rights, right)
	s.modes[got.Mode]++
	auto := got.Mode == ModeAuto
	if auto {
		s.auto++
		s.autoRight += int(b2f(right))
	}
	if want.Action == ActionHuman {
		s.humanAuto += int(b2f(auto))
	} else {
		s.notHuman++
		s.autoNotHuman += int(b2f(auto))
		if got.Mode == ModeSuggest {
			s.suggestN++
			s.suggestRight += int(b2f(right))
		}
	}
	if want.Language != "" {
		s.langN++
		s.langOK += int(b2f(want.Language == got.Language))
	}
	if want.Security {
		s.secN++
		s.secFlagged += int(b2f(got.Security))
	} else if want.Action != ActionHuman {
		s.inScopeN++
		s.inScopeFlagged += int(b2f(got.Security))
	}
	if len(what) > 0 {
		s.errors = append(s.errors, EvalError{
			ID: id, Want: want, What: what, Reason: got.Reason,
			Got: Expect{Categories: got.Categories, Platform: got.Platform, Action: got.Action},
		})
	}
}

// Report computes the metrics.
func (s *Scorer) Report() Report {
	r := Report{
		Tickets:         s.tickets,
		PerCategory:     map[string]PRF{},
		Confusion:       s.confusion,
		PlatformTickets: s.platformN,
		HumanTickets:    s.humanN,
		Errors:          s.errors,
	}
	var tp, fp, fn int
	for _, c := range Categories() {
		p := newPRF(s.tp[c], s.fp[c], s.fn[c])
		r.PerCategory[c] = p
		r.MacroF1 += p.F1
		tp, fp, fn = tp+s.tp[c], fp+s.fp[c], fn+s.fn[c]
	}
	r.MacroF1 /= float64(len(Categories()))
	r.MicroF1 = newPRF(tp, fp, fn).F1
	if s.tickets > 0 {
		r.ActionAccuracy = float64(s.actionOK) / float64(s.tickets)
	}
	if s.platformN > 0 {
		r.PlatformAccuracy = float64(s.platformOK) / float64(s.platformN)
	}
	if s.humanN > 0 {
		r.FalseReplyRate = float64(s.humanReplied) / float64(s.humanN)
	}
	r.Coverage = ratio(s.autoNotHuman, s.notHuman)
	r.AutonomousPrecision = ratio(s.autoRight, s.auto)
	r.FalseAutonomousRate = ratio(s.humanAuto, s.humanN)
	r.SuggestionAccuracy = ratio(s.suggestRight, s.suggestN)
	r.ECE = ECE(s.confs, s.rights)
	r.Modes = s.modes
	r.LanguageAccuracy = ratio(s.langOK, s.langN)
	r.SecurityTickets = s.secN
	r.SecurityRecall = ratio(s.secFlagged, s.secN)
	r.SecurityFalseFlagRate = ratio(s.inScopeFlagged, s.inScopeN)
	return r
}
