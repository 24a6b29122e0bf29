package classifier

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// textMarkers are the folded forms of [TextMarkers].
type textMarkers struct {
	replyHeaders    [][]byte
	forwardMarkers  [][]byte
	forwardSubjects [][]byte
	replySubjects   [][]byte
	helpdesk        [][]byte
	senders         [][]byte
	intros          [][]byte
	valedictions    [][]byte
	sentFrom        [][]byte
	disclaimers     [][]byte
}

func compileMarkers(t TextMarkers) (textMarkers, error) {
	conv := func(list []string) [][]byte {
		out := make([][]byte, 0, len(list))
		for _, s := range list {
			f, _ := fold(nil, nil, []byte(s))
			f = bytes.TrimSpace(f)
			if len(f) > 0 {
				out = append(out, f)
			}
		}
		return out
	}
	return textMarkers{
		replyHeaders:    conv(t.ReplyHeaders),
		forwardMarkers:  conv(t.ForwardMarkers),
		forwardSubjects: conv(t.ForwardSubjects),
		replySubjects:   conv(t.ReplySubjects),
		helpdesk:        conv(t.HelpdeskMarkers),
		senders:         conv(t.HelpdeskSenders),
		intros:          conv(t.HelpdeskIntros),
		valedictions:    conv(t.Valedictions),
		sentFrom:        conv(t.SentFrom),
		disclaimers:     conv(t.Disclaimers),
	}, nil
}

func containsAny(line []byte, list [][]byte) bool {
	for _, m := range list {
		if bytes.Contains(line, m) {
			return true
		}
	}
	return false
}

func hasPrefixAny(line []byte, list [][]byte) bool {
	for _, m := range list {
		if bytes.HasPrefix(line, m) {
			return true
		}
	}
	return false
}

// stripMarkup appends src to dst with HTML tags and entities and the Jira
// wiki constructs that hide content (links, mentions, images) removed;
// quote blocks ({quote}, <blockquote>, bq.) become "{quote}" lines.
func stripMarkup(dst, src []byte) []byte {
	html := bytes.IndexByte(src, '<') >= 0 || bytes.IndexByte(src, '&') >= 0
	lineStart := true
	for i := 0; i < len(src); {
		b := src[i]
		if lineStart {
			// "bq. " and "h1. " at the start of a line.
			j := i
			for j < len(src) && src[j] == ' ' {
				j++
			}
			if bytes.HasPrefix(src[j:], []byte("bq. ")) {
				dst = append(dst, "> "...)
				i = j + 4
				lineStart = false
				continue
			}
			if j+3 < len(src) && src[j] == 'h' && src[j+1] >= '1' && src[j+1] <= '6' && src[j+2] == '.' && src[j+3] == ' ' {
				i = j + 4
				lineStart = false
				continue
			}
		}
		lineStart = b == '\n'
		switch {
		case b == '{':
			end := bytes.IndexByte(src[i:], '}')
			if end > 0 && end < 80 {
				tag := src[i+1 : i+end]
				name := tag
				if k := bytes.IndexByte(tag, ':'); k >= 0 {
					name = tag[:k]
				}
				switch string(name) {
				case "quote":
					dst = append(dst, "\n{quote}\n"...)
					i += end + 1
					continue
				case "code", "noformat", "panel", "color", "noformat ":
					dst = append(dst, '\n')
					i += end + 1
					continue
				}
				if end > 1 && tag[0] == '{' { // {{monospace}}
					i++
					continue
				}
			}
		case b == '[':
			end := bytes.IndexByte(src[i:], ']')
			if end > 0 && end < 300 && bytes.IndexByte(src[i:i+end], '\n') < 0 {
				inner := src[i+1 : i+end]
				switch {
				case len(inner) > 0 && inner[0] == '~':
					i += end + 1 // a mention
					continue
				case bytes.IndexByte(inner, '|') >= 0:
					k := bytes.IndexByte(inner, '|')
					dst = append(dst, inner[:k]...)
					i += end + 1
					continue
				case bytes.HasPrefix(inner, []byte("http")) || bytes.HasPrefix(inner, []byte("mailto:")):
					i += end + 1
					continue
				}
			}
		case b == '!':
			// !image.png! or !image.png|thumbnail!
			end := bytes.IndexByte(src[i+1:], '!')
			if end > 0 && end < 200 {
				inner := src[i+1 : i+1+end]
				if bytes.IndexByte(inner, ' ') < 0 && bytes.IndexByte(inner, '.') > 0 {
					i += end + 2
					continue
				}
			}
		case b == '<' && html:
			if n, repl := htmlTag(src[i:]); n > 0 {
				dst = append(dst, repl...)
				i += n
				continue
			}
		case b == '&' && html:
			if n, r := htmlEntity(src[i:]); n > 0 {
				dst = utf8.AppendRune(dst, r)
				i += n
				continue
			}
		}
		dst = append(dst, b)
		i++
	}
	return dst
}

