package classifier

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// fold appends the matching form of src to dst: compatibility
// decomposition (NFKD, so NFKC's ligatures and full-width forms are
// covered), combining marks (diacritics) dropped, lower case, curly quotes
// and apostrophes straightened, dashes made plain, the thumbs-up and
// check-mark emoji made the word "thumbsup". tmp is scratch space for
// the decomposition; both buffers are returned for reuse.
func fold(dst, tmp, src []byte) (out, scratch []byte) {
	ascii := true
	for _, b := range src {
		if b >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		tmp = norm.NFKD.Append(tmp[:0], src...)
		src = tmp
	}
	for i := 0; i < len(src); {
		b := src[i]
		if b < utf8.RuneSelf {
			switch {
			case 'A' <= b && b <= 'Z':
				b += 'a' - 'A'
			case b == '\r':
				b = '\n'
			case b == '\t' || b == '\v' || b == '\f':
				b = ' '
			case b == '`':
				b = '\''
			}
			dst = append(dst, b)
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		i += size
		switch r {
		case '\u2018', '\u2019', '\u201a', '\u201b', '\u2032', '\u02bc', '\u00b4':
			dst = append(dst, '\'')
		case '\u201c', '\u201d', '\u201e', '\u2033', '\u00ab', '\u00bb', '\u2039', '\u203a':
			dst = append(dst, '"')
		case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212':
			dst = append(dst, '-')
		case '\u2026':
			dst = append(dst, '.', '.', '.')
		case '\u00df', '\u1e9e':
			dst = append(dst, 's', 's')
		case '\u00e6', '\u00c6':
			dst = append(dst, 'a', 'e')
		case '\u0153', '\u0152':
			dst = append(dst, 'o', 'e')
		case '\u00f8', '\u00d8':
			dst = append(dst, 'o')
		case '\u0142', '\u0141':
			dst = append(dst, 'l')
		case '\u0111', '\u0110':
			dst = append(dst, 'd')
		case '\u0131':
			dst = append(dst, 'i')
		case '\u00fe', '\u00de':
			dst = append(dst, 't', 'h')
		case '\U0001F44D', '\U0001F44C', '\u2705', '\u2714', '\u2611':
			// 👍 👌 ✅ ✔ ☑: an answer of its own ("works")
			dst = append(dst, " thumbsup "...)
		case '\u2028', '\u2029', '\u0085':
			dst = append(dst, '\n')
		case utf8.RuneError:
			dst = append(dst, ' ')
		default:
			switch {
			case unicode.Is(unicode.Mn, r):
				// diacritic: dropped
			case unicode.IsSpace(r):
				dst = append(dst, ' ')
			case unicode.IsLetter(r) || unicode.IsDigit(r):
				dst = utf8.AppendRune(dst, unicode.ToLower(r))
			default:
				// emoji, symbols, other punctuation: a separator
				dst = append(dst, ' ')
			}
		}
	}
	return dst, tmp
}

// isWordByte reports whether an ASCII byte is part of a word.
func isWordByte(b byte) bool {
	return 'a' <= b && b <= 'z' || '0' <= b && b <= '9'
}

// scanner splits folded text into words and sentences. It does not
// allocate.
type scanner struct {
	text []byte
	pos  int
	sent int32
	// pendingBreak is set when a sentence boundary was seen since the last
	// word.
	pendingBreak bool
}

// next returns the next word [start, end) and its sentence number. A word
// may hold inner apostrophes ("didn't", "d'acces"). ok is false at the end.
func (s *scanner) next() (start, end int, sent int32, ok bool) {
	t := s.text
	for s.pos < len(t) {
		b := t[s.pos]
		if isWordByte(b) {
			break
		}
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(t[s.pos:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				break
			}
			s.pos += size
			continue
		}
		switch b {
		case '.', '!', '?', ';':
			// a boundary when followed by space, a quote or the end:
			// "iOS 17.4" and "security.microsoft.com" are not.
			if s.pos+1 >= len(t) || !isWordByte(t[s.pos+1]) && t[s.pos+1] < utf8.RuneSelf {
				s.pendingBreak = true
			}
		case '\n':
			// a blank line, or a new line that starts a list item, ends a
			// sentence; a wrapped line does not.
			j := s.pos + 1
			for j < len(t) && t[j] == ' ' {
				j++
			}
			if j >= len(t) || t[j] == '\n' || t[j] == '#' || t[j] == '*' || t[j] == '-' || t[j] == '|' {
				s.pendingBreak = true
			}
		}
		s.pos++
	}
	if s.pos >= len(t) {
		return 0, 0, s.sent, false
	}
	if s.pendingBreak {
		s.sent++
		s.pendingBreak = false
	}
	start = s.pos
	for s.pos < len(t) {
		b := t[s.pos]
		if isWordByte(b) {
			s.pos++
			continue
		}
		if b == '\'' && s.pos > start && s.pos+1 < len(t) && isWordByte(t[s.pos+1]) {
			s.pos++
			continue
		}
		if b >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(t[s.pos:])
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				s.pos += size
				continue
			}
		}
		break
	}
	return start, s.pos, s.sent, true
}

// piece is one token a word expands to: a span of the text, or a fixed
// word standing for it (synth, e.g. "not" for "n't").
type piece struct {
	start, end int
	synth      string
}

// expandWord splits a word with apostrophes into pieces: English "n't"
// becomes "not" ("can't" → "can not"), English clitics are dropped ("it's"
// → "it"), other apostrophes split ("d'acces" → "d" "acces"). It returns the
// number of pieces written to out.
func expandWord(text []byte, start, end int, out *[4]piece) int {
	apos := -1
	for i := start; i < end; i++ {
		if text[i] == '\'' {
			apos = i
			break
		}
	}
	if apos < 0 {
		out[0] = piece{start: start, end: end}
		return 1
	}
	// "n't" at the end of the word.
	if end-start >= 4 && text[end-1] == 't' && text[end-2] == '\'' && text[end-3] == 'n' {
		n := 0
		switch string(text[start : end-3]) {
		case "ca":
			out[0] = piece{start: start, end: end - 3, synth: "can"}
		case "wo":
			out[0] = piece{start: start, end: end - 3, synth: "will"}
		case "sha":
			out[0] = piece{start: start, end: end - 3, synth: "shall"}
		case "ai":
			out[0] = piece{start: start, end: end - 3, synth: "is"}
		default:
			out[0] = piece{start: start, end: end - 3}
		}
		n = 1
		out[n] = piece{start: end - 3, end: end, synth: "not"}
		return n + 1
	}
	n := 0
	s := start
	for i := start; i <= end && n < len(out); i++ {
		if i == end || text[i] == '\'' {
			if i > s {
				// English clitics after the first piece: "I've" is "I
				// have"; "it's" is "it".
				if n > 0 && i == end {
					if synth, ok := cliticWord(text[s:i]); ok {
						if synth != "" {
							out[n] = piece{start: s, end: i, synth: synth}
							n++
						}
						break
					}
				}
				out[n] = piece{start: s, end: i}
				n++
			}
			s = i + 1
		}
	}
	if n == len(out) && s < end {
		out[n-1].end = end
	}
	return n
}

// cliticWord maps an English clitic to the word it stands for ("" for
// "'s", which is "is" or "has" or a possessive: dropped).
func cliticWord(b []byte) (string, bool) {
	switch string(b) {
	case "s":
		return "", true
	case "ve":
		return "have", true
	case "ll":
		return "will", true
	case "re":
		return "are", true
	case "m":
		return "am", true
	case "d":
		return "would", true
	}
	return "", false
}
