package classifier

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Labeled is a ticket of the corpus format with its expected verdict
// (Expect is nil when the line has none).
type Labeled struct {
	Ticket
	Expect *Expect `json:"expect,omitempty"`
}

// maxLineBytes bounds one corpus line.
const maxLineBytes = 4 << 20

// ReadCorpus reads a JSONL corpus: one ticket object a line; blank lines
// are skipped. Errors name the line.
func ReadCorpus(r io.Reader) ([]Labeled, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLineBytes)
	var out []Labeled
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		t, err := parseObject(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}
	return out, nil
}

// ParseTicket reads one ticket: a corpus-format JSON object, or else plain
// text (the first line is the summary, the rest the description).
func ParseTicket(data []byte) (Labeled, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return Labeled{}, errors.New("the ticket is empty")
	}
	if trimmed[0] == '{' {
		return parseObject(trimmed)
	}
	if !utf8.Valid(trimmed) {
		return Labeled{}, errors.New("the ticket is neither JSON nor UTF-8 text")
	}
	text := string(trimmed)
	summary, desc, _ := strings.Cut(text, "\n")
	return Labeled{Ticket: Ticket{Summary: strings.TrimSpace(summary), Description: strings.TrimSpace(desc)}}, nil
}

func parseObject(data []byte) (Labeled, error) {
	var t Labeled
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return Labeled{}, fmt.Errorf("not a ticket object: %w", err)
	}
	if dec.More() {
		return Labeled{}, errors.New("more than one JSON value")
	}
	for i, c := range t.Comments {
		switch c.Author {
		case AuthorReporter, AuthorAgent, AuthorBot:
		default:
			return Labeled{}, fmt.Errorf("comment %d: author %q is not reporter, agent or bot", i+1, c.Author)
		}
	}
	if e := t.Expect; e != nil {
		for _, c := range e.Categories {
			if !contains(Categories(), c) {
				return Labeled{}, fmt.Errorf("expect: unknown category %q", c)
			}
		}
		switch e.Platform {
		case PlatformIOS, PlatformAndroid, PlatformUnknown:
		default:
			return Labeled{}, fmt.Errorf("expect: unknown platform %q", e.Platform)
		}
		known := false
		for _, a := range Actions() {
			known = known || a == e.Action
		}
		if !known {
			return Labeled{}, fmt.Errorf("expect: unknown action %q", e.Action)
		}
	}
	return t, nil
}
