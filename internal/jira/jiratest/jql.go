package jiratest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// This file implements the small JQL subset the fake understands:
//
//	clause   := field op value | field [NOT] IN (v, ...) | field IS [NOT] EMPTY|NULL
//	query    := [clause {AND|OR clause}, NOT, parentheses] [ORDER BY field [ASC|DESC], ...]
//
// Fields: project, key/issuekey/id, status, issuetype/type, labels,
// assignee/reporter (accountId, name, e-mail or display name, currentUser()),
// summary/description/comment/text (~ and !~), created/updated (and
// createdDate/updatedDate) compared with Jira's date formats or relative
// periods such as -15m, -2h, -1d, -1w, now() or startOfDay(), and
// issue.property[key].path. Anything else gets Jira's 400 for an unknown field.

type jqlContext struct {
	now  time.Time
	loc  *time.Location
	user User
}

type jqlQuery struct {
	where jqlNode // nil matches everything
	order []orderTerm
}

type orderTerm struct {
	field string
	desc  bool
}

type jqlNode interface{ eval(*Issue) bool }

type andNode struct{ l, r jqlNode }
type orNode struct{ l, r jqlNode }
type notNode struct{ n jqlNode }

func (n andNode) eval(is *Issue) bool { return n.l.eval(is) && n.r.eval(is) }
func (n orNode) eval(is *Issue) bool  { return n.l.eval(is) || n.r.eval(is) }
func (n notNode) eval(is *Issue) bool { return !n.n.eval(is) }

func (q *jqlQuery) match(is *Issue) bool { return q.where == nil || q.where.eval(is) }

func (q *jqlQuery) sort(list []*Issue) {
	slices.SortStableFunc(list, func(a, b *Issue) int {
		for _, t := range q.order {
			c := compareBy(t.field, a, b)
			if t.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return compareIDs(a.ID, b.ID)
	})
}

func compareBy(field string, a, b *Issue) int {
	switch field {
	case "created", "createddate":
		return a.Created.Compare(b.Created)
	case "updated", "updateddate":
		return a.Updated.Compare(b.Updated)
	case "status":
		return cmp.Compare(strings.ToLower(a.Status), strings.ToLower(b.Status))
	case "summary":
		return cmp.Compare(strings.ToLower(a.Summary), strings.ToLower(b.Summary))
	case "project":
		return cmp.Compare(a.Project(), b.Project())
	default: // key, issuekey, id
		if c := cmp.Compare(a.Project(), b.Project()); c != 0 {
			return c
		}
		return cmp.Compare(keyNumber(a.Key), keyNumber(b.Key))
	}
}

func keyNumber(key string) int {
	i := strings.LastIndexByte(key, '-')
	n, _ := strconv.Atoi(key[i+1:])
	return n
}

// ---- tokens ----

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tLParen
	tRParen
	tComma
	tOp
)

type token struct {
	kind tokKind
	text string
	pos  int // 1-based character position
}

func (t token) is(word string) bool { return t.kind == tWord && strings.EqualFold(t.text, word) }

func (t token) String() string {
	if t.kind == tEOF {
		return "end of query"
	}
	return "'" + t.text + "'"
}

func tokenize(s string) ([]token, error) {
	var out []token
	rs := []rune(s)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '(':
			out = append(out, token{tLParen, "(", i + 1})
			i++
		case r == ')':
			out = append(out, token{tRParen, ")", i + 1})
			i++
		case r == ',':
			out = append(out, token{tComma, ",", i + 1})
			i++
		case r == '"' || r == '\'':
			start := i
			var b strings.Builder
			i++
			for ; i < len(rs) && rs[i] != r; i++ {
				if rs[i] == '\\' && i+1 < len(rs) {
					i++
				}
				b.WriteRune(rs[i])
			}
			if i >= len(rs) {
				return nil, jqlErrorf(start+1, "The quoted string has no closing quote")
			}
			i++
			out = append(out, token{tString, b.String(), start + 1})
		case strings.ContainsRune("=!<>~", r):
			start := i
			op := string(r)
			if i+1 < len(rs) && rs[i+1] == '=' && r != '=' && r != '~' {
				op += "="
				i++
			} else if r == '!' && i+1 < len(rs) && rs[i+1] == '~' {
				op = "!~"
				i++
			}
			i++
			if op == "!" {
				return nil, jqlErrorf(start+1, "Expecting operator but got '!'")
			}
			out = append(out, token{tOp, op, start + 1})
		default:
			start := i
			for i < len(rs) && !unicode.IsSpace(rs[i]) && !strings.ContainsRune("()=,!<>~\"'", rs[i]) {
				i++
			}
			out = append(out, token{tWord, string(rs[start:i]), start + 1})
		}
	}
	out = append(out, token{kind: tEOF, pos: len(rs) + 1})
	return out, nil
}

