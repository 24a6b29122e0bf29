package classifier

import (
	"math"
	"slices"
)

// The learned model reads hashed features of the reporter's own text, as
// the rules see it after cleaning (quoted replies, bot and agent echoes and
// signatures set aside) and normalisation (case, diacritics, contractions).
// Each feature is a namespace and some bytes, hashed with FNV-1a into
// modelBuckets buckets. The text before the bot's last comment and the
// reporter's answers after it are separate namespaces: "still fails" in an
// answer to the steps means something else than in a first message. An
// answer's words and word pairs also count in the first message's
// namespace, so what is learned from first messages (a possible attack, a
// new phone) is read in follow-ups too: in cross-validation on 9,907
// tickets that raised coverage by 0.016-0.034 (4, 5 and 6 folds) and
// security recall from 0.981 to 0.985.
const (
	modelBucketBits = 17
	modelBuckets    = 1 << modelBucketBits
)

// Feature namespaces.
const (
	nsWord byte = iota + 1
	nsBigram
	nsChar
	nsStruct
)

// Structure features: the shape of the thread, not its words.
const (
	structBias       = iota
	structBot        // the bot has commented
	structAfter      // the reporter answered after the bot's last comment
	structAgent      // an agent has commented
	structReplied    // steps were already posted (the triage state)
	structLongThread // three or more reporter comments
	structSecurity   // the rules' security signal holds
	structEmptyText  // no reporter word at all
	structCount
)

const (
	fnvOffset = 2166136261
	fnvPrime  = 16777619
)

func fnvByte(h uint32, b byte) uint32 { return (h ^ uint32(b)) * fnvPrime }

func fnvBytes(h uint32, b []byte) uint32 {
	for _, c := range b {
		h = (h ^ uint32(c)) * fnvPrime
	}
	return h
}

func bucket(h uint32) uint32 { return h & (modelBuckets - 1) }

// featureSet is one ticket's features: bucket indexes, deduplicated, with
// the weight each carries (text features share 1/sqrt(n); structure
// features weigh 1).
type featureSet struct {
	idx   []uint32
	text  int // idx[:text] are text features, idx[text:] structure features
	scale float64
	// sents are the feature lists of the reporter's sentences, each read
	// alone (see sentenceFeatures): kept for training only.
	sents [][]uint32
}

// sentence is one sentence of the reporter's text: the range of its text
// features in scratch.sentFeats and of its words in scratch.text.
type sentence struct {
	from, to   int32
	start, end int32
	words      int32
}

// minSentenceWords is the fewest words a sentence needs to be read alone:
// shorter ones ("thanks", "any idea?") say too little to name a problem.
const minSentenceWords = 4

// sentenceFeatures is sentence i of sc read alone, as a ticket of that one
// sentence: its text features and the bias. The slice is scratch memory.
func (sc *scratch) sentenceFeatures(i int) featureSet {
	s := sc.sents[i]
	idx := append(sc.sentBuf[:0], sc.sentFeats[s.from:s.to]...)
	slices.Sort(idx)
	idx = slices.Compact(idx)
	sc.sentBuf = append(idx, structFeature(structBias))
	return sentenceSet(sc.sentBuf)
}

// sentenceSet is the feature set of one sentence's features idx: its
// sorted text features, then the bias.
func sentenceSet(idx []uint32) featureSet {
	n := len(idx) - 1
	return featureSet{idx: idx, text: n, scale: 1 / math.Sqrt(float64(max(n, 1)))}
}

// sentenceMax is, for each category, the text model m's highest
// probability over n sentences read alone (set(i) is sentence i's feature
// set), and the sentence that gave it (-1 when none was read). The worker
// reads a ticket's sentences from its scratch (sc.sentenceFeatures),
// training from the kept lists (sentenceSet).
func sentenceMax(m *Model, n int, set func(int) featureSet) (best [nCats]float64, at [nCats]int) {
	for c := range at {
		at[c] = -1
	}
	for i := range n {
		p := m.score(set(i)).probs()
		for c, x := range p.cat {
			if x > best[c] {
				best[c], at[c] = x, i
			}
		}
	}
	return best, at
}

