package classifier

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
)

// The model's outputs: one logistic output per category (the categories
// in canonical order), then a softmax over the actions (in Actions order),
// then one logistic output for a report of a possible attack (secOut),
// which reads the text features and the bias only, never the rules'.
const (
	nCats  = 6
	nActs  = 5
	secOut = nCats + nActs
	nOut   = secOut + 1
)

// Model is the learned second judge: a logistic regression over hashed
// word, word-pair and character features of the reporter's text (the
// "text model"), and a small stacked combiner ("meta") that turns the
// rules' verdict and the text model's probabilities into one verdict and a
// calibrated confidence. Train builds it; ReadModel loads it. It is
// immutable and safe for concurrent use.
type Model struct {
	// row[b] is bucket b's row in w, or -1 when all its weights are 0
	// (most buckets: a compact model is a third of a dense one)
	row  []int32
	w    []float32 // the used buckets' weights, nOut a row, in bucket order
	meta Meta
}

// newModel keeps the non-zero rows of dense (modelBuckets × nOut).
func newModel(dense []float32, meta Meta) *Model {
	m := &Model{row: make([]int32, modelBuckets), meta: meta}
	for b := range modelBuckets {
		ws := dense[b*nOut : (b+1)*nOut]
		if !slices.ContainsFunc(ws, func(x float32) bool { return x != 0 }) {
			m.row[b] = -1
			continue
		}
		m.row[b] = int32(len(m.w) / nOut)
		m.w = append(m.w, ws...)
	}
	m.w = slices.Clip(m.w)
	return m
}

// weights is bucket b's row, nil when it has none.
func (m *Model) weights(b uint32) []float32 {
	r := m.row[b]
	if r < 0 {
		return nil
	}
	return m.w[int(r)*nOut : int(r+1)*nOut]
}

// Meta is the combiner of the two judges and the calibration, fitted on
// tickets no model that scored them had trained on.
type Meta struct {
	// Combiner is the combiner of the two judges: boosted trees over what
	// the rules found and what the text model read (format v6).
	Combiner *Combiner `json:"combiner,omitempty"`
	// Cat and Act are the linear combiner of a model before v6, in use
	// when it has no Combiner. Cat[c] weighs, for category c, the inputs
	// of catInputs: what the rules found and the text model's probability
	// for every category, its log-odds for c, its action probabilities,
	// and a bias. Act[a] weighs, for action a, the inputs of actInputs.
	Cat *[nCats][catDim]float64 `json:"cat,omitempty"`
	Act *[nActs][actDim]float64 `json:"act,omitempty"`
	// Calib maps the calibration features (see calibFeatures) to the
	// log-odds that the verdict's action and category set are right by a
	// logistic regression: the calibration of a model without Boost (v4
	// and before). A v5 model carries it too, fitted on the same verdicts,
	// and decides with Boost.
	Calib [nCalib]float64 `json:"calib"`
	// Boost, when present, is the calibration in use instead of Calib:
	// gradient-boosted trees over the same features (format v5; a v4
	// model has none and decides with Calib).
	Boost *Boost `json:"boost,omitempty"`
	// AutoThreshold is the default confidence from which the bot acts
	// alone, chosen by cross-validation (see Info).
	AutoThreshold float64 `json:"auto_threshold"`
	// SecThreshold is the text model's probability of a possible attack
	// from which it flags a ticket the rules did not, chosen by
	// cross-validation (see chooseSecThreshold); 0 or above 1: never.
	SecThreshold float64 `json:"sec_threshold"`
	// SecCaution is the text model's probability of a possible attack
	// from which a verdict that would act (alone or as a suggestion) on a
	// ticket SecThreshold leaves alone is flagged as one instead: too
	// likely an attack to answer with steps (see chooseSecCaution); 0:
	// never (models trained before it).
	SecCaution float64 `json:"sec_caution,omitempty"`
	// SecDoubt is the text model's probability of a possible attack from
	// which a verdict that would act alone is only suggested to the agents
	// (see applyDoubt; chosen like SecCaution, on the verdicts that would
	// act alone); 0: never (models trained before it).
	SecDoubt float64 `json:"sec_doubt,omitempty"`
	// SecondDoubt is the text model's probability, reading one sentence of
	// the reporter's alone, of a category the verdict lacks, from which a
	// verdict that would act alone is only suggested to the agents: a
	// second problem the reading of the whole ticket missed (chosen by
	// cross-validation, see chooseSecondDoubt); 0: never.
	SecondDoubt float64 `json:"second_doubt,omitempty"`
	// Info says how the model was trained and what cross-validation
	// measured.
	Info ModelInfo `json:"info"`
}

