package classifier

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// benchTickets are realistic tickets: the project's own labeled set.
func benchTickets(b *testing.B) []Ticket {
	b.Helper()
	f, err := os.Open("../testdata/corpus/handwritten.jsonl")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	labeled, err := ReadCorpus(f)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]Ticket, len(labeled))
	for i, l := range labeled {
		out[i] = l.Ticket
	}
	return out
}

func ticketBytes(t Ticket) int {
	n := len(t.Summary) + len(t.Description)
	for _, c := range t.Comments {
		n += len(c.Body)
	}
	return n
}

// phraseList is every phrase the rules can match, spelled out: the list a
// naive matcher checks one by one.
func phraseList(b *testing.B, c *Classifier) []string {
	b.Helper()
	rs, err := ParseRules(bytes.NewReader(defaultRules))
	if err != nil {
		b.Fatal(err)
	}
	m := c.m
	seen := map[string]bool{}
	var out []string
	for _, slot := range m.slots {
		seqs, err := m.expandSlot(rs, slot, 0)
		if err != nil {
			b.Fatal(err)
		}
		for _, seq := range seqs {
			words := make([]string, len(seq))
			for i, el := range seq {
				if el&1 == 1 {
					for p, id := range m.prefixes {
						if id == el>>1 {
							words[i] = p
						}
					}
				} else {
					words[i] = m.words[el>>1]
				}
			}
			p := strings.Join(words, " ")
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// BenchmarkClassify decides realistic tickets; its baseline,
// BenchmarkNaiveContains, lowercases the same tickets and runs
// strings.Contains for every phrase of the same rules. Compare ns/op (the
// same tickets per op) and B/s.
func BenchmarkClassify(b *testing.B) {
	c, err := NewDefault()
	if err != nil {
		b.Fatal(err)
	}
	tickets := benchTickets(b)
	size := 0
	for _, t := range tickets {
		size += ticketBytes(t)
	}
	b.SetBytes(int64(size / len(tickets)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Decide(tickets[i%len(tickets)])
	}
}

func BenchmarkNaiveContains(b *testing.B) {
	c, err := NewDefault()
	if err != nil {
		b.Fatal(err)
	}
	tickets := benchTickets(b)
	phrases := phraseList(b, c)
	size := 0
	for _, t := range tickets {
		size += ticketBytes(t)
	}
	b.SetBytes(int64(size / len(tickets)))
	b.ReportAllocs()
	b.ResetTimer()
	hits := 0
	for i := 0; i < b.N; i++ {
		t := tickets[i%len(tickets)]
		texts := []string{strings.ToLower(t.Summary), strings.ToLower(t.Description)}
		for _, cm := range t.Comments {
			texts = append(texts, strings.ToLower(cm.Body))
		}
		for _, p := range phrases {
			for _, s := range texts {
				if strings.Contains(s, p) {
					hits++
				}
			}
		}
	}
	b.ReportMetric(float64(len(phrases)), "phrases")
	if hits < 0 {
		b.Fatal("unreachable")
	}
}
