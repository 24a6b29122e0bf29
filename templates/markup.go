package templates

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The intermediate markup (its syntax is in the package comment) is what the
// templates are written in and what an executed template produces. Values
// printed by actions arrive wrapped in litOpen…litClose and are plain text
// whatever they hold.

type blockKind int

const (
	blockParagraph blockKind = iota
	blockHeading
	blockOrdered
	blockBullet
)

// span is a run of text with the same marks.
type span struct {
	text   string
	strong bool
	em     bool
}

// line is the inline content of one source line. It is never empty, its spans
// are never empty, and it neither starts nor ends with white space.
type line []span

type block struct {
	kind  blockKind
	level int    // heading level
	lines []line // paragraph: its lines; list: its items; heading: one line
}

// segment is a piece of a source line: template text or a wrapped value.
type segment struct {
	text    string
	literal bool
}

// parseMarkup parses executed template output into blocks. Invalid UTF-8 is
// replaced first: otherwise two values' broken halves, joined on one line, could
// spell a reserved character (or any other rune) that neither held.
func parseMarkup(src string) ([]block, error) {
	src = strings.ToValidUTF8(src, "\uFFFD")
	var blocks []block
	open := false // the last block may take more lines (no empty line since)
	for i, raw := range strings.Split(src, "\n") {
		segs, err := splitSegments(strings.TrimSuffix(raw, "\r"))
		if err != nil {
			return nil, fmt.Errorf("output line %d: %w", i+1, err)
		}
		kind, level, segs := blockMarker(segs)
		if kind == blockParagraph && isBlank(segs) {
			open = false
			continue
		}
		ln, err := parseInline(segs)
		if err != nil {
			return nil, fmt.Errorf("output line %d (%s): %w", i+1, sourceHint(segs), err)
		}
		if len(ln) == 0 { // an empty heading or list item: nothing to show
			continue
		}
		switch last := len(blocks) - 1; {
		case kind == blockHeading:
			blocks = append(blocks, block{kind: blockHeading, level: level, lines: []line{ln}})
			open = false
		case open && blocks[last].kind == kind:
			blocks[last].lines = append(blocks[last].lines, ln)
		default:
			blocks = append(blocks, block{kind: kind, lines: []line{ln}})
			open = true
		}
	}
	return blocks, nil
}

// splitSegments splits a source line into template text and wrapped values.
func splitSegments(s string) ([]segment, error) {
	var segs []segment
	for s != "" {
		open := strings.IndexRune(s, litOpen)
		close := strings.IndexRune(s, litClose)
		if close >= 0 && (open < 0 || close < open) {
			return nil, fmt.Errorf("a value ends without starting (reserved character U+E001)")
		}
		if open < 0 {
			segs = append(segs, segment{text: s})
			break
		}
		if open > 0 {
			segs = append(segs, segment{text: s[:open]})
		}
		s = s[open+utf8.RuneLen(litOpen):]
		end := strings.IndexRune(s, litClose)
		if end < 0 {
			return nil, fmt.Errorf("a value starts without ending (reserved character U+E000)")
		}
		if strings.ContainsRune(s[:end], litOpen) {
			return nil, fmt.Errorf("values are nested (reserved character U+E000)")
		}
		if end > 0 {
			segs = append(segs, segment{text: s[:end], literal: true})
		}
		s = s[end+utf8.RuneLen(litClose):]
	}
	return segs, nil
}

// blockMarker recognises a block marker at the start of the line's template text
// and returns the kind and the line without the marker. A value at the start of a
// line never makes a block marker.
func blockMarker(segs []segment) (blockKind, int, []segment) {
	if len(segs) == 0 || segs[0].literal {
		return blockParagraph, 0, segs
	}
	t := strings.TrimLeft(segs[0].text, " \t")
	rest := func(n int) []segment {
		return append([]segment{{text: t[n:]}}, segs[1:]...)
	}
	switch {
	case len(t) >= 3 && t[0] == 'h' && t[1] >= '1' && t[1] <= '6' && t[2] == '.' && (len(t) == 3 || t[3] == ' ' || t[3] == '\t'):
		return blockHeading, int(t[1] - '0'), rest(3)
	case strings.HasPrefix(t, "# ") || strings.HasPrefix(t, "#\t"):
		return blockOrdered, 0, rest(1)
	case strings.HasPrefix(t, "* ") || strings.HasPrefix(t, "*\t"):
		return blockBullet, 0, rest(1)
	}
	return blockParagraph, 0, segs
}

func isBlank(segs []segment) bool {
	for _, s := range segs {
		if s.literal || strings.TrimSpace(s.text) != "" {
			return false
		}
	}
	return true
}

