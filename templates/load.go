package templates

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
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

//go:embed text/*/*.tmpl
var embedded embed.FS

const ext = ".tmpl"

// override is the text of one override file.
type override struct {
	file string // as the file is named in messages: "footer.tmpl" or "de/footer.tmpl"
	src  string
}

// overrides holds override texts by language and template name.
type overrides map[string]map[string]override

func (o overrides) add(lang, name string, ov override) {
	if o[lang] == nil {
		o[lang] = map[string]override{}
	}
	o[lang][name] = ov
}

// files lists the overridden templates as "<lang>/<name>.tmpl", sorted.
func (o overrides) files() []string {
	var out []string
	for lang, m := range o {
		for name := range m {
			out = append(out, lang+"/"+name+ext)
		}
	}
	slices.Sort(out)
	return out
}

// Load returns the embedded templates in every language of [Languages],
// each replaced by an override file in dir when there is one. dir "" means
// the embedded templates only.
//
// An override is dir/<lang>/<name>.tmpl (e.g. "de/passkey-setup.tmpl"); a
// file directly in dir ("passkey-setup.tmpl") overrides the English
// template, as dir/en/ does (having both is an error). Each template of a
// language comes from, in this order: that language's override file, that
// language's embedded text, the English override file, the English embedded
// text. So an English override changes only the English replies as long as
// a language has its own text. A file that is not named after a template is
// an error, and so is a folder that is not named after a language; names
// starting with "." are ignored. Every template is parsed, checked and
// test-rendered with sample data here, so a broken override fails Load, not
// the first ticket.
func Load(dir string) (*Set, error) {
	ov := overrides{}
	if dir != "" {
		var err error
		if ov, err = readOverrides(dir); err != nil {
			return nil, err
		}
	}
	return loadSources(ov, dir)
}