// ModelInfo records a model's training.
type ModelInfo struct {
	Tickets      int                `json:"tickets"`
	MetaTickets  int                `json:"meta_tickets"`
	Folds        int                `json:"folds"`
	Epochs       int                `json:"epochs"`
	CV           map[string]float64 `json:"cv"`
	TextFeatures int                `json:"text_buckets_used"`
}

const (
	modelMagic = "triage-model-v6\n"
	// modelMagicV5 is the format before the boosted combiner: read with
	// its linear combiner (Cat and Act).
	modelMagicV5 = "triage-model-v5\n"
	// modelMagicV4 is the format before the boosted calibration: read as
	// v5 without Boost, it decides with its logistic calibration.
	modelMagicV4 = "triage-model-v4\n"
	// modelMagicV3 is the format before the calibration read how near the
	// verdict came to another category (calLeftOut and the two after it):
	// read as v4, its calibration weighs those 0 and decides as it did.
	modelMagicV3 = "triage-model-v3\n"
	// modelMagicV1 is the format before the security output.
	modelMagicV1 = "triage-model-v1\n"
	// modelMagicV2 is the format before the combiner's categories read
	// every category's inputs and the calibration the verdict's
	// categories: its meta would be misread, not refused, as v3.
	modelMagicV2 = "triage-model-v2\n"
)

//go:embed model.bin.gz
var defaultModel []byte

// DefaultModel returns the embedded model's bytes (for hashing).
func DefaultModel() []byte { return bytes.Clone(defaultModel) }

// LoadDefaultModel reads the embedded model.
func LoadDefaultModel() (*Model, error) { return ReadModel(bytes.NewReader(defaultModel)) }

// Meta returns the model's combiner, calibration and training record.
func (m *Model) Meta() Meta { return m.meta }

