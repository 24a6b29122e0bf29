package templates

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"time"
	"unicode/utf8"

	"github.com/mfatriage/triage"
)

//go:embed text/*.tmpl
var embedded embed.FS

const ext = ".tmpl"

// Load returns the embedded templates, each replaced by the file of the same name
// (e.g. "passkey-setup.tmpl") in dir when there is one. dir "" means the embedded
// templates only. A file in dir that is not named after a template is an error,
// and so is a subdirectory; names starting with "." are ignored. Every template is
// parsed, checked and test-rendered with sample data here, so a broken override
// fails Load, not the first ticket.
func Load(dir string) (*Set, error) {
	overrides := map[string]string{}
	if dir != "" {
		var err error
		if overrides, err = readOverrides(dir); err != nil {
			return nil, err
		}
	}
	return loadSources(overrides, dir)
}

// readOverrides reads the override files of dir, keyed by template name.
func readOverrides(dir string) (map[string]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("templates: cannot read the override directory: %w", err)
	}
	out := map[string]string{}
	for _, e := range entries {
		fname := e.Name()
		if strings.HasPrefix(fname, ".") {
			continue
		}
		name, ok := strings.CutSuffix(fname, ext)
		if e.IsDir() || !ok || !slices.Contains(allNames(), name) {
			return nil, fmt.Errorf("templates: %q in the override directory %s is not a template this program knows; "+
				"override files must be named after a template: %s", fname, dir, knownFiles())
		}
		src, err := readLimited(filepath.Join(dir, fname))
		if err != nil {
			return nil, fmt.Errorf("templates: cannot read override file %q: %w", fname, err)
		}
		out[name] = src
	}
	return out, nil
}

func readLimited(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxOverride+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxOverride {
		return "", fmt.Errorf("the file is larger than %d KiB", maxOverride>>10)
	}
	return string(b), nil
}

func knownFiles() string {
	names := allNames()
	for i := range names {
		names[i] += ext
	}
	return strings.Join(names, ", ")
}

// loadSources builds a Set from the embedded templates and the given overrides
// (template name → source). from names where the overrides came from, for errors.
func loadSources(overrides map[string]string, from string) (*Set, error) {
	var unknown []string
	for name := range overrides {
		if !slices.Contains(allNames(), name) {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return nil, fmt.Errorf("templates: %q is not a template this program knows (known: %s)", unknown[0], strings.Join(allNames(), ", "))
	}
	root := template.New("").Funcs(template.FuncMap{
		fnLiteral: literal,
		fnRange:   rangeable,
		"title":   title,
	})
	includes := map[string][]string{}
	trees := map[string]*parse.Tree{}
	for _, name := range allNames() {
		src, overridden := overrides[name]
		if !overridden {
			b, err := embedded.ReadFile("text/" + name + ext)
			if err != nil {
				return nil, fmt.Errorf("templates: embedded template %q is missing: %w", name, err)
			}
			src = string(b)
		}
		tree, inc, err := parseTemplate(name, src)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", describe(name, overridden, from), err)
		}
		includes[name] = inc
		trees[name] = tree
		if _, err := root.AddParseTree(name, tree); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", describe(name, overridden, from), err)
		}
	}
	if err := checkIncludes(includes, overrides, from); err != nil {
		return nil, err
	}
	if err := checkWork(trees, overrides, from); err != nil {
		return nil, err
	}
	s := &Set{tmpl: root}
	if err := s.selfTest(); err != nil {
		what := "the embedded templates"
		if len(overrides) > 0 {
			names := make([]string, 0, len(overrides))
			for n := range overrides {
				names = append(names, n+ext)
			}
			slices.Sort(names)
			what = "the templates with the overrides " + strings.Join(names, ", ")
			if from != "" {
				what += " from " + from
			}
		}
		return nil, fmt.Errorf("templates: %s fail a test render: %w", what, err)
	}
	return s, nil
}

