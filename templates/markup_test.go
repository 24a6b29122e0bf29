package templates

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lit wraps s the way an action's value arrives in the markup.
func lit(s string) string { return string(litOpen) + s + string(litClose) }

func TestParseMarkup(t *testing.T) {
	t.Parallel()
	p := func(lines ...line) block { return block{kind: blockParagraph, lines: lines} }
	txt := func(s string) span { return span{text: s} }
	bold := func(s string) span { return span{text: s, strong: true} }
	tests := []struct {
		name string
		in   string
		want []block
	}{
		{"empty", "\n \n\t\n", nil},
		{"paragraph lines", "a\nb\n\nc", []block{p(line{txt("a")}, line{txt("b")}), p(line{txt("c")})}},
		{"heading", "h3. Title\ntext", []block{{kind: blockHeading, level: 3, lines: []line{{txt("Title")}}}, p(line{txt("text")})}},
		{"h7 is text", "h7. x", []block{p(line{txt("h7. x")})}},
		{"lists", "# one\n# two\n* a\n\n# three", []block{
			{kind: blockOrdered, lines: []line{{txt("one")}, {txt("two")}}},
			{kind: blockBullet, lines: []line{{txt("a")}}},
			{kind: blockOrdered, lines: []line{{txt("three")}}},
		}},
		{"marks", "*Bold* and _it *both*_", []block{p(line{
			bold("Bold"), txt(" and "), {text: "it", em: true}, txt(" "), {text: "both", strong: true, em: true},
		})}},
		{"white space moves out of marks", "a* b *c", []block{p(line{txt("a "), bold("b"), txt(" c")})}},
		{"escapes", `\*not bold\* \_ \\ \x`, []block{p(line{txt(`*not bold* _ \ \x`)})}},
		{"value is text", lit("# not a list") + " *" + lit("*b*") + "*", []block{p(line{txt("# not a list "), bold("*b*")})}},
		{"value after marker", "# " + lit("h1. x"), []block{{kind: blockOrdered, lines: []line{{txt("h1. x")}}}}},
		{"empty item dropped", "# \n# " + lit("x"), []block{{kind: blockOrdered, lines: []line{{txt("x")}}}}},
		{"crlf", "a\r\nb\r\n", []block{p(line{txt("a")}, line{txt("b")})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseMarkup(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(block{}, span{})); diff != "" {
				t.Errorf("parseMarkup(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseMarkupErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"a *b", "bold text started with * is not closed"},
		{"a _b", "italic text started with _ is not closed"},
		{"x\n" + string(litOpen) + "a", "line 2: a value starts without ending"},
		{string(litClose), "a value ends without starting"},
		{string(litOpen) + string(litOpen) + string(litClose), "values are nested"},
		{"*" + lit("secret ticket text"), `("*…")`},
	}
	for _, tt := range tests {
		_, err := parseMarkup(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseMarkup(%q) error = %v, want %q", tt.in, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows a value: %v", err)
		}
	}
}

func TestEscapeWiki(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in        string
		lineStart bool
		want      string
	}{
		{"plain text, nothing to do.", false, "plain text, nothing to do."},
		{"sign-in e_mail a*b x+y 2^3 a~b", false, "sign-in e_mail a*b x+y 2^3 a~b"},
		{"- * _ + ^ ~ -x x-", false, `\- \* \_ \+ \^ \~ \-x x\-`},
		{"{code}[x|y]!img!", false, `\{code\}\[x\|y\]\!img\!`},
		{`a\b \\`, false, "a&#92;b &#92;&#92;"},
		{"# one", true, `\# one`},
		{"# one", false, "# one"},
		{"h1. big", true, `h1\. big`},
		{"bq. quote", true, `bq\. quote`},
		{"h1. big", false, "h1. big"},
		{"----", true, `\-\-\-\-`},
		{"why?? ok?", false, `why\?\? ok?`},
		{"(y) (on) (flag) (iOS) (or +)", false, `\(y) \(on) \(flag) (iOS) (or \+)`},
		{":) :P ;) a:b 10:30", false, `\:) \:P \;) a:b 10:30`},
		{"&copy; &#123; Q&A & x", false, "&amp;copy; &amp;#123; Q&A & x"},
		{"<b>html</b>", false, "<b>html</b>"},
		{"Passwords & Accounts → Settings", false, "Passwords & Accounts → Settings"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, escapeWiki(tt.in, tt.lineStart)); diff != "" {
			t.Errorf("escapeWiki(%q, %v) (-want +got):\n%s", tt.in, tt.lineStart, diff)
		}
	}
}

func TestToWiki(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"structure", "h3. T\n\npara\nline\n# a\n# b\n\n* c", "h3. T\n\npara\nline\n\n# a\n# b\n\n* c"},
		{"bold next to a word uses braces", "a*b*c", "a{*}b{*}c"},
		{"bold and italic", "*_x_* _y_", "*_x_* _y_"},
		{"value in bold", "*" + lit("[x|y]") + "*", `*\[x\|y\]*`},
		{"value at line start", lit("h1. x") + "\n" + lit("# y") + "\n" + lit("* z"), "h1\\. x\n\\# y\n\\* z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			blocks, err := parseMarkup(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, toWiki(blocks)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestReporterLinksAreInert: web and mail addresses from the data never
// reach Jira in a form it links.
func TestReporterLinksAreInert(t *testing.T) {
	got := escapeWiki("see https://evil.example/x, HTTP://EVIL, mailto:boss@evil.example, tel:+15551234 or www.evil.example; 10:30 and a:b stay", false)
	for _, live := range []string{"://", "mailto:b", "tel:+", "www.e"} {
		if strings.Contains(strings.ToLower(got), strings.ToLower(live)) {
			t.Errorf("%q is still in %q", live, got)
		}
	}
	if !strings.Contains(got, "10:30 and a:b stay") {
		t.Errorf("ordinary colons changed: %q", got)
	}
}