// jqlError is a 400 message in Jira's words.
type jqlError struct{ msg string }

func (e *jqlError) Error() string { return e.msg }

func jqlErrorf(pos int, format string, args ...any) error {
	return &jqlError{fmt.Sprintf("Error in the JQL Query: "+format+". (line 1, character %d)", append(args, pos)...)}
}

// ---- parser ----

type parser struct {
	toks []token
	i    int
	ctx  jqlContext
}

func parseJQL(s string, ctx jqlContext) (*jqlQuery, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, ctx: ctx}
	q := &jqlQuery{}
	if !p.peek().is("order") && p.peek().kind != tEOF {
		if q.where, err = p.parseOr(); err != nil {
			return nil, err
		}
	}
	if p.peek().is("order") {
		p.next()
		if !p.next().is("by") {
			return nil, jqlErrorf(p.prev().pos, "Expecting 'BY' after 'ORDER'")
		}
		for {
			t := p.next()
			if t.kind != tWord && t.kind != tString {
				return nil, jqlErrorf(t.pos, "Expecting a field name but got %s", t)
			}
			f := strings.ToLower(t.text)
			switch f {
			case "created", "createddate", "updated", "updateddate", "key", "issuekey", "id", "status", "summary", "project":
			default:
				return nil, &jqlError{fmt.Sprintf("Not able to sort using field '%s'.", t.text)}
			}
			term := orderTerm{field: f}
			if p.peek().is("asc") {
				p.next()
			} else if p.peek().is("desc") {
				p.next()
				term.desc = true
			}
			q.order = append(q.order, term)
			if p.peek().kind != tComma {
				break
			}
			p.next()
		}
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, jqlErrorf(t.pos, "Expecting either 'OR' or 'AND' but got %s", t)
	}
	return q, nil
}

func (p *parser) peek() token { return p.toks[p.i] }
func (p *parser) prev() token { return p.toks[max(p.i-1, 0)] }
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) parseOr() (jqlNode, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.peek().is("or") {
		p.next()
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = orNode{l, r}
	}
	return l, nil
}

func (p *parser) parseAnd() (jqlNode, error) {
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for p.peek().is("and") {
		p.next()
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = andNode{l, r}
	}
	return l, nil
}

func (p *parser) parseNot() (jqlNode, error) {
	if p.peek().is("not") {
		p.next()
		n, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return notNode{n}, nil
	}
	if p.peek().kind == tLParen {
		p.next()
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tRParen {
			return nil, jqlErrorf(t.pos, "Expecting ')' but got %s", t)
		}
		return n, nil
	}
	return p.parseClause()
}

// value is one operand: a string, EMPTY, or a function result.
type value struct {
	text  string
	empty bool
	fn    string // lower-case function name without parentheses, "" for none
	pos   int
}

var propertyFieldRE = regexp.MustCompile(`^issue\.property\[([^\]]+)\](?:\.(.+))?$`)

func (p *parser) parseClause() (jqlNode, error) {
	ft := p.next()
	if ft.kind != tWord && ft.kind != tString {
		return nil, jqlErrorf(ft.pos, "Expecting a field name but got %s", ft)
	}
	field := strings.ToLower(ft.text)
	var op string
	switch t := p.next(); {
	case t.kind == tOp:
		op = t.text
	case t.is("in"):
		op = "in"
	case t.is("not") && p.peek().is("in"):
		p.next()
		op = "not in"
	case t.is("is"):
		op = "is"
		if p.peek().is("not") {
			p.next()
			op = "is not"
		}
	default:
		return nil, jqlErrorf(t.pos, "Expecting operator but got %s", t)
	}
	var vals []value
	if op == "in" || op == "not in" {
		if t := p.next(); t.kind != tLParen {
			return nil, jqlErrorf(t.pos, "Expecting '(' but got %s", t)
		}
		for {
			v, err := p.parseValue()
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
			t := p.next()
			if t.kind == tRParen {
				break
			}
			if t.kind != tComma {
				return nil, jqlErrorf(t.pos, "Expecting ',' or ')' but got %s", t)
			}
		}
	} else {
		v, err := p.parseValue()
		if err != nil {
			return nil, err
		}
		if (op == "is" || op == "is not") != v.empty {
			if v.empty {
				return nil, jqlErrorf(v.pos, "The operator '%s' does not support the value EMPTY; use IS or IS NOT", op)
			}
			return nil, jqlErrorf(v.pos, "Expecting 'EMPTY' or 'NULL' after '%s' but got '%s'", strings.ToUpper(op), v.text)
		}
		vals = []value{v}
	}
	return p.buildClause(ft, field, op, vals)
}