func describe(name string, overridden bool, from string) string {
	switch {
	case !overridden:
		return fmt.Sprintf("embedded template %q", name+ext)
	case from != "":
		return fmt.Sprintf("override file %q in %s", name+ext, from)
	}
	return fmt.Sprintf("override %q", name+ext)
}

// parseFuncs are the functions a template may call: the harmless built-ins and
// "title". printf and friends are left out (they can build huge strings), and so
// are call, html, js, urlquery, slice and the loader's own functions.
func parseFuncs() map[string]any {
	m := map[string]any{}
	for _, f := range []string{"and", "or", "not", "len", "index", "eq", "ne", "lt", "le", "gt", "ge", "title"} {
		m[f] = true // parse only checks that the name exists
	}
	return m
}

var parseErrPrefix = regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)? ?`)

// parseTemplate parses one template source, checks it and rewrites it so every
// value it prints is escaped. It returns the templates it includes.
func parseTemplate(name, src string) (*parse.Tree, []string, error) {
	if !utf8.ValidString(src) {
		return nil, nil, errors.New("the file is not valid UTF-8 text")
	}
	if i := strings.IndexFunc(src, func(r rune) bool { return r == litOpen || r == litClose }); i >= 0 {
		return nil, nil, fmt.Errorf("line %d holds the reserved character %U, which templates may not contain",
			strings.Count(src[:i], "\n")+1, []rune(src[i:])[0])
	}
	trees, err := parse.Parse(name, src, "", "", parseFuncs())
	if err != nil {
		msg := err.Error()
		if m := parseErrPrefix.FindStringSubmatch(msg); m != nil {
			msg = "line " + m[1] + ": " + msg[len(m[0]):]
		}
		return nil, nil, fmt.Errorf("syntax error: %s", msg)
	}
	if len(trees) != 1 || trees[name] == nil {
		var others []string
		for n := range trees {
			if n != name {
				others = append(others, n)
			}
		}
		slices.Sort(others)
		return nil, nil, fmt.Errorf("{{define}} and {{block}} are not allowed (found %q); each file is one template, named after the file", strings.Join(others, ", "))
	}
	tree := trees[name]
	inc := map[string]bool{}
	rewrite(tree.Root, tree, inc)
	var list []string
	for n := range inc {
		list = append(list, n)
	}
	slices.Sort(list)
	return tree, list, nil
}

// checkIncludes makes sure every {{template "x"}} names a known template and
// that no template includes itself, directly or not.
func checkIncludes(includes map[string][]string, overrides map[string]string, from string) error {
	for _, name := range allNames() {
		for _, inc := range includes[name] {
			if _, ok := includes[inc]; !ok {
				_, overridden := overrides[name]
				return fmt.Errorf("templates: %s: it includes {{template %q}}, but there is no template of that name (known: %s)",
					describe(name, overridden, from), inc, strings.Join(allNames(), ", "))
			}
		}
	}
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case active:
			loop := append(path[slices.Index(path, name):], name)
			return fmt.Errorf("templates: templates include each other in a loop: %s", strings.Join(loop, " → "))
		case done:
			return nil
		}
		state[name] = active
		for _, inc := range includes[name] {
			if err := visit(inc, append(path, name)); err != nil {
				return err
			}
		}
		state[name] = done
		return nil
	}
	for _, name := range allNames() {
		if err := visit(name, nil); err != nil {
			return err
		}
	}
	return nil
}

// checkWork bounds the work one execution can do, counting included templates:
// ranges may nest at most maxRangeDepth deep, and the number of nodes visited,
// with every range taken to run over maxItems elements (no list a template sees
// is longer), may not exceed maxWork. Run it after checkIncludes: it needs the
// includes to be free of loops.
func checkWork(trees map[string]*parse.Tree, overrides map[string]string, from string) error {
	type work struct{ depth, nodes int }
	memo := map[string]work{}
	var walk func(n parse.Node) work
	templateWork := func(name string) work {
		if w, ok := memo[name]; ok {
			return w
		}
		var w work
		if t := trees[name]; t != nil {
			w = walk(t.Root)
		}
		memo[name] = w
		return w
	}
	add := func(ws ...work) work {
		var sum work
		for _, w := range ws {
			sum.depth = max(sum.depth, w.depth)
			sum.nodes = min(sum.nodes+w.nodes, maxWork+1) // saturate: no overflow
		}
		return sum
	}
	walk = func(n parse.Node) work {
		switch n := n.(type) {
		case *parse.ListNode:
			var w work
			if n != nil {
				for _, c := range n.Nodes {
					w = add(w, walk(c))
				}
			}
			return w
		case *parse.IfNode:
			return add(work{nodes: 1}, walk(n.List), walk(n.ElseList))
		case *parse.WithNode:
			return add(work{nodes: 1}, walk(n.List), walk(n.ElseList))
		case *parse.RangeNode:
			body := walk(n.List)
			return add(work{depth: body.depth + 1, nodes: 1 + min(body.nodes*maxItems, maxWork+1)}, walk(n.ElseList))
		case *parse.TemplateNode:
			return add(work{nodes: 1}, templateWork(n.Name))
		}
		return work{nodes: 1}
	}
	for _, name := range allNames() {
		w := templateWork(name)
		_, overridden := overrides[name]
		switch {
		case w.depth > maxRangeDepth:
			return fmt.Errorf("templates: %s: {{range}} is nested %d deep (counting included templates); at most %d levels are allowed",
				describe(name, overridden, from), w.depth, maxRangeDepth)
		case w.nodes > maxWork:
			return fmt.Errorf("templates: %s: the template could take too long to render (it includes other templates or ranges too often)",
				describe(name, overridden, from))
		}
	}
	return nil
}

// sampleData is what Load test-renders every document with: each platform, with
// and without a reporter name, every reason, with and without evidence.
func sampleData() []Data {
	at := time.Date(2024, 5, 14, 9, 31, 0, 0, time.UTC)
	full := Data{
		TicketKey:    "HD-1042",
		ReporterName: "Alex Example",
		Platform:     PlatformIOS,
		Categories:   categoryIDs(),
		Reason:       triage.ReasonMFAReset,
		Evidence: []Evidence{
			{Label: PasskeyInvalid, Phrase: "passkey can no longer be used", Where: "description"},
			{Label: "escalate-mfa", Phrase: "still fails", Where: "comment 2"},
		},
		StepsSent:       []Sent{{Category: PasskeyInvalid, At: at}, {Category: PasskeySetup, At: at.Add(time.Hour)}},
		ReporterReplies: []string{"did all that, still fails", "Sent from my iPhone"},
	}
	return []Data{
		full,
		{Platform: PlatformAndroid, Categories: []string{PasskeyInvalid, NewDevice}, Reason: triage.ReasonPasswordReset},
		{TicketKey: "HD-7", ReporterName: "Sam", Platform: PlatformUnknown, Categories: []string{NewDevice, PasskeySetup}, Reason: triage.ReasonFollowupTimeout},
		{Platform: "", Categories: []string{AuthenticatorSignIn}, Reason: triage.ReasonRequested},
		{Reason: "other"},
	}
}

// selfTest renders every document and a reply with each sample.
func (s *Set) selfTest() error {
	for i, d := range sampleData() {
		desc := fmt.Sprintf("sample %d (platform %s)", i+1, normalizePlatform(d.Platform))
		if len(d.Categories) > 0 {
			if _, err := s.reply(d); err != nil {
				return fmt.Errorf("reply to %s, %s: %w", strings.Join(d.Categories, " + "), desc, err)
			}
		}
		for _, name := range slices.Concat(categoryIDs(), documentNames()) {
			if _, err := s.render(name, d); err != nil {
				return fmt.Errorf("%s, %s: %w", name, desc, err)
			}
		}
	}
	return nil
}
