package templates

import (
	"fmt"
	"reflect"
	"strings"
	"text/template/parse"
	"unicode"
	"unicode/utf8"
)

// Every value an action prints is wrapped between these two private-use
// characters. The markup parser treats what is between them as plain text: it can
// never open a list, a heading or bold text, and each output format escapes it.
// Data strings are stripped of both characters, and template sources may not
// contain them, so a value can never close its own wrapper.
const (
	litOpen  = '\uE000'
	litClose = '\uE001'
)

// Names of the functions the loader appends to pipelines. They are not in the
// parse-time function list, so a template cannot call them itself.
const (
	fnLiteral = "_literal" // appended to every printing action
	fnRange   = "_range"   // appended to every range pipeline
)

// clean makes a data string safe to wrap: valid UTF-8, no control, line-breaking
// or bidirectional-override characters, no sentinels, runs of white space
// collapsed to one space, trimmed, at most maxFieldRunes runes.
func clean(s string) string {
	return cleanN(s, maxFieldRunes)
}

// excerpt is clean with the shorter limit of a quoted reply.
func excerpt(s string) string {
	return cleanN(s, maxExcerpt)
}

func cleanN(s string, limit int) string {
	var b strings.Builder
	b.Grow(min(len(s), limit*utf8.UTFMax))
	n := 0
	space := false     // white space seen since the last rune written
	truncated := false // runes were left out at the end
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == litOpen || r == litClose, isBidiControl(r), r == '\u200B', r == '\uFEFF':
			continue
		case unicode.IsSpace(r), unicode.IsControl(r), r == '\u2028', r == '\u2029':
			space = true
			continue
		}
		need := 1
		if space && n > 0 {
			need = 2
		}
		if n+need > limit {
			truncated = true
			break
		}
		if need == 2 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
		n += need
		space = false
	}
	if truncated {
		return b.String() + "…"
	}
	return b.String()
}

// isBidiControl reports the characters that reorder displayed text (they could
// make an excerpt read differently from what it holds).
func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') || r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// literal is the function appended to every printing action: it turns the
// action's value into escaped, wrapped plain text. A rendered section (markup)
// passes unchanged: it is the output of this package's own templates.
func literal(v any) string {
	var s string
	switch v := v.(type) {
	case nil:
		return ""
	case markup:
		return string(v)
	case string:
		s = v
	case bool:
		if v {
			s = "true"
		} else {
			s = "false"
		}
	case int:
		s = fmt.Sprint(v)
	default:
		// Templates see only strings, bools, ints and slices of plain structs;
		// anything else is printed by kind, never by calling its methods.
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.String:
			s = rv.String()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			s = fmt.Sprint(rv.Int())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			s = fmt.Sprint(rv.Uint())
		case reflect.Float32, reflect.Float64:
			s = fmt.Sprint(rv.Float())
		default:
			s = "[" + rv.Type().String() + "]"
		}
	}
	s = clean(s)
	if s == "" {
		return ""
	}
	return string(litOpen) + s + string(litClose)
}

// rangeable is the function appended to every range pipeline: a template may range
// only over a list (or nil) of at most maxItems elements, never over a number,
// so no override can loop for long (see also checkWork).
func rangeable(v any) (any, error) {
	if v == nil {
		return v, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Len() > maxItems {
			return nil, fmt.Errorf("range over a list of %d items: at most %d are allowed", rv.Len(), maxItems)
		}
		return v, nil
	}
	return nil, fmt.Errorf("{{range}} over a value of type %s: only lists may be ranged over", rv.Type())
}

// rewrite appends the escaping function to every action that prints and the
// bounding function to every range, like html/template does with its escapers.
// It returns the names of the templates the tree includes.
func rewrite(n parse.Node, tree *parse.Tree, includes map[string]bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			rewrite(c, tree, includes)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) == 0 { // a declaration or assignment prints nothing
			n.Pipe.Cmds = append(n.Pipe.Cmds, identCmd(fnLiteral, n.Pos, tree))
		}
	case *parse.IfNode:
		rewrite(n.List, tree, includes)
		rewrite(n.ElseList, tree, includes)
	case *parse.WithNode:
		rewrite(n.List, tree, includes)
		rewrite(n.ElseList, tree, includes)
	case *parse.RangeNode:
		n.Pipe.Cmds = append(n.Pipe.Cmds, identCmd(fnRange, n.Pos, tree))
		rewrite(n.List, tree, includes)
		rewrite(n.ElseList, tree, includes)
	case *parse.TemplateNode:
		includes[n.Name] = true
	}
}

func identCmd(name string, pos parse.Pos, tree *parse.Tree) *parse.CommandNode {
	return &parse.CommandNode{
		NodeType: parse.NodeCommand,
		Pos:      pos,
		Args:     []parse.Node{parse.NewIdentifier(name).SetTree(tree).SetPos(pos)},
	}
}