// sourceHint shows a line's template text for an error message; values (which
// may come from a ticket) are replaced by "…".
func sourceHint(segs []segment) string {
	var b strings.Builder
	for _, s := range segs {
		if s.literal {
			b.WriteString("…")
		} else {
			b.WriteString(s.text)
		}
	}
	h := strings.TrimSpace(b.String())
	if r := []rune(h); len(r) > 60 {
		h = string(r[:60]) + "…"
	}
	return fmt.Sprintf("%q", h)
}

// parseInline turns the segments of one line into spans.
func parseInline(segs []segment) (line, error) {
	var spans []span
	strong, em := false, false
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			spans = append(spans, span{text: cur.String(), strong: strong, em: em})
			cur.Reset()
		}
	}
	for _, sg := range segs {
		if sg.literal {
			cur.WriteString(sg.text)
			continue
		}
		rs := []rune(sg.text)
		for i := 0; i < len(rs); i++ {
			switch r := rs[i]; r {
			case '\\':
				if i+1 < len(rs) && (rs[i+1] == '*' || rs[i+1] == '_' || rs[i+1] == '\\') {
					i++
					cur.WriteRune(rs[i])
				} else {
					cur.WriteRune(r)
				}
			case '*':
				flush()
				strong = !strong
			case '_':
				flush()
				em = !em
			default:
				cur.WriteRune(r)
			}
		}
	}
	flush()
	switch {
	case strong:
		return nil, fmt.Errorf("bold text started with * is not closed on the same line (write \\* for a literal *)")
	case em:
		return nil, fmt.Errorf("italic text started with _ is not closed on the same line (write \\_ for a literal _)")
	}
	return normalizeLine(spans), nil
}

// normalizeLine trims the line, moves white space out of marked spans (Jira
// does not accept "* bold*") and merges neighbours with the same marks.
func normalizeLine(in []span) line {
	var split []span
	for _, s := range in {
		if !s.strong && !s.em {
			split = append(split, s)
			continue
		}
		core := strings.TrimSpace(s.text)
		if core == "" {
			split = append(split, span{text: s.text})
			continue
		}
		lead := s.text[:strings.Index(s.text, core)]
		trail := s.text[len(lead)+len(core):]
		split = append(split, span{text: lead}, span{text: core, strong: s.strong, em: s.em}, span{text: trail})
	}
	var out line
	for _, s := range split {
		if s.text == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].strong == s.strong && out[n-1].em == s.em {
			out[n-1].text += s.text
			continue
		}
		out = append(out, s)
	}
	// Trim the line's ends; a span that becomes empty goes.
	for len(out) > 0 {
		out[0].text = strings.TrimLeftFunc(out[0].text, unicode.IsSpace)
		if out[0].text != "" {
			break
		}
		out = out[1:]
	}
	for len(out) > 0 {
		n := len(out) - 1
		out[n].text = strings.TrimRightFunc(out[n].text, unicode.IsSpace)
		if out[n].text != "" {
			break
		}
		out = out[:n]
	}
	return out
}

// ---- Jira wiki markup ----

// toWiki prints blocks as Jira wiki markup. All text is escaped, so the only
// markup in the output is the structure the blocks describe.
func toWiki(blocks []block) string {
	var b strings.Builder
	for i, bl := range blocks {
		if i > 0 {
			b.WriteString("\n\n")
		}
		switch bl.kind {
		case blockHeading:
			fmt.Fprintf(&b, "h%d. ", bl.level)
			writeWikiLine(&b, bl.lines[0])
		case blockParagraph:
			for j, ln := range bl.lines {
				if j > 0 {
					b.WriteByte('\n')
				}
				writeWikiLine(&b, ln)
			}
		case blockOrdered, blockBullet:
			marker := "# "
			if bl.kind == blockBullet {
				marker = "* "
			}
			for j, ln := range bl.lines {
				if j > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(marker)
				writeWikiLine(&b, ln)
			}
		}
	}
	return b.String()
}

func writeWikiLine(b *strings.Builder, ln line) {
	for i, s := range ln {
		text := escapeWiki(s.text, i == 0)
		if !s.strong && !s.em {
			b.WriteString(text)
			continue
		}
		// Jira needs a non-word character outside a simple *bold*; next to a
		// letter or digit use the {*}bold{*} form.
		force := (i > 0 && endsWithWord(ln[i-1].text)) || (i+1 < len(ln) && startsWithWord(ln[i+1].text))
		open, close := "", ""
		if s.strong {
			open, close = wikiDelim('*', force), wikiDelim('*', force)
		}
		if s.em {
			open, close = open+wikiDelim('_', force), wikiDelim('_', force)+close
		}
		b.WriteString(open)
		b.WriteString(text)
		b.WriteString(close)
	}
}