// htmlTag recognises a tag at the start of s and returns its length and
// what replaces it.
func htmlTag(s []byte) (int, string) {
	if len(s) < 3 {
		return 0, ""
	}
	c := s[1]
	if !(c == '/' || c == '!' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
		return 0, ""
	}
	end := bytes.IndexByte(s, '>')
	if end < 0 || end > 1000 {
		return 0, ""
	}
	name := s[1:end]
	closing := false
	if len(name) > 0 && name[0] == '/' {
		closing = true
		name = name[1:]
	}
	k := 0
	for k < len(name) && (name[k] >= 'a' && name[k] <= 'z' || name[k] >= 'A' && name[k] <= 'Z' || name[k] >= '0' && name[k] <= '9') {
		k++
	}
	tag := bytes.ToLower(name[:k])
	switch string(tag) {
	case "blockquote":
		return end + 1, "\n{quote}\n"
	case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "hr":
		if string(tag) == "li" && !closing {
			return end + 1, "\n* "
		}
		return end + 1, "\n"
	case "td", "th":
		return end + 1, " "
	}
	return end + 1, ""
}

// htmlEntity decodes an entity at the start of s.
func htmlEntity(s []byte) (int, rune) {
	end := bytes.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return 0, 0
	}
	name := s[1:end]
	switch string(name) {
	case "amp":
		return end + 1, '&'
	case "lt":
		return end + 1, '<'
	case "gt":
		return end + 1, '>'
	case "quot":
		return end + 1, '"'
	case "apos":
		return end + 1, '\''
	case "nbsp":
		return end + 1, ' '
	case "rsquo", "lsquo":
		return end + 1, '\''
	case "ldquo", "rdquo":
		return end + 1, '"'
	case "ndash", "mdash":
		return end + 1, '-'
	case "hellip":
		return end + 1, '…'
	}
	if name[0] == '#' {
		var v uint64
		var err error
		if len(name) > 1 && (name[1] == 'x' || name[1] == 'X') {
			v, err = strconv.ParseUint(string(name[2:]), 16, 32)
		} else {
			v, err = strconv.ParseUint(string(name[1:]), 10, 32)
		}
		if err == nil && v > 0 && v <= utf8.MaxRune {
			return end + 1, rune(v)
		}
	}
	return 0, 0
}

// span is a range of the folded text and what it is for.
type span struct {
	start, end int32
	sig        bool // a signature: platform words only
}

// lineHash hashes the letters and digits of a folded line, so that a
// reporter's pasted copy of a bot line matches whatever its markup.
func lineHash(line []byte) (uint64, int) {
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	n := 0
	inWord := false
	for _, b := range line {
		if isWordByte(b) || b >= utf8.RuneSelf {
			h ^= uint64(b)
			h *= prime64
			if !inWord {
				n++
			}
			inWord = true
		} else {
			inWord = false
		}
	}
	return h, n
}

// minEchoWords is the shortest line that counts as an echo of a bot or
// agent comment.
const minEchoWords = 4

// cleanOpts says how a text is to be cleaned.
type cleanOpts struct {
	comment bool     // a reporter comment (not the first message)
	forward bool     // the ticket is a forward ("FW:" summary)
	reply   bool     // the summary is a reply's ("RE:")
	echoes  []uint64 // line hashes of bot and agent comments
}

func isEcho(h uint64, echoes []uint64) bool {
	for _, e := range echoes {
		if e == h {
			return true
		}
	}
	return false
}

