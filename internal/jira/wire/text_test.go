package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// maxText is the limit intake takes text with (intake.MaxTextBytes).
const maxText = 64 << 10

func TestText(t *testing.T) {
	t.Parallel()
	p := func(s string) string {
		return `{"type":"paragraph","content":[{"type":"text","text":` + jsonString(s) + `}]}`
	}
	doc := func(blocks ...string) string {
		return `{"type":"doc","version":1,"content":[` + strings.Join(blocks, ",") + `]}`
	}
	li := func(blocks ...string) string {
		return `{"type":"listItem","content":[` + strings.Join(blocks, ",") + `]}`
	}
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"null", `null`, ""},
		{"absent", ``, ""},
		{"wiki string kept", `"h1. Help\n{quote}old{quote}"`, "h1. Help\n{quote}old{quote}"},
		{"number", `42`, ""},
		{"paragraphs", doc(p("one"), p("two")), "one\ntwo"},
		{"heading and rule", doc(`{"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"Title"}]}`, `{"type":"rule"}`, p("after")), "Title\n----\nafter"},
		{"hard break", doc(`{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"text","text":"b"}]}`), "a\nb"},
		{"blockquote of two paragraphs", doc(p("I wrote:"), `{"type":"blockquote","content":[`+p("first")+`,`+p("second")+`]}`, p("end")), "I wrote:\n> first\n> second\nend"},
		{"quote keeps empty lines quoted", doc(`{"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"a"},{"type":"hardBreak"},{"type":"hardBreak"},{"type":"text","text":"b"}]}]}`), "> a\n>\n> b"},
		{"nested quote", doc(`{"type":"blockquote","content":[{"type":"blockquote","content":[` + p("deep") + `]}]}`), "> > deep"},
		{"bullet list, nested", doc(`{"type":"bulletList","content":[` + li(p("a"), `{"type":"bulletList","content":[`+li(p("a1"))+`]}`) + `,` + li(p("b")) + `]}`), "- a\n  - a1\n- b"},
		{"ordered list from 3, item of two paragraphs", doc(`{"type":"orderedList","attrs":{"order":3},"content":[` + li(p("x"), p("x2")) + `,` + li(p("y")) + `]}`), "3. x\n   x2\n4. y"},
		{"code block keeps lines", doc(`{"type":"codeBlock","attrs":{"language":"text"},"content":[{"type":"text","text":"line 1\n\nline 3"}]}`), "line 1\n\nline 3"},
		{"mention, emoji, card, status, date", doc(`{"type":"paragraph","content":[{"type":"mention","attrs":{"id":"557058:x"}},{"type":"text","text":" "},{"type":"emoji","attrs":{"shortName":":smile:"}},{"type":"text","text":" "},{"type":"inlineCard","attrs":{"url":"https://aka.ms/mfasetup"}},{"type":"text","text":" "},{"type":"status","attrs":{"text":"DONE"}},{"type":"text","text":" "},{"type":"date","attrs":{"timestamp":"1741564800000"}}]}`), "@557058:x :smile: https://aka.ms/mfasetup DONE 2025-03-10"},
		{"media dropped", doc(`{"type":"mediaSingle","content":[{"type":"media","attrs":{"id":"x"}}]}`, p("text")), "text"},
		{"panel and table", doc(`{"type":"panel","content":[`+p("note")+`]}`, `{"type":"table","content":[{"type":"tableRow","content":[{"type":"tableHeader","content":[`+p("h")+`]},{"type":"tableCell","content":[`+p("c")+`]}]}]}`), "note\nh\nc"},
		{"unknown node with content", doc(`{"type":"fancyBlock","content":[` + p("inside") + `]}`), "inside"},
		{"wrong shapes are skipped", `{"type":"doc","content":[{"type":"paragraph","content":"not a list"},{"type":"text","text":7},{"type":"mention","attrs":[]},{"type":"orderedList","attrs":{"order":"x"},"content":[` + li(p("z")) + `]},3,null,"loose"]}`, "1. z\nloose"},
		{"a bare array", `[` + p("a") + `,` + p("b") + `]`, "a\nb"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Text(json.RawMessage(tc.raw), maxText)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Text (-want +got):\n%s", diff)
			}
		})
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestTextLimits(t *testing.T) {
	t.Parallel()
	t.Run("depth", func(t *testing.T) {
		t.Parallel()
		// 5000 nested quotes (within encoding/json's own limit of 10000):
		// walked to MaxADFDepth only, so text this deep is dropped.
		const n = 5000
		raw := strings.Repeat(`{"type":"blockquote","content":[`, n) + `{"type":"text","text":"deep"}` + strings.Repeat(`]}`, n)
		got := Text(json.RawMessage(raw), maxText)
		if got != "" {
			t.Errorf("text beyond the depth limit came through: %.80q", got)
		}
		shallow := strings.Repeat(`{"type":"blockquote","content":[`, 10) + `{"type":"text","text":"ok"}` + strings.Repeat(`]}`, 10)
		if got, want := Text(json.RawMessage(shallow), maxText), strings.Repeat("> ", 10)+"ok"; got != want {
			t.Errorf("10 nested quotes: %q, want %q", got, want)
		}
	})
	t.Run("size", func(t *testing.T) {
		t.Parallel()
		var blocks []string
		for range 3000 {
			blocks = append(blocks, `{"type":"paragraph","content":[{"type":"text","text":"passkey ✓ `+strings.Repeat("é", 20)+`"}]}`)
		}
		raw := `{"type":"doc","content":[` + strings.Join(blocks, ",") + `]}`
		got := Text(json.RawMessage(raw), 1000)
		if len(got) > 1000 || len(got) < 900 || !utf8.ValidString(got) {
			t.Errorf("cut to %d bytes (valid UTF-8: %v), want 900..1000 bytes of valid UTF-8", len(got), utf8.ValidString(got))
		}
		wiki := Text(json.RawMessage(jsonString(strings.Repeat("ü", 600))), 1001)
		if len(wiki) != 1000 || !utf8.ValidString(wiki) {
			t.Errorf("wiki string cut to %d bytes, want 1000 (whole characters)", len(wiki))
		}
	})
}