// WriteTo writes the model: gzip of a magic line, the meta as one JSON
// line, then every bucket with a non-zero weight as a little-endian uint32
// and nOut float32s. The same model always writes the same bytes.
func (m *Model) WriteTo(w io.Writer) (int64, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	meta, err := json.Marshal(m.meta)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriter(zw)
	bw.WriteString(modelMagic)
	bw.Write(meta)
	bw.WriteByte('\n')
	var row [4 + 4*nOut]byte
	for b := range uint32(modelBuckets) {
		ws := m.weights(b)
		if ws == nil {
			continue
		}
		binary.LittleEndian.PutUint32(row[:4], uint32(b))
		for k, x := range ws {
			binary.LittleEndian.PutUint32(row[4+4*k:], math.Float32bits(x))
		}
		bw.Write(row[:])
	}
	if err := bw.Flush(); err != nil {
		return 0, err
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	n, err := w.Write(buf.Bytes())
	return int64(n), err
}

// maxModelBytes bounds a model file after decompression.
const maxModelBytes = 64 << 20

// ReadModel reads a model written by WriteTo.
func ReadModel(r io.Reader) (*Model, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("model: not a gzip stream: %w", err)
	}
	br := bufio.NewReader(io.LimitReader(zr, maxModelBytes))
	magic, err := br.ReadString('\n')
	switch magic {
	case modelMagicV1:
		return nil, errors.New("model: an older format (v1, before the security output); rebuild it with triage train")
	case modelMagicV2:
		return nil, errors.New("model: an older format (v2, before the combiner read every category); rebuild it with triage train")
	}
	if err != nil || (magic != modelMagic && magic != modelMagicV5 && magic != modelMagicV4 && magic != modelMagicV3) {
		return nil, errors.New("model: not a triage model (bad header)")
	}
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, fmt.Errorf("model: meta line: %w", err)
	}
	m := &Model{row: make([]int32, modelBuckets)}
	for b := range m.row {
		m.row[b] = -1
	}
	meta := &m.meta
	if err := json.Unmarshal(line, meta); err != nil {
		return nil, fmt.Errorf("model: meta: %w", err)
	}
	if magic == modelMagicV4 || magic == modelMagicV3 {
		meta.Boost = nil
	}
	if magic == modelMagic {
		meta.Cat, meta.Act = nil, nil
		if meta.Combiner == nil {
			return nil, errors.New("model: a v6 model without its combiner")
		}
	} else {
		meta.Combiner = nil
		if meta.Cat == nil || meta.Act == nil {
			return nil, errors.New("model: no combiner (cat and act)")
		}
	}
	if meta.Boost != nil {
		if err := meta.Boost.check(nCalib); err != nil {
			return nil, fmt.Errorf("model: %w", err)
		}
	}
	if cb := meta.Combiner; cb != nil {
		for i, b := range append(cb.Cat[:], cb.Act[:]...) {
			if err := b.check(combDim); err != nil {
				return nil, fmt.Errorf("model: combiner %d: %w", i, err)
			}
		}
	}
	if t := meta.AutoThreshold; !(t >= 0 && t <= 1.01) {
		return nil, fmt.Errorf("model: auto threshold %v is outside [0, 1.01]", t)
	}
	if t := meta.SecThreshold; !(t >= 0 && t <= 1.01) {
		return nil, fmt.Errorf("model: security threshold %v is outside [0, 1.01]", t)
	}
	if t := meta.SecDoubt; !(t >= 0 && t <= 1.01) {
		return nil, fmt.Errorf("model: security doubt %v is outside [0, 1.01]", t)
	}
	if t := meta.SecondDoubt; !(t >= 0 && t <= 1.01) {
		return nil, fmt.Errorf("model: second-problem doubt %v is outside [0, 1.01]", t)
	}
	if t := meta.SecCaution; !(t >= 0 && t <= 1.01) {
		return nil, fmt.Errorf("model: security caution %v is outside [0, 1.01]", t)
	}
	var row [4 + 4*nOut]byte
	for {
		if _, err := io.ReadFull(br, row[:]); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, fmt.Errorf("model: weights: %w", err)
		}
		b := binary.LittleEndian.Uint32(row[:4])
		if b >= modelBuckets {
			return nil, fmt.Errorf("model: bucket %d out of range", b)
		}
		if m.row[b] < 0 {
			// rows go straight into the compact form: no dense copy
			m.row[b] = int32(len(m.w) / nOut)
			m.w = append(m.w, make([]float32, nOut)...)
		}
		ws := m.weights(b)
		for k := range nOut {
			x := math.Float32frombits(binary.LittleEndian.Uint32(row[4+4*k:]))
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("model: weight of bucket %d is not finite", b)
			}
			ws[k] = x
		}
	}
	m.w = slices.Clip(m.w)
	return m, nil
}

// scores are the text model's raw outputs for one ticket.
type scores [nOut]float64

// score sums the weights of a ticket's features.
func (m *Model) score(fs featureSet) scores {
	var s scores
	for i, b := range fs.idx {
		v := 1.0
		if i < fs.text {
			v = fs.scale
		}
		ws := m.weights(b)
		if ws == nil {
			continue
		}
		for k, w := range ws[:outsOf(fs, i)] {
			s[k] += v * float64(w)
		}
	}
	return s
}

// outsOf is how many outputs the i-th feature of fs feeds: all of them for
// the text features and the bias (the first structure feature), all but
// the security output for the other structure features, so that the
// security output judges the reporter's words alone.
func outsOf(fs featureSet, i int) int {
	if i > fs.text {
		return secOut
	}
	return nOut
}

// textProbs are the text model's probabilities: per category, over the
// actions, and of a possible attack.
type textProbs struct {
	cat [nCats]float64
	act [nActs]float64
	sec float64
}

func (s scores) probs() textProbs {
	var p textProbs
	for c := range nCats {
		p.cat[c] = sigmoid(s[c])
	}
	softmax(s[nCats:secOut], p.act[:])
	p.sec = sigmoid(s[secOut])
	return p
}

func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func softmax(z []float64, out []float64) {
	mx := math.Inf(-1)
	for _, x := range z {
		mx = max(mx, x)
	}
	sum := 0.0
	for i, x := range z {
		out[i] = math.Exp(x - mx)
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
}

func logit(p float64) float64 {
	p = min(max(p, 1e-4), 1-1e-4)
	return math.Log(p / (1 - p))
}