func (p *parser) parseValue() (value, error) {
	t := p.next()
	switch t.kind {
	case tString:
		return value{text: t.text, pos: t.pos}, nil
	case tWord:
		if t.is("empty") || t.is("null") {
			return value{empty: true, pos: t.pos}, nil
		}
		if p.peek().kind == tLParen {
			p.next()
			for p.peek().kind != tRParen {
				if p.peek().kind == tEOF {
					return value{}, jqlErrorf(p.peek().pos, "Expecting ')' but got end of query")
				}
				p.next()
			}
			p.next()
			return value{fn: strings.ToLower(t.text), text: t.text + "()", pos: t.pos}, nil
		}
		return value{text: t.text, pos: t.pos}, nil
	}
	return value{}, jqlErrorf(t.pos, "Expecting a value but got %s", t)
}

type fieldKind int

const (
	kindString fieldKind = iota // project, key, status, issuetype
	kindLabels
	kindUser
	kindText
	kindDate
	kindProperty
)

var fieldKinds = map[string]fieldKind{
	"project": kindString, "key": kindString, "issuekey": kindString, "id": kindString,
	"status": kindString, "issuetype": kindString, "type": kindString,
	"labels":   kindLabels,
	"assignee": kindUser, "reporter": kindUser,
	"summary": kindText, "description": kindText, "comment": kindText, "text": kindText,
	"created": kindDate, "createddate": kindDate, "updated": kindDate, "updateddate": kindDate,
}

var kindOps = map[fieldKind][]string{
	kindString:   {"=", "!=", "in", "not in"},
	kindLabels:   {"=", "!=", "in", "not in", "is", "is not"},
	kindUser:     {"=", "!=", "in", "not in", "is", "is not"},
	kindText:     {"~", "!~", "is", "is not"},
	kindDate:     {"=", "!=", ">", ">=", "<", "<=", "is", "is not"},
	kindProperty: {"=", "!=", "in", "not in", "is", "is not"},
}

func (p *parser) buildClause(ft token, field, op string, vals []value) (jqlNode, error) {
	kind, ok := fieldKinds[field]
	var propKey, propPath string
	if m := propertyFieldRE.FindStringSubmatch(ft.text); m != nil {
		kind, ok = kindProperty, true
		propKey, propPath = m[1], m[2]
	}
	if !ok {
		return nil, &jqlError{fmt.Sprintf("Field '%s' does not exist or you do not have permission to view it.", ft.text)}
	}
	if !slices.Contains(kindOps[kind], op) {
		return nil, &jqlError{fmt.Sprintf("The operator '%s' is not supported by the '%s' field.", strings.ToUpper(op), ft.text)}
	}
	c := &clause{field: field, kind: kind, op: op, propKey: propKey, propPath: propPath}
	for _, v := range vals {
		switch {
		case v.empty:
			c.empty = true
		case kind == kindDate:
			t, err := p.parseDate(ft.text, v)
			if err != nil {
				return nil, err
			}
			c.times = append(c.times, t)
		case v.fn == "currentuser" && kind == kindUser:
			c.values = append(c.values, p.ctx.user.AccountID)
		case v.fn != "":
			return nil, &jqlError{fmt.Sprintf("Unable to find JQL function '%s'.", v.text)}
		default:
			c.values = append(c.values, v.text)
		}
	}
	return c, nil
}

var relativeRE = regexp.MustCompile(`^([-+]?)((?:\d+[wdhm]\s*)+)$`)
var relativePartRE = regexp.MustCompile(`(\d+)([wdhm])`)

