package templates

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// reserved holds the two characters that wrap values; no output may show them.
const reserved = string(litOpen) + string(litClose)

// mustLoad loads the embedded templates or stops the test.
func mustLoad(t testing.TB) *Set {
	t.Helper()
	s, err := Load("")
	if err != nil {
		t.Fatalf("Load(\"\"): %v", err)
	}
	return s
}

// blocksOf renders a document (doc "" is a reply) to the blocks
// [Set.Render] and [Set.Reply] print as wiki markup.
func blocksOf(s *Set, doc string, d Data) ([]block, error) {
	if doc == "" {
		return s.reply(d)
	}
	return s.render(doc, d)
}

// mustBlocks is blocksOf that stops the test on an error.
func mustBlocks(t testing.TB, s *Set, doc string, d Data) []block {
	t.Helper()
	blocks, err := blocksOf(s, doc, d)
	if err != nil {
		t.Fatalf("render %q: %v", doc, err)
	}
	return blocks
}

// plainText is what the reader sees, without the markup: the text of every
// span, one line of a block per line, so tests can look for text unescaped.
func plainText(blocks []block) string {
	var b strings.Builder
	for _, bl := range blocks {
		for _, ln := range bl.lines {
			for _, s := range ln {
				b.WriteString(s.text)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// skeleton is the structure of blocks with the text left out: block kinds,
// heading levels, lines and the marks of each span, in order.
func skeleton(blocks []block) string {
	var b strings.Builder
	for _, bl := range blocks {
		fmt.Fprintf(&b, "(%d/%d", bl.kind, bl.level)
		for _, ln := range bl.lines {
			b.WriteString(" [")
			for _, s := range ln {
				fmt.Fprintf(&b, "%t%t", s.strong, s.em)
			}
			b.WriteString("]")
		}
		b.WriteString(")")
	}
	return b.String()
}

// checkBlocks fails the test when blocks break what toWiki relies on: a
// document has blocks, a block has lines, a heading has one line and a
// level from 1 to 6, a line has spans and neither starts nor ends with white
// space, a span has text, a marked span has no white space at its ends, and
// neighbouring spans differ in their marks.
func checkBlocks(t testing.TB, blocks []block) {
	t.Helper()
	if err := validateBlocks(blocks); err != nil {
		t.Errorf("invalid blocks: %v\n%#v", err, blocks)
	}
}

func validateBlocks(blocks []block) error {
	if len(blocks) == 0 {
		return fmt.Errorf("no blocks")
	}
	for i, bl := range blocks {
		switch {
		case bl.kind < blockParagraph || bl.kind > blockBullet:
			return fmt.Errorf("block %d: unknown kind %d", i, bl.kind)
		case len(bl.lines) == 0:
			return fmt.Errorf("block %d: no lines", i)
		case bl.kind == blockHeading && (len(bl.lines) != 1 || bl.level < 1 || bl.level > 6):
			return fmt.Errorf("block %d: heading of level %d with %d lines", i, bl.level, len(bl.lines))
		}
		for j, ln := range bl.lines {
			if err := validateLine(ln); err != nil {
				return fmt.Errorf("block %d, line %d: %w", i, j, err)
			}
		}
	}
	return nil
}

func validateLine(ln line) error {
	if len(ln) == 0 {
		return fmt.Errorf("no spans")
	}
	if first, last := ln[0].text, ln[len(ln)-1].text; strings.TrimLeftFunc(first, unicode.IsSpace) != first || strings.TrimRightFunc(last, unicode.IsSpace) != last {
		return fmt.Errorf("white space at an end of the line")
	}
	for k, s := range ln {
		switch {
		case s.text == "":
			return fmt.Errorf("span %d is empty", k)
		case !utf8.ValidString(s.text):
			return fmt.Errorf("span %d is not valid UTF-8: %q", k, s.text)
		case strings.ContainsAny(s.text, reserved):
			return fmt.Errorf("span %d holds a reserved character: %q", k, s.text)
		case (s.strong || s.em) && strings.TrimSpace(s.text) != s.text:
			return fmt.Errorf("marked span %d has white space at an end: %q", k, s.text)
		case k > 0 && ln[k-1].strong == s.strong && ln[k-1].em == s.em:
			return fmt.Errorf("spans %d and %d have the same marks", k-1, k)
		}
	}
	return nil
}