// clean splits folded text into the spans that count: the reporter's own
// words (and messages they forward), and signatures apart. Quoted helpdesk
// replies, echoed bot lines, header lines and disclaimers are left out.
func (m *matcher) clean(text []byte, opt cleanOpts, out []span) []span {
	mk := &m.markers
	forward := opt.forward || containsAny(text, mk.forwardMarkers)

	type lineInfo struct {
		start, end int
	}
	var (
		inSig       bool
		inQuoteTag  bool // inside {quote}…{quote}
		quoteTagKep bool // whether that {quote} block is kept
		dropRest    bool // a quoted helpdesk reply runs to the end
		quoteStart  = -1
	)
	emit := func(start, end int, sig bool) {
		if end <= start {
			return
		}
		if n := len(out); n > 0 && out[n-1].sig == sig && int(out[n-1].end) == start {
			out[n-1].end = int32(end)
			return
		}
		out = append(out, span{start: int32(start), end: int32(end), sig: sig})
	}
	lines := 0
	for pos := 0; pos <= len(text) && !dropRest; {
		nl := bytes.IndexByte(text[pos:], '\n')
		end := len(text)
		if nl >= 0 {
			end = pos + nl
		}
		line := text[pos:end]
		next := end + 1
		trimmed := bytes.TrimSpace(line)
		lines++

		switch {
		case bytes.Equal(trimmed, []byte("{quote}")):
			if !inQuoteTag {
				inQuoteTag = true
				quoteStart = next
				quoteTagKep = m.quoteKept(text, next, opt)
			} else {
				inQuoteTag = false
			}
			pos = next
			continue
		case inQuoteTag:
			if quoteTagKep {
				emit(pos, end, false)
			}
			pos = next
			continue
		}
		_ = quoteStart

		// A reply header ("On … wrote:") or an Outlook header block starts
		// an earlier message that runs to the end of the text.
		if m.isReplyHeader(trimmed) || m.isHeaderBlock(text, pos) {
			if opt.comment && !forward || m.helpdeskBlock(text, pos, opt.echoes) {
				dropRest = true
				if !opt.comment {
					out = dropForwardedSubject(text, pos, out, opt.reply)
				}
				break
			}
			// a forwarded message: its header lines are skipped, its
			// body counts, with its own signature.
			inSig = false
			pos = m.skipHeaderLines(text, pos)
			continue
		}

		// "> " quoted lines.
		if len(trimmed) > 0 && trimmed[0] == '>' {
			if opt.comment && !forward || m.helpdeskBlock(text, pos, opt.echoes) || m.introducedByHelpdesk(text, pos) {
				if !opt.comment && opt.reply {
					out = dropFirstLine(text, out)
				}
				// skip the whole quoted block
				for pos < len(text) {
					e := bytes.IndexByte(text[pos:], '\n')
					l := text[pos:]
					if e >= 0 {
						l = text[pos : pos+e]
					}
					if t := bytes.TrimSpace(l); len(t) == 0 || t[0] != '>' {
						break
					}
					if e < 0 {
						pos = len(text) + 1
						break
					}
					pos += e + 1
				}
				continue
			}
			if isHeaderLine(bytes.TrimSpace(trimmed[1:])) {
				pos = next
				continue
			}
		}

		if h, words := lineHash(line); words >= minEchoWords && isEcho(h, opt.echoes) {
			pos = next
			continue
		}

		if !inSig && m.signatureStarts(text, pos, trimmed) {
			inSig = true
		}
		emit(pos, end, inSig)
		pos = next
	}
	return out
}

// dropForwardedSubject removes the first line (the ticket's summary) from
// the spans when it only repeats the subject of the helpdesk message being
// dropped ("FW: Your ticket HD-1 (passkey setup)").
func dropForwardedSubject(text []byte, pos int, out []span, reply bool) []span {
	if reply {
		return dropFirstLine(text, out) // "RE: <the helpdesk's subject>"
	}
	first := text
	if k := bytes.IndexByte(text, '\n'); k >= 0 {
		first = text[:k]
	}
	rest := text[pos:]
	for i := 0; i < 8 && len(rest) > 0; i++ {
		line := rest
		if k := bytes.IndexByte(rest, '\n'); k >= 0 {
			line, rest = rest[:k], rest[k+1:]
		} else {
			rest = nil
		}
		t := bytes.Trim(bytes.TrimSpace(bytes.TrimLeft(bytes.TrimSpace(line), ">")), "*")
		if !isSubjectLine(t) {
			continue
		}
		subject := t[bytes.IndexByte(t, ':')+1:]
		subject = bytes.TrimSpace(subject)
		if len(subject) < 4 || !bytes.Contains(first, subject) {
			return out
		}
		return dropFirstLine(text, out)
	}
	return out
}

// dropFirstLine removes the first line (the summary) from the spans.
func dropFirstLine(text []byte, out []span) []span {
	first := len(text)
	if k := bytes.IndexByte(text, '\n'); k >= 0 {
		first = k
	}
	k := 0
	for _, sp := range out {
		if int(sp.start) < first {
			if int(sp.end) <= first {
				continue
			}
			sp.start = int32(first)
		}
		out[k] = sp
		k++
	}
	return out[:k]
}