// readOverrides reads the override files of dir and of its language folders.
func readOverrides(dir string) (overrides, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("templates: cannot read the override directory: %w", err)
	}
	out := overrides{}
	for _, e := range entries {
		fname := e.Name()
		switch {
		case strings.HasPrefix(fname, "."):
			continue
		case e.IsDir() && slices.Contains(Languages(), fname):
			if err := readLanguageDir(dir, fname, out); err != nil {
				return nil, err
			}
			continue
		}
		name, err := overrideName(dir, fname, e.IsDir())
		if err != nil {
			return nil, err
		}
		if err := readOverride(dir, fname, English, name, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// readLanguageDir reads the override files of dir/lang into out.
func readLanguageDir(dir, lang string, out overrides) error {
	entries, err := os.ReadDir(filepath.Join(dir, lang))
	if err != nil {
		return fmt.Errorf("templates: cannot read the override directory: %w", err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		file := lang + "/" + e.Name()
		name, err := overrideName(dir, file, e.IsDir())
		if err != nil {
			return err
		}
		if err := readOverride(dir, file, lang, name, out); err != nil {
			return err
		}
	}
	return nil
}

// overrideName is the template a file in the override directory replaces.
func overrideName(dir, file string, isDir bool) (string, error) {
	name, ok := strings.CutSuffix(path.Base(file), ext)
	if isDir || !ok || !slices.Contains(allNames(), name) {
		return "", fmt.Errorf("templates: %q in the override directory %s is not a template this program knows; "+
			"override files must be named after a template (%s), directly in the directory (English) "+
			"or in a folder named after a language (%s)", file, dir, knownFiles(), strings.Join(Languages(), ", "))
	}
	return name, nil
}

// readOverride reads the override file dir/file of template name in lang into out.
func readOverride(dir, file, lang, name string, out overrides) error {
	if prev, dup := out[lang][name]; dup {
		return fmt.Errorf("templates: %q and %q in the override directory %s both override the English %q; keep one",
			prev.file, file, dir, name+ext)
	}
	src, err := readLimited(filepath.Join(dir, filepath.FromSlash(file)))
	if err != nil {
		return fmt.Errorf("templates: cannot read override file %q: %w", file, err)
	}
	out.add(lang, name, override{file: file, src: src})
	return nil
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

// source is where one template of one language comes from.
type source struct {
	text string
	file string // override file, "" for embedded text
	desc string // for messages: `override file "de/footer.tmpl" in DIR`, `embedded template "de/footer.tmpl"`
}

// resolve finds the text of template name in lang: its override, its
// embedded text, then the English override and the English embedded text.
func resolve(ov overrides, lang, name, from string) (source, error) {
	for _, l := range []string{lang, English} {
		if o, ok := ov[l][name]; ok {
			desc := fmt.Sprintf("override %q", o.file)
			if from != "" {
				desc = fmt.Sprintf("override file %q in %s", o.file, from)
			}
			return source{text: o.src, file: o.file, desc: desc}, nil
		}
		file := l + "/" + name + ext
		if b, err := embedded.ReadFile("text/" + file); err == nil {
			return source{text: string(b), desc: fmt.Sprintf("embedded template %q", file)}, nil
		}
	}
	return source{}, fmt.Errorf("templates: embedded template %q is missing", English+"/"+name+ext)
}

// loadSources builds a Set from the embedded templates and the given
// overrides. from names where the overrides came from, for errors.
func loadSources(ov overrides, from string) (*Set, error) {
	if err := checkOverrideNames(ov); err != nil {
		return nil, err
	}
	s := &Set{tmpl: map[string]*template.Template{}, overridden: ov.files()}
	for _, lang := range Languages() {
		t, err := loadLanguage(ov, lang, from)
		if err != nil {
			return nil, err
		}
		s.tmpl[lang] = t
	}
	if err := s.selfTest(); err != nil {
		what := "the embedded templates"
		if files := ov.files(); len(files) > 0 {
			what = "the templates with the overrides " + strings.Join(files, ", ")
			if from != "" {
				what += " from " + from
			}
		}
		return nil, fmt.Errorf("templates: %s fail a test render: %w", what, err)
	}
	return s, nil
}

// checkOverrideNames makes sure every override is of a known language and template.
func checkOverrideNames(ov overrides) error {
	var unknown []string
	for lang, m := range ov {
		if !slices.Contains(Languages(), lang) {
			return fmt.Errorf("templates: %q is not a language this program knows (known: %s)", lang, strings.Join(Languages(), ", "))
		}
		for name := range m {
			if !slices.Contains(allNames(), name) {
				unknown = append(unknown, name)
			}
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return fmt.Errorf("templates: %q is not a template this program knows (known: %s)", unknown[0], strings.Join(allNames(), ", "))
	}
	return nil
}

// loadLanguage parses and checks the templates of one language.
func loadLanguage(ov overrides, lang, from string) (*template.Template, error) {
	root := template.New("").Funcs(template.FuncMap{
		fnLiteral: literal,
		fnRange:   rangeable,
		"title":   func(id string) string { return title(lang, id) },
	})
	includes := map[string][]string{}
	trees := map[string]*parse.Tree{}
	descs := map[string]string{}
	for _, name := range allNames() {
		src, err := resolve(ov, lang, name, from)
		if err != nil {
			return nil, err
		}
		descs[name] = src.desc
		tree, inc, err := parseTemplate(name, src.text)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", src.desc, err)
		}
		includes[name] = inc
		trees[name] = tree
		if _, err := root.AddParseTree(name, tree); err != nil {
			return nil, fmt.Errorf("templates: %s: %w", src.desc, err)
		}
	}
	if err := checkIncludes(includes, descs); err != nil {
		return nil, err
	}
	if err := checkWork(trees, descs); err != nil {
		return nil, err
	}
	return root, nil
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
func checkIncludes(includes map[string][]string, descs map[string]string) error {
	for _, name := range allNames() {
		for _, inc := range includes[name] {
			if _, ok := includes[inc]; !ok {
				return fmt.Errorf("templates: %s: it includes {{template %q}}, but there is no template of that name (known: %s)",
					descs[name], inc, strings.Join(allNames(), ", "))
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
			return fmt.Errorf("templates: templates include each other in a loop: %s (%s)", strings.Join(loop, " → "), descs[name])
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
func checkWork(trees map[string]*parse.Tree, descs map[string]string) error {
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
		switch {
		case w.depth > maxRangeDepth:
			return fmt.Errorf("templates: %s: {{range}} is nested %d deep (counting included templates); at most %d levels are allowed",
				descs[name], w.depth, maxRangeDepth)
		case w.nodes > maxWork:
			return fmt.Errorf("templates: %s: the template could take too long to render (it includes other templates or ranges too often)",
				descs[name])
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
		StepsSent:        []Sent{{Category: PasskeyInvalid, At: at}, {Category: PasskeySetup, At: at.Add(time.Hour)}},
		ReporterReplies:  []string{"did all that, still fails", "Sent from my iPhone"},
		ReporterLanguage: "de",
		MentionsDefender: true,
	}
	return []Data{
		full,
		{Platform: PlatformAndroid, Categories: []string{PasskeyInvalid, NewDevice}, Reason: triage.ReasonPasswordReset},
		{TicketKey: "HD-7", ReporterName: "Sam", Platform: PlatformUnknown, Categories: []string{NewDevice, PasskeySetup}, Reason: triage.ReasonFollowupTimeout},
		{Platform: "", Categories: []string{AuthenticatorSignIn}, Reason: triage.ReasonRequested},
		{Reason: "other"},
	}
}

// selfTest renders every document and a reply with each sample, in every language.
func (s *Set) selfTest() error {
	for _, lang := range Languages() {
		if err := s.selfTestLanguage(lang); err != nil {
			return fmt.Errorf("language %s: %w", lang, err)
		}
	}
	return nil
}

func (s *Set) selfTestLanguage(lang string) error {
	for i, d := range sampleData() {
		d.Language = lang
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
