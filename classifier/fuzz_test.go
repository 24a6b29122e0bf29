package classifier

import (
	"bytes"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzClassify feeds arbitrary input through the classify command's
// parser (corpus JSON or plain text) and the decision: no panic, and the
// same input always gets the same verdict.
func FuzzClassify(f *testing.F) {
	for _, seed := range []string{
		`{"id":"x","summary":"passkey","description":"my passkey can no longer be used","comments":[{"author":"bot","body":"steps"},{"author":"reporter","body":"still fails"}]}`,
		"Authenticator did not complete login\n\nSent from my iPhone",
		"<p>h&eacute;llo &#x1F600; <blockquote>quoted</blockquote></p>",
		"{quote}{quote}{code}{noformat}[~user] [a|b] !img.png! h1. x\n> > >\nOn Mon, X wrote:\n> y",
		"From: IT Helpdesk\nSent: x\nTo: y\nSubject: z\n\nbody",
		"didn't can't won't n't ' '' d'acces l'app",
		"{{.Summary}} {{template \"x\"}} {{end}}",
		"\xff\xfe\x00\x01 binary",
		"ﬁ ｐａｓｓｋｅｙ Ｐａｓｓｗｏｒｔ ＶＥＲＧＥＳＳＥＮ",
	} {
		f.Add([]byte(seed))
	}
	c, err := NewDefault()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseTicket(data)
		if err != nil {
			// not a ticket: still decide the raw text as a description
			if !utf8.Valid(data) {
				return
			}
			l = Labeled{Ticket: Ticket{Description: string(data)}}
		}
		v1 := c.Decide(l.Ticket)
		v2 := c.Decide(l.Ticket)
		if !reflect.DeepEqual(v1, v2) {
			t.Fatalf("verdict changed:\n%+v\n%+v", v1, v2)
		}
		if v1.Categories == nil || v1.Evidence == nil {
			t.Fatalf("nil slices in verdict: %+v", v1)
		}
		if v1.Confidence < 0 || v1.Confidence > 1 {
			t.Fatalf("confidence %v out of [0,1]", v1.Confidence)
		}
	})
}

// FuzzNormalize checks folding and tokenising: no panic, tokens inside the
// text, in order.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{"Didn't", "Clé d'accès", "ﬁ", "a\u0301", "x.y. z! \n\n- a", "\u2019\u201c", "\xff"} {
		f.Add([]byte(seed))
	}
	c, err := NewDefault()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		folded, _ := fold(nil, nil, data)
		spans := c.m.clean(folded, cleanOpts{}, nil)
		toks := c.m.tokenize(folded, spans, nil)
		last := int32(0)
		for _, tk := range toks {
			if tk.start < last || tk.end < tk.start || int(tk.end) > len(folded) {
				t.Fatalf("token %+v out of order or outside %d bytes", tk, len(folded))
			}
			last = tk.start
		}
		hits := c.m.scan(toks, nil)
		for _, h := range hits {
			if h.start > h.end || int(h.end) >= len(toks) {
				t.Fatalf("hit %+v outside %d tokens", h, len(toks))
			}
		}
	})
}

// FuzzParseRules feeds arbitrary rules files: a clear error or a working
// classifier, never a panic.
func FuzzParseRules(f *testing.F) {
	f.Add(defaultRules)
	f.Add([]byte("version: 1\n"))
	f.Add([]byte("version: 1\ngroups: {a: ['@a']}\n"))
	f.Add([]byte("version: 1\nsettings: {window: -1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRules(bytes.NewReader(data))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		c, err := New(rs)
		if err != nil {
			return
		}
		c.Decide(Ticket{Summary: "passkey", Description: "my passkey can no longer be used"})
	})
}

// FuzzReadCorpus feeds arbitrary JSONL: a clear error or tickets.
func FuzzReadCorpus(f *testing.F) {
	f.Add([]byte(`{"id":"a","summary":"s","description":"d","expect":{"categories":["passkey-setup"],"platform":"ios","action":"reply"}}` + "\n\n" + `{"id":"b"}`))
	f.Add([]byte("{\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tickets, err := ReadCorpus(bytes.NewReader(data))
		if err != nil && tickets != nil {
			t.Fatal("tickets returned with an error")
		}
	})
}