// introducedByHelpdesk reports whether the last non-empty line before pos
// says that what follows is the helpdesk's ("Last time you sent me this:").
func (m *matcher) introducedByHelpdesk(text []byte, pos int) bool {
	end := pos - 1
	for end > 0 {
		start := bytes.LastIndexByte(text[:end], '\n') + 1
		line := bytes.TrimSpace(text[start:end])
		if len(line) > 0 {
			return containsAny(line, m.markers.intros)
		}
		end = start - 1
	}
	return false
}

// quoteKept decides whether a {quote} block starting at pos counts: in the
// first message it does (an error message, a forwarded note) unless it is a
// helpdesk reply; in a comment only when it is not one either.
func (m *matcher) quoteKept(text []byte, pos int, opt cleanOpts) bool {
	if opt.comment && !opt.forward || m.introducedByHelpdesk(text, pos-len("{quote}\n")) {
		return false // a reporter's comment quotes the thread
	}
	end := bytes.Index(text[pos:], []byte("{quote}"))
	block := text[pos:]
	if end >= 0 {
		block = text[pos : pos+end]
	}
	if containsAny(block, m.markers.helpdesk) {
		return false
	}
	echo, total := 0, 0
	for _, line := range bytes.Split(block, []byte("\n")) {
		if h, n := lineHash(line); n >= minEchoWords {
			total++
			if isEcho(h, opt.echoes) {
				echo++
			}
		}
	}
	return !(total > 0 && echo*2 >= total)
}

// helpdeskBlock reports whether the quoted message starting at pos is the
// helpdesk's (its header or text names the helpdesk, or it echoes the bot).
func (m *matcher) helpdeskBlock(text []byte, pos int, echoes []uint64) bool {
	block := text[pos:]
	// The sender line tells: the first line of the block ("From: IT
	// Helpdesk", "On …, IT Helpdesk wrote:"), or its first From: line.
	first := block
	if k := bytes.IndexByte(first, '\n'); k >= 0 {
		first = first[:k]
	}
	if containsAny(first, m.markers.senders) {
		return true
	}
	for i, rest := 0, block; i < 6 && len(rest) > 0; i++ {
		line := rest
		if k := bytes.IndexByte(rest, '\n'); k >= 0 {
			line, rest = rest[:k], rest[k+1:]
		} else {
			rest = nil
		}
		t := bytes.TrimSpace(bytes.TrimLeft(bytes.TrimSpace(line), ">"))
		if isFromLine(bytes.Trim(t, "*")) && containsAny(t, m.markers.senders) {
			return true
		}
	}
	if containsAny(block, m.markers.helpdesk) {
		return true
	}
	if len(echoes) == 0 {
		return false
	}
	echo, total := 0, 0
	for _, line := range bytes.Split(block, []byte("\n")) {
		l := bytes.TrimLeft(line, "> ")
		if h, n := lineHash(l); n >= minEchoWords {
			total++
			if isEcho(h, echoes) {
				echo++
			}
		}
	}
	return total > 0 && echo*3 >= total
}

func (m *matcher) isReplyHeader(line []byte) bool {
	if len(line) == 0 || len(line) > 300 {
		return false
	}
	for _, h := range m.markers.replyHeaders {
		if bytes.HasSuffix(line, h) || bytes.HasSuffix(bytes.TrimRight(line, ":"), bytes.TrimRight(h, ":")) {
			return true
		}
	}
	return bytes.HasPrefix(line, []byte("-----original message")) ||
		bytes.HasPrefix(line, []byte("---------- forwarded message")) ||
		bytes.HasPrefix(line, []byte("-------- original message")) ||
		bytes.HasPrefix(line, []byte("begin forwarded message"))
}

var headerKeys = [][]byte{
	[]byte("from:"), []byte("sent:"), []byte("to:"), []byte("cc:"), []byte("date:"), []byte("subject:"),
	[]byte("von:"), []byte("gesendet:"), []byte("an:"), []byte("betreff:"), []byte("datum:"),
	[]byte("de :"), []byte("de:"), []byte("envoye :"), []byte("envoye:"), []byte("a :"), []byte("objet :"), []byte("objet:"),
	[]byte("enviado:"), []byte("para:"), []byte("asunto:"), []byte("assunto:"), []byte("fecha:"), []byte("data:"),
	[]byte("van:"), []byte("verzonden:"), []byte("aan:"), []byte("onderwerp:"),
	[]byte("da:"), []byte("inviato:"), []byte("a:"), []byte("oggetto:"),
}