func wikiDelim(c byte, force bool) string {
	if force {
		return "{" + string(c) + "}"
	}
	return string(c)
}

func isWord(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

func startsWithWord(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return isWord(r)
}

func endsWithWord(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isWord(r)
}

// escapeWiki escapes text so Jira shows it as is. lineStart says the text starts
// a line (or a list item), where "#", "h1." and "bq." would mean something.
//
// Always escaped: { } [ ] | ! (macros, links, tables, images) and \ (as an
// entity: Jira reads "\\" as a line break). The style characters * _ + - ^ ~ are
// escaped unless they sit between two letters or digits, where Jira never reads
// them as markup ("sign-in"). "?", "(", ":", ";" and "&" are escaped only where
// they would start a citation, an emoticon or an entity.
// inert is the zero-width space escapeWiki puts into a web or mail address
// from the data, so that Jira does not make it a live link.
const inert = '\u200B'

// linkScheme reports whether the letters that end before a ':' name a
// scheme Jira links without "//" ("mailto:ann@example.com").
func linkScheme(before []rune) bool {
	i := len(before)
	for i > 0 && unicode.IsLetter(before[i-1]) {
		i--
	}
	switch strings.ToLower(string(before[i:])) {
	case "mailto", "tel", "callto", "sip", "skype", "file":
		return true
	}
	return false
}

func escapeWiki(s string, lineStart bool) string {
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s) + 8)
	at := func(i int) rune {
		if i < 0 || i >= len(rs) {
			return 0
		}
		return rs[i]
	}
	for i, r := range rs {
		prev, next := at(i-1), at(i+1)
		switch r {
		case '\\':
			b.WriteString("&#92;")
			continue
		case '{', '}', '[', ']', '|', '!':
			b.WriteByte('\\')
		case '*', '_', '+', '-', '^', '~':
			if !isWord(prev) || !isWord(next) {
				b.WriteByte('\\')
			}
		case '?':
			if prev == '?' || next == '?' {
				b.WriteByte('\\')
			}
		case '#':
			if lineStart && i == 0 {
				b.WriteByte('\\')
			}
		case '.':
			if i >= 3 && strings.EqualFold(string(rs[i-3:i]), "www") && !isWord(at(i-4)) && isWord(next) {
				b.WriteRune(inert) // "www.example.com" stays text too
			}
			if lineStart && i == 2 && ((rs[0] == 'h' && rs[1] >= '1' && rs[1] <= '6') || (rs[0] == 'b' && rs[1] == 'q')) {
				b.WriteByte('\\')
			}
		case '(':
			if isEmoticon(rs[i:]) {
				b.WriteByte('\\')
			}
		case ':':
			if strings.ContainsRune(")(PDpd", next) && next != 0 {
				b.WriteByte('\\')
			} else if unicode.IsLetter(prev) && (next == '/' || linkScheme(rs[:i])) {
				// "https://…", "mailto:…" from a reporter stay text: an
				// invisible break after the scheme keeps Jira from
				// linking them
				b.WriteRune(r)
				b.WriteRune(inert)
				continue
			}
		case ';':
			if next == ')' {
				b.WriteByte('\\')
			}
		case '&':
			if isEntity(rs[i+1:]) {
				b.WriteString("&amp;")
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// isEmoticon reports whether rs starts with one of Jira's "(x)" emoticons.
func isEmoticon(rs []rune) bool {
	end := -1
	for i := 1; i < len(rs) && i <= 8; i++ {
		if rs[i] == ')' {
			end = i
			break
		}
	}
	if end < 0 {
		return false
	}
	switch strings.ToLower(string(rs[1:end])) {
	case "y", "n", "i", "/", "x", "!", "+", "-", "?", "on", "off", "*", "*r", "*g", "*b", "*y", "flag", "flagoff":
		return true
	}
	return false
}

// isEntity reports whether rs (what follows a "&") completes an HTML entity:
// letters or "#" and digits, then ";".
func isEntity(rs []rune) bool {
	i := 0
	if i < len(rs) && rs[i] == '#' {
		i++
	}
	start := i
	for i < len(rs) && i < 40 && (rs[i] < utf8.RuneSelf && (unicode.IsLetter(rs[i]) || unicode.IsDigit(rs[i]))) {
		i++
	}
	return i > start && i < len(rs) && rs[i] == ';'
}
