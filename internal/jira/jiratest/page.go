package jiratest

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The sandbox's page: GET / lists the issues, newest first, with their
// comments (internal ones and restricted ones marked), and has a form to
// file a ticket and one per issue to comment as its reporter. The forms
// post to /sandbox/issue and /sandbox/comment, which act as POST
// /rest/api/2/issue and POST /rest/api/2/issue/{key}/comment with
// X-Sandbox-User do, webhooks included. Server-rendered, no script.

// Paths of the page's forms.
const (
	sandboxIssuePath   = "/sandbox/issue"
	sandboxCommentPath = "/sandbox/comment"
)

// isPage reports whether a request is for the page or its forms.
func (s *Server) isPage(r *http.Request) bool {
	return s.opts.sandbox && (r.URL.Path == "/" || r.URL.Path == sandboxIssuePath || r.URL.Path == sandboxCommentPath)
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	if r.URL.Path == "/" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "use GET", http.StatusMethodNotAllowed)
			return
		}
		s.renderPage(w, r.URL.Query().Get("error"))
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	// A form of this page, not of another site: browsers send Origin (and
	// Sec-Fetch-Site) with a POST.
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			http.Error(w, "cross-site form post refused", http.StatusForbidden)
			return
		}
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		http.Error(w, "cross-site form post refused", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form could not be read", http.StatusBadRequest)
		return
	}
	key, err := s.pageAction(r.URL.Path, r.PostForm)
	target := "/"
	if err != "" {
		target += "?error=" + url.QueryEscape(err)
	}
	if key != "" {
		target += "#" + key
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// pageAction files the ticket or posts the comment of a form; it returns
// the issue's key and what went wrong, if anything.
func (s *Server) pageAction(path string, f url.Values) (key, problem string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := s.eventBase()
	switch path {
	case sandboxIssuePath:
		reporter, ok := s.sandboxUserLocked(strings.TrimSpace(f.Get("reporter")))
		if !ok {
			return "", "the reporter must be an account id: letters, digits and @._:+-"
		}
		if name := strings.TrimSpace(f.Get("reporter_name")); name != "" && reporter.DisplayName == reporter.AccountID {
			reporter.DisplayName = name
			s.addUserLocked(reporter)
		}
		is, rep := s.createLocked(base, f.Get("project"), Issue{Summary: strings.TrimSpace(f.Get("summary")), Description: f.Get("description"), Reporter: reporter}, reporter)
		if rep != nil {
			return "", replyText(*rep)
		}
		return is.Key, ""
	default:
		is := s.lookupLocked(f.Get("key"))
		if is == nil {
			return "", "no such issue"
		}
		body := f.Get("body")
		if strings.TrimSpace(body) == "" {
			return is.Key, "the comment is empty"
		}
		s.postCommentLocked(base, is, Comment{Author: is.Reporter, Body: body})
		return is.Key, ""
	}
}

// pageComment is a comment as the page shows it.
type pageComment struct {
	Author, Created, Body, Mark, Class string
}

type pageIssue struct {
	Key, Summary, Description, Status, Reporter, ReporterID, Labels, ProjectType, Created string
	Comments                                                                              []pageComment
}

type pageData struct {
	Flavor, Webhook, Error string
	Projects               []struct{ Key, Type string }
	Issues                 []pageIssue
	Deliveries             []Delivery
}

func (s *Server) renderPage(w http.ResponseWriter, problem string) {
	d := pageData{Flavor: string(s.opts.flavor), Error: problem}
	s.hooks.mu.Lock()
	d.Webhook = s.hooks.target.url
	if d.Webhook != "" && s.hooks.target.secret != "" {
		d.Webhook += " (signed)"
	}
	sent := s.hooks.sent
	d.Deliveries = slices.Clone(sent[max(0, len(sent)-15):])
	s.hooks.mu.Unlock()
	slices.Reverse(d.Deliveries)

	s.mu.Lock()
	projects := slices.Clone(s.opts.projectOrder)
	for _, is := range s.issues {
		if !slices.Contains(projects, is.Project()) {
			projects = append(projects, is.Project())
		}
	}
	for _, p := range projects {
		d.Projects = append(d.Projects, struct{ Key, Type string }{p, projectTypeName(s.projectTypeLocked(p))})
	}
	issues := s.sortedIssuesLocked()
	slices.Reverse(issues)
	for _, is := range issues {
		pi := pageIssue{
			Key: is.Key, Summary: is.Summary, Description: is.Description, Status: is.Status,
			Reporter: is.Reporter.DisplayName, ReporterID: is.Reporter.AccountID, Labels: strings.Join(is.Labels, " "),
			ProjectType: projectTypeName(s.projectTypeLocked(is.Project())), Created: is.Created.Format(time.DateTime),
		}
		for _, c := range is.Comments {
			pc := pageComment{Author: c.Author.DisplayName, Created: c.Created.Format(time.DateTime), Body: c.Body, Mark: "public", Class: "public"}
			var vis struct{ Type, Value, Identifier string }
			switch {
			case c.Internal:
				pc.Mark, pc.Class = "internal note (agents only)", "internal"
			case len(c.Visibility) > 0 && json.Unmarshal(c.Visibility, &vis) == nil:
				pc.Mark, pc.Class = "restricted to "+vis.Type+" "+vis.Value+vis.Identifier, "restricted"
			case isInternal(c.Properties):
				pc.Mark = "public: marked internal, but this is not a Service Management project"
				pc.Class = "leak"
			}
			pi.Comments = append(pi.Comments, pc)
		}
		d.Issues = append(d.Issues, pi)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = pageTemplate.Execute(w, d)
}

func projectTypeName(t ProjectType) string {
	switch t {
	case ProjectServiceDesk:
		return "Service Management"
	case ProjectSoftware:
		return "software"
	}
	return string(t)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Jira sandbox</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem;color:#172b4d}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin-top:1.6rem}
.meta{color:#5e6c84;font-size:.85rem}.err{background:#ffebe6;padding:.5rem;border-left:4px solid #de350b}
section{border:1px solid #dfe1e6;border-radius:6px;padding:.6rem .9rem;margin:.8rem 0}
pre{white-space:pre-wrap;word-wrap:break-word;font:inherit;margin:.3rem 0}
ol{padding-left:1.2rem}li{margin:.5rem 0;padding:.3rem .5rem;border-radius:4px}
li.internal{background:#fffae6;border-left:4px solid #ff991f}li.restricted{background:#eae6ff;border-left:4px solid #6554c0}
li.leak{background:#ffebe6;border-left:4px solid #de350b}
.badge{font-size:.75rem;font-weight:600;text-transform:uppercase;letter-spacing:.02em}
form{display:grid;gap:.4rem;max-width:40rem}input,select,textarea{font:inherit;padding:.3rem}
textarea{min-height:4rem}button{justify-self:start;font:inherit;padding:.3rem .9rem}
table{border-collapse:collapse;font-size:.85rem}td{padding:.1rem .5rem;border-bottom:1px solid #eee}
</style></head><body>
<h1>Jira sandbox</h1>
<p class="meta">{{.Flavor}} flavor · webhooks to {{if .Webhook}}{{.Webhook}}{{else}}nowhere (start with --webhook-url){{end}} · <a href="/">reload</a> to see what the bot did</p>
{{if .Error}}<p class="err">{{.Error}}</p>{{end}}
<h2>File a ticket</h2>
<form method="post" action="/sandbox/issue">
<label>Project <select name="project">{{range .Projects}}<option value="{{.Key}}">{{.Key}} ({{.Type}})</option>{{end}}</select></label>
<label>Reporter (account id) <input name="reporter" value="alice" required></label>
<label>Reporter's name <input name="reporter_name" value="Alice"></label>
<label>Summary <input name="summary" required maxlength="255"></label>
<label>Description <textarea name="description"></textarea></label>
<button>File it</button>
</form>
<h2>Issues</h2>
{{range .Issues}}<section id="{{.Key}}">
<h3>{{.Key}} · {{.Summary}}</h3>
<p class="meta">{{.ProjectType}} project · {{.Status}} · reported by {{.Reporter}} ({{.ReporterID}}) on {{.Created}}{{if .Labels}} · labels: {{.Labels}}{{end}}</p>
{{if .Description}}<pre>{{.Description}}</pre>{{end}}
{{if .Comments}}<ol>{{range .Comments}}<li class="{{.Class}}"><span class="badge">{{.Mark}}</span> · {{.Author}} · <span class="meta">{{.Created}}</span><pre>{{.Body}}</pre></li>{{end}}</ol>{{end}}
<form method="post" action="/sandbox/comment"><input type="hidden" name="key" value="{{.Key}}">
<label>Comment as {{.Reporter}} <textarea name="body" required></textarea></label><button>Comment</button></form>
</section>{{else}}<p>No issues yet: file one above.</p>{{end}}
{{if .Deliveries}}<h2>Latest webhooks</h2><table>{{range .Deliveries}}<tr><td>{{.Event}}</td><td>{{.Issue}}</td><td>{{if .Status}}{{.Status}}{{else}}{{.Err}}{{end}}</td><td>{{.Attempts}} attempt(s)</td></tr>{{end}}</table>{{end}}
</body></html>
`))