// isHeaderLine reports whether a folded line is an e-mail header line.
func isHeaderLine(line []byte) bool {
	if len(line) > 300 {
		return false
	}
	for _, k := range headerKeys {
		if bytes.HasPrefix(line, k) {
			return true
		}
	}
	return false
}

func isFromLine(line []byte) bool {
	for _, k := range [][]byte{[]byte("from:"), []byte("von:"), []byte("de:"), []byte("de :"), []byte("van:"), []byte("da:")} {
		if bytes.HasPrefix(line, k) {
			return true
		}
	}
	return false
}

// isHeaderBlock reports whether the line at pos starts an Outlook-style
// header block: a From: line followed by at least one more header line, or
// a separator line followed by one.
func (m *matcher) isHeaderBlock(text []byte, pos int) bool {
	lines := 0
	first := true
	headers := 0
	for p := pos; p < len(text) && lines < 6; lines++ {
		e := bytes.IndexByte(text[p:], '\n')
		l := text[p:]
		if e >= 0 {
			l = text[p : p+e]
		}
		t := bytes.TrimSpace(bytes.TrimLeft(bytes.TrimSpace(l), ">"))
		t = bytes.Trim(t, "*")
		if first {
			first = false
			if isSeparator(t) {
				if e < 0 {
					return false
				}
				p += e + 1
				continue
			}
			if !isFromLine(t) {
				return false
			}
		}
		if isHeaderLine(t) {
			headers++
		} else if len(t) > 0 {
			break
		}
		if e < 0 {
			break
		}
		p += e + 1
	}
	return headers >= 2
}

func isSeparator(t []byte) bool {
	if len(t) < 5 {
		return false
	}
	for _, b := range t {
		if b != '_' && b != '-' && b != '=' {
			return false
		}
	}
	return true
}

// skipHeaderLines returns the position after a header block's header lines
// (the subject's text is kept: it often names the problem).
func (m *matcher) skipHeaderLines(text []byte, pos int) int {
	for pos < len(text) {
		e := bytes.IndexByte(text[pos:], '\n')
		l := text[pos:]
		if e >= 0 {
			l = text[pos : pos+e]
		}
		t := bytes.Trim(bytes.TrimSpace(bytes.TrimLeft(bytes.TrimSpace(l), ">")), "*")
		if !(isHeaderLine(t) || isSeparator(t) || m.isReplyHeader(t)) || isSubjectLine(t) {
			return pos
		}
		if e < 0 {
			return len(text) + 1
		}
		pos += e + 1
	}
	return pos
}

func isSubjectLine(t []byte) bool {
	for _, k := range [][]byte{[]byte("subject:"), []byte("betreff:"), []byte("objet"), []byte("asunto:"), []byte("assunto:"), []byte("onderwerp:"), []byte("oggetto:")} {
		if bytes.HasPrefix(t, k) {
			return true
		}
	}
	return false
}

// signatureStarts reports whether the line at pos starts an e-mail
// signature or a disclaimer.
func (m *matcher) signatureStarts(text []byte, pos int, line []byte) bool {
	if len(line) == 0 {
		return false
	}
	mk := &m.markers
	if bytes.Equal(line, []byte("--")) || bytes.Equal(line, []byte("---")) || bytes.Equal(line, []byte("-- ")) {
		return true
	}
	if hasPrefixAny(line, mk.sentFrom) {
		return true
	}
	if containsAny(line, mk.disclaimers) {
		return true
	}
	if len(line) <= 40 && m.isValediction(line) {
		// a valediction alone on a short line, with only a few short lines
		// after it
		rest := 0
		for p := pos; p < len(text); {
			e := bytes.IndexByte(text[p:], '\n')
			if e < 0 {
				break
			}
			p += e + 1
			l := text[p:]
			if k := bytes.IndexByte(l, '\n'); k >= 0 {
				l = l[:k]
			}
			l = bytes.TrimSpace(l)
			if len(l) == 0 {
				continue
			}
			if m.isReplyHeader(l) || isFromLine(l) || isSeparator(l) {
				break
			}
			if containsAny(l, mk.disclaimers) {
				break
			}
			rest++
			if len(l) > 80 {
				return false
			}
		}
		return rest <= 6
	}
	return false
}

// isValediction reports whether a line is only a valediction ("Kind
// regards,", "Danke und Gruß"), punctuation aside.
func (m *matcher) isValediction(line []byte) bool {
	for _, v := range m.markers.valedictions {
		if rest, ok := bytes.CutPrefix(line, v); ok {
			if len(bytes.Trim(rest, " ,.!-:;")) == 0 {
				return true
			}
		}
	}
	return false
}