// parseDate reads Jira's date formats, relative periods and now()/startOfDay().
func (p *parser) parseDate(field string, v value) (time.Time, error) {
	switch v.fn {
	case "now":
		return p.ctx.now, nil
	case "startofday":
		y, m, d := p.ctx.now.In(p.ctx.loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, p.ctx.loc), nil
	case "":
	default:
		return time.Time{}, &jqlError{fmt.Sprintf("Unable to find JQL function '%s'.", v.text)}
	}
	s := strings.TrimSpace(v.text)
	for _, layout := range []string{"2006/01/02 15:04", "2006-01-02 15:04", "2006/01/02", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, p.ctx.loc); err == nil {
			return t, nil
		}
	}
	if m := relativeRE.FindStringSubmatch(s); m != nil {
		var d time.Duration
		for _, part := range relativePartRE.FindAllStringSubmatch(m[2], -1) {
			n, _ := strconv.Atoi(part[1])
			unit := map[string]time.Duration{"w": 7 * 24 * time.Hour, "d": 24 * time.Hour, "h": time.Hour, "m": time.Minute}[part[2]]
			d += time.Duration(n) * unit
		}
		if m[1] == "-" {
			d = -d
		}
		return p.ctx.now.Add(d), nil
	}
	return time.Time{}, &jqlError{fmt.Sprintf("Date value '%s' for field '%s' is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'.", v.text, field)}
}

// clause is one comparison.
type clause struct {
	field    string
	kind     fieldKind
	op       string
	values   []string
	times    []time.Time
	empty    bool
	propKey  string
	propPath string
}

func (c *clause) eval(is *Issue) bool {
	switch c.kind {
	case kindDate:
		return c.evalDate(is)
	case kindText:
		return c.evalText(is)
	}
	have, isEmpty := c.actual(is)
	switch c.op {
	case "is":
		return isEmpty
	case "is not":
		return !isEmpty
	case "=", "in":
		return anyMatch(have, c.values)
	default: // "!=", "not in"
		return !isEmpty && !anyMatch(have, c.values)
	}
}

// actual returns the issue's values for the field (any may match) and
// whether the field is empty.
func (c *clause) actual(is *Issue) ([]string, bool) {
	switch c.kind {
	case kindLabels:
		return is.Labels, len(is.Labels) == 0
	case kindUser:
		u := &is.Reporter
		if c.field == "assignee" {
			u = is.Assignee
		}
		if u == nil || (u.AccountID == "" && u.Name == "") {
			return nil, true
		}
		return []string{u.AccountID, u.Name, u.EmailAddress, u.DisplayName}, false
	case kindProperty:
		s, ok := propertyValue(is.Properties[c.propKey], c.propPath)
		return []string{s}, !ok
	}
	switch c.field {
	case "project":
		return []string{is.Project()}, false
	case "key", "issuekey", "id":
		return []string{is.Key, is.ID}, false
	case "status":
		return []string{is.Status}, false
	default: // issuetype, type
		return []string{is.IssueType}, false
	}
}

func anyMatch(have, want []string) bool {
	for _, h := range have {
		if h == "" {
			continue
		}
		for _, w := range want {
			if strings.EqualFold(h, w) {
				return true
			}
		}
	}
	return false
}

func (c *clause) evalDate(is *Issue) bool {
	t := is.Created
	if strings.HasPrefix(c.field, "updated") {
		t = is.Updated
	}
	switch c.op {
	case "is":
		return t.IsZero()
	case "is not":
		return !t.IsZero()
	}
	v := c.times[0]
	switch c.op {
	case "=":
		return t.Equal(v)
	case "!=":
		return !t.Equal(v)
	case ">":
		return t.After(v)
	case ">=":
		return !t.Before(v)
	case "<":
		return t.Before(v)
	default: // "<="
		return !t.After(v)
	}
}

func (c *clause) evalText(is *Issue) bool {
	var texts []string
	switch c.field {
	case "summary":
		texts = []string{is.Summary}
	case "description":
		texts = []string{is.Description}
	case "comment":
		for _, cm := range is.Comments {
			texts = append(texts, cm.Body)
		}
	default: // text
		texts = []string{is.Summary, is.Description}
		for _, cm := range is.Comments {
			texts = append(texts, cm.Body)
		}
	}
	empty := true
	for _, t := range texts {
		if t != "" {
			empty = false
		}
	}
	switch c.op {
	case "is":
		return empty
	case "is not":
		return !empty
	}
	found := false
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), strings.ToLower(c.values[0])) {
			found = true
		}
	}
	if c.op == "~" {
		return found
	}
	return !found
}

// propertyValue walks a dotted path into a property's JSON value. ok is false
// when the value is missing, null or an empty string.
func propertyValue(raw json.RawMessage, path string) (string, bool) {
	if raw == nil {
		return "", false
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return "", false
	}
	if path != "" {
		for _, seg := range strings.Split(path, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				return "", false
			}
			v = m[seg]
		}
	}
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, x != ""
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	default:
		b, _ := json.Marshal(x)
		return string(b), true
	}
}
