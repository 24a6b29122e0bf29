package wire

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxADFDepth bounds how deep an ADF document is walked; deeper nodes are
// dropped, so hostile nesting cannot exhaust the stack.
const MaxADFDepth = 64

// Text turns a Jira rich-text field (a description or a comment body) into
// plain text: a wiki-markup string is kept as it is, an Atlassian Document
// Format (ADF) document is flattened by adfText. null, numbers and booleans
// read as "". The result is at most limit bytes of valid UTF-8.
func Text(raw json.RawMessage, limit int) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return Truncate(s, limit)
	case '{', '[':
		var v any
		if json.Unmarshal(raw, &v) != nil {
			return ""
		}
		return adfText(v, limit)
	}
	return ""
}

// Truncate cuts s to at most limit bytes without splitting a character, and
// replaces invalid UTF-8.
func Truncate(s string, limit int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// adfText flattens a decoded ADF document (or any JSON value shaped like
// one) to plain text, one block per line:
//
//   - paragraph, heading, codeBlock, panel, table cells …: their text, on
//     lines of their own; hardBreak and newlines in code start a new line;
//   - blockquote: every line prefixed with "> " (an empty one with ">"), so
//     the classifier recognises quoted text;
//   - bulletList / taskList / decisionList items start with "- ",
//     orderedList items with "1. " (from attrs.order), continuation lines
//     are indented;
//   - text: its text (marks ignored); mention: attrs.text or "@" + attrs.id;
//     emoji: attrs.text or attrs.shortName; inlineCard / blockCard /
//     embedCard: attrs.url; status: attrs.text; date: attrs.timestamp as
//     yyyy-mm-dd; rule: "----"; media nodes: nothing;
//   - unknown nodes: their content, or their text.
//
// Nodes deeper than MaxADFDepth are dropped and the output stops at limit
// bytes; it never panics on unexpected shapes.
func adfText(doc any, limit int) string {
	w := &textWriter{limit: limit, atStart: true}
	w.node(doc, 0)
	return strings.TrimRight(w.b.String(), "\n")
}

type linePrefix struct {
	first, rest string
	used        bool
}

type textWriter struct {
	b        strings.Builder
	limit    int
	full     bool
	prefixes []linePrefix
	atStart  bool // nothing written on the current line yet, not even its prefix
}

// write appends s, stopping for good at the limit.
func (w *textWriter) write(s string) {
	if w.full {
		return
	}
	if room := w.limit - w.b.Len(); len(s) > room {
		w.b.WriteString(Truncate(s, room))
		w.full = true
		return
	}
	w.b.WriteString(s)
}

// startLine writes the prefixes of a new line: a list item's marker on its
// first line, its indentation on the others.
func (w *textWriter) startLine() {
	for i := range w.prefixes {
		p := &w.prefixes[i]
		if p.used {
			w.write(p.rest)
		} else {
			w.write(p.first)
			p.used = true
		}
	}
}

// endBlock ends the current line unless it is empty.
func (w *textWriter) endBlock() {
	if !w.atStart {
		w.write("\n")
		w.atStart = true
	}
}

// lineBreak ends the current line; on an empty line it writes the
// prefixes first, so a quote stays one block.
func (w *textWriter) lineBreak() {
	if w.atStart && len(w.prefixes) > 0 {
		var pb strings.Builder
		for _, p := range w.prefixes {
			pb.WriteString(p.rest)
		}
		w.write(strings.TrimRight(pb.String(), " "))
	}
	w.write("\n")
	w.atStart = true
}

// text writes inline text; its newlines become line breaks.
func (w *textWriter) text(s string) {
	for i, seg := range strings.Split(s, "\n") {
		if w.full {
			return
		}
		if i > 0 {
			w.lineBreak()
		}
		seg = strings.TrimSuffix(seg, "\r")
		if seg == "" {
			continue
		}
		if w.atStart {
			w.startLine()
			w.atStart = false
		}
		w.write(seg)
	}
}

func (w *textWriter) push(first, rest string) {
	w.prefixes = append(w.prefixes, linePrefix{first: first, rest: rest})
}

func (w *textWriter) pop() { w.prefixes = w.prefixes[:len(w.prefixes)-1] }

// children walks n's content.
func (w *textWriter) children(n map[string]any, depth int) {
	if c, ok := n["content"].([]any); ok {
		for _, child := range c {
			if w.full {
				return
			}
			w.node(child, depth+1)
		}
	}
}

func (w *textWriter) block(n map[string]any, depth int) {
	w.endBlock()
	w.children(n, depth)
	w.endBlock()
}

func (w *textWriter) list(n map[string]any, depth int, marker func(i int) string) {
	w.endBlock()
	items, _ := n["content"].([]any)
	for i, item := range items {
		if w.full {
			return
		}
		m := marker(i)
		w.push(m, strings.Repeat(" ", len(m)))
		w.node(item, depth+1)
		w.endBlock()
		w.pop()
	}
}

func (w *textWriter) node(v any, depth int) {
	if w.full || depth > MaxADFDepth {
		return
	}
	switch n := v.(type) {
	case []any:
		for _, c := range n {
			if w.full {
				return
			}
			w.node(c, depth+1)
		}
	case string:
		w.text(n)
	case map[string]any:
		typ, _ := n["type"].(string)
		attrs, _ := n["attrs"].(map[string]any)
		attr := func(name string) string { s, _ := attrs[name].(string); return s }
		switch typ {
		case "text":
			s, _ := n["text"].(string)
			w.text(s)
		case "hardBreak":
			w.lineBreak()
		case "mention":
			if s := attr("text"); s != "" {
				w.text(s)
			} else if id := attr("id"); id != "" {
				w.text("@" + id)
			}
		case "emoji":
			if s := attr("text"); s != "" {
				w.text(s)
			} else {
				w.text(attr("shortName"))
			}
		case "inlineCard", "blockCard", "embedCard":
			w.text(attr("url"))
		case "status":
			w.text(attr("text"))
		case "date":
			w.text(adfDate(attrs["timestamp"]))
		case "placeholder", "media", "mediaSingle", "mediaGroup", "mediaInline", "extension", "inlineExtension":
			// nothing a reader of the text needs
		case "rule":
			w.endBlock()
			w.text("----")
			w.endBlock()
		case "blockquote":
			w.endBlock()
			w.push("> ", "> ")
			w.children(n, depth)
			w.endBlock()
			w.pop()
		case "bulletList", "taskList", "decisionList":
			w.list(n, depth, func(int) string { return "- " })
		case "orderedList":
			start := 1
			if f, ok := attrs["order"].(float64); ok && f >= 0 && f < 1e9 {
				start = int(f)
			}
			w.list(n, depth, func(i int) string { return strconv.Itoa(start+i) + ". " })
		default:
			// doc, paragraph, heading, codeBlock, listItem, panel, table,
			// tableRow, tableCell, expand and nodes unknown today.
			if _, ok := n["content"]; ok {
				w.block(n, depth)
			} else if s, ok := n["text"].(string); ok {
				w.text(s)
			}
		}
	}
}

// adfDate reads a date node's timestamp (milliseconds since the epoch, as a
// string or a number).
func adfDate(v any) string {
	var ms int64
	switch t := v.(type) {
	case string:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			return t
		}
		ms = n
	case float64:
		if t < -1e15 || t > 1e15 {
			return ""
		}
		ms = int64(t)
	default:
		return ""
	}
	if ms < -1e15 || ms > 1e15 {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format("2006-01-02")
}