// features computes the hashed features of the reporter's text in sc.
func (c *Classifier) features(sc *scratch, t Ticket, agent bool, lastBot, firstAfter int, security bool) featureSet {
	idx := sc.feats[:0]
	sc.sents = sc.sents[:0]
	reporterComments := 0
	for si, seg := range sc.segs {
		if seg.comment > 0 {
			reporterComments++
		}
		zone := byte(0)
		if firstAfter >= 0 && si >= firstAfter {
			zone = 1
		}
		var prev []byte
		var prevSent int32 = -1
		for _, tk := range sc.toks[seg.tokStart:seg.tokEnd] {
			if tk.sig {
				continue
			}
			w := sc.text[tk.start:tk.end]
			if len(w) == 0 {
				continue
			}
			if prev == nil || prevSent != tk.sent {
				sc.sents = append(sc.sents, sentence{from: int32(len(idx)), start: tk.start})
			}
			s := &sc.sents[len(sc.sents)-1]
			s.end = tk.end
			s.words++
			idx = append(idx, wordFeature(zone, w))
			if zone == 1 {
				// an answer's words also count as the first message's:
				// "5 more requests last night that weren't me" says the
				// same in a follow-up as in a new ticket
				idx = append(idx, wordFeature(0, w))
			}
			if prev != nil && prevSent == tk.sent {
				idx = append(idx, pairFeature(zone, prev, w))
				if zone == 1 {
					idx = append(idx, pairFeature(0, prev, w))
				}
			}
			prev, prevSent = w, tk.sent
			if len(w) >= 4 && !isDigits(w) {
				// character 4-grams of " word ", for typos, inflections
				// and compounds
				idx = charGrams(idx, w, zone)
			}
			s.to = int32(len(idx))
		}
	}
	// the sentences keep their features in token order, before the sort
	sc.sentFeats = append(sc.sentFeats[:0], idx...)
	sc.sents = slices.DeleteFunc(sc.sents, func(s sentence) bool { return s.words < minSentenceWords })
	text := len(idx)
	if text > 0 {
		slices.Sort(idx)
		idx = slices.Compact(idx)
		text = len(idx)
	}
	add := func(f int, on bool) {
		if on {
			idx = append(idx, structFeature(f))
		}
	}
	add(structBias, true)
	add(structBot, lastBot >= 0)
	add(structAfter, firstAfter >= 0)
	add(structAgent, agent)
	add(structReplied, len(t.Replied) > 0)
	add(structLongThread, reporterComments >= 3)
	add(structEmptyText, text == 0)
	add(structSecurity, security)
	sc.feats = idx
	fs := featureSet{idx: idx, text: text, scale: 1}
	if text > 0 {
		fs.scale = 1 / math.Sqrt(float64(text))
	}
	return fs
}

// structFeature is structure feature f's bucket.
func structFeature(f int) uint32 { return bucket(fnvByte(fnvByte(fnvOffset, nsStruct), byte(f))) }

// wordFeature is word w's bucket in zone (0: the first message and what
// came before the bot's last comment; 1: the answers after it).
func wordFeature(zone byte, w []byte) uint32 {
	return bucket(fnvBytes(fnvByte(fnvByte(fnvOffset, nsWord), zone), w))
}

// pairFeature is the bucket of the word pair prev w in zone.
func pairFeature(zone byte, prev, w []byte) uint32 {
	h := fnvByte(fnvByte(fnvOffset, nsBigram), zone)
	h = fnvByte(fnvBytes(h, prev), ' ')
	return bucket(fnvBytes(h, w))
}

func charGrams(idx []uint32, w []byte, zone byte) []uint32 {
	n := len(w) + 2
	at := func(i int) byte {
		if i == 0 || i == n-1 {
			return ' '
		}
		return w[i-1]
	}
	for i := 0; i+4 <= n; i++ {
		h := fnvByte(fnvByte(fnvOffset, nsChar), zone)
		for j := i; j < i+4; j++ {
			h = fnvByte(h, at(j))
		}
		idx = append(idx, bucket(h))
	}
	return idx
}

func isDigits(w []byte) bool {
	for _, b := range w {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}
