package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// sandboxOptions configure the sandbox Jira of `triage fakejira` and of
// the demo.
type sandboxOptions struct {
	flavor                    jiratest.Flavor
	email, token, botID       string
	webhookURL, webhookSecret string
	baseURL                   string
	projects                  []string // KEY=type, the first one seeded
	users                     []jiratest.User
	logWebhooks               io.Writer // a line per webhook sent; nil: none
	seedFrom                  io.Reader // corpus JSONL; nil: none
	seedName                  string
	seeded                    int
	bot                       jiratest.User
	agent                     jiratest.User
	projectKeys               []string
	projectTypes              map[string]jiratest.ProjectType
}

// newSandbox builds the sandbox Jira: the fake Jira with the sandbox on
// (POST /issue, X-Sandbox-User, the page at /), the bot's credentials
// (basic auth, and a Data Center PAT with the same token), the projects
// and their types, signed webhooks to o.webhookURL, and, from a corpus,
// issues.
func newSandbox(o *sandboxOptions) (*jiratest.Server, error) {
	o.bot = jiratest.User{AccountID: o.botID, DisplayName: "Triage Bot", EmailAddress: o.email}
	o.agent = jiratest.User{AccountID: "agent-ann", DisplayName: "Ann Agent"}
	if o.flavor == jiratest.FlavorDataCenter {
		o.bot.Name, o.agent.Name = o.botID, "agent-ann"
	}
	opts := []jiratest.Option{
		jiratest.WithSandbox(), jiratest.WithFlavor(o.flavor),
		jiratest.WithBasicAuth(o.email, o.token, o.bot), jiratest.WithPAT(o.token, o.bot),
		jiratest.WithUsers(append(o.users, o.agent)...),
		jiratest.WithWebhook(o.webhookURL, o.webhookSecret),
	}
	if o.baseURL != "" {
		opts = append(opts, jiratest.WithBaseURL(o.baseURL))
	}
	if o.logWebhooks != nil {
		w := o.logWebhooks
		opts = append(opts, jiratest.WithWebhookLog(func(d jiratest.Delivery) {
			answer := fmt.Sprint(d.Status)
			if d.Status == 0 {
				answer = d.Err
			}
			fmt.Fprintf(w, "webhook %s %s → %s (%d attempt(s))\n", d.Event, d.Issue, answer, d.Attempts)
		}))
	}
	o.projectTypes = map[string]jiratest.ProjectType{}
	for _, p := range o.projects {
		key, typ, ok := strings.Cut(p, "=")
		key = strings.ToUpper(strings.TrimSpace(key))
		if !ok || key == "" {
			return nil, fmt.Errorf("--project %q: use KEY=TYPE, e.g. HD=service_desk or SW=software", p)
		}
		t, err := jiratest.ParseProjectType(typ)
		if err != nil {
			return nil, fmt.Errorf("--project %q: %w", p, err)
		}
		o.projectKeys = append(o.projectKeys, key)
		o.projectTypes[key] = t
		opts = append(opts, jiratest.WithProject(key, t))
	}
	s := jiratest.NewHandler(opts...)
	if o.seedFrom != nil {
		if len(o.projectKeys) == 0 {
			return nil, errors.New("--seed needs a --project to file the issues in")
		}
		n, err := seedSandbox(s, o.projectKeys[0], o.seedFrom, o.bot, o.agent)
		if err != nil {
			return nil, fmt.Errorf("--seed %s: %w", o.seedName, err)
		}
		o.seeded = n
	}
	return s, nil
}

// seedReporters are the reporters of seeded issues, in turn.
var seedReporters = []string{"Alice", "Ben", "Camille", "Jonas", "Lucía", "Marco", "Priya", "Sanne", "João"}

// seedSandbox files every ticket of a corpus (classifier.ReadCorpus's
// format) into project as an issue that was there before: no webhooks,
// created an hour apart up to now; its comments are the reporter's, an
// agent's or the bot's, as the corpus says.
func seedSandbox(s *jiratest.Server, project string, r io.Reader, bot, agent jiratest.User) (int, error) {
	tickets, err := classifier.ReadCorpus(r)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	for i, t := range tickets {
		name := seedReporters[i%len(seedReporters)]
		id := strings.ToLower(strings.NewReplacer("í", "i", "ã", "a", "ó", "o").Replace(name))
		reporter := jiratest.User{AccountID: id, DisplayName: name}
		if bot.Name != "" {
			reporter.Name = id
		}
		created := now.Add(-time.Duration(len(tickets)-i) * time.Hour)
		is := jiratest.Issue{Key: fmt.Sprintf("%s-%d", project, i+1), Summary: t.Summary, Description: t.Description, Reporter: reporter, Created: created}
		for j, c := range t.Comments {
			author := reporter
			switch c.Author {
			case classifier.AuthorBot:
				author = bot
			case classifier.AuthorAgent:
				author = agent
			}
			is.Comments = append(is.Comments, jiratest.Comment{Author: author, Body: c.Body, Created: created.Add(time.Duration(j+1) * time.Minute)})
		}
		s.AddIssue(is)
	}
	return len(tickets), nil
}

func newFakeJiraCmd() *cobra.Command {
	var (
		listen, flavor, seed string
		o                    sandboxOptions
	)
	cmd := &cobra.Command{
		Use:   "fakejira",
		Short: "Run a sandbox Jira (in memory) that sends webhooks: try triage in a browser, without a Jira",
		Long: `fakejira serves an in-memory Jira: the REST v2 resources triage uses (issues,
comments, edits, properties, transitions, assignee, search), POST
/rest/api/2/issue to file tickets, and a page at / to file tickets and
comment as their reporters in a browser. Like a Jira site with an admin
webhook, it sends signed webhooks (X-Hub-Signature, X-Atlassian-Webhook-
Identifier) for jira:issue_created, comment_created and jira:issue_updated to
--webhook-url, in the shapes of the --flavor: cloud, or datacenter (whose
comment_created carries no issue and is followed by an issue_commented
update, and which searches with /rest/api/2/search, not /search/jql).

The bot authenticates with basic auth (--email, --token; on Data Center the
token is also a bearer PAT); anyone else acts by sending the header
X-Sandbox-User: <account id>, no password. Each --project is Service
Management (internal notes through sd.public.comment) or software/business
(where Jira ignores that property, so an "internal" note is public).
--seed files the tickets of a corpus (JSONL, one ticket a line) as existing
issues of the first project. Nothing is kept on disk.`,
		Example: `  triage fakejira --webhook-url http://127.0.0.1:8080/webhooks/jira --webhook-secret s3cret
  triage fakejira --flavor datacenter --seed testdata/corpus/handwritten.jsonl --project HD=service_desk`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := jiratest.ParseFlavor(flavor)
			if err != nil {
				return fmt.Errorf("--flavor: %w", err)
			}
			o.flavor = f
			if seed != "" {
				file, err := os.Open(seed)
				if err != nil {
					return fmt.Errorf("--seed: %w", err)
				}
				defer file.Close()
				o.seedFrom, o.seedName = file, seed
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", listen, err)
			}
			o.baseURL = "http://" + hostForLinks(ln.Addr())
			out := cmd.OutOrStdout()
			o.logWebhooks = out
			s, err := newSandbox(&o)
			if err != nil {
				ln.Close()
				return err
			}
			printSandbox(out, &o, "http://"+ln.Addr().String())
			return serveSandbox(cmd.Context(), s, ln)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8081", "address to listen on")
	cmd.Flags().StringVar(&o.webhookURL, "webhook-url", "", "where to send webhooks, e.g. http://127.0.0.1:8080/webhooks/jira (empty: none)")
	cmd.Flags().StringVar(&o.webhookSecret, "webhook-secret", "", "the webhook secret: signs every webhook (X-Hub-Signature) as JIRA_WEBHOOK_SECRET expects")
	cmd.Flags().StringVar(&flavor, "flavor", "cloud", "cloud or datacenter: the Jira edition to answer and send webhooks as")
	cmd.Flags().StringVar(&seed, "seed", "", "a corpus file (JSONL, classifier corpus format) whose tickets become issues of the first project")
	cmd.Flags().StringArrayVar(&o.projects, "project", []string{"HD=service_desk", "SW=software"}, "a project and its type, KEY=service_desk|software|business (repeat the flag; the first gets --seed)")
	cmd.Flags().StringVar(&o.email, "email", "bot@example.com", "the bot account's e-mail (basic auth user)")
	cmd.Flags().StringVar(&o.token, "token", "fake-token", "the bot account's API token (basic auth password; a bearer PAT on Data Center)")
	cmd.Flags().StringVar(&o.botID, "bot-account-id", "triage-bot", "the bot account's id (its user name on Data Center)")
	return cmd
}

// hostForLinks is the listener's address as self links should name it: a
// wildcard address becomes localhost.
func hostForLinks(addr net.Addr) string {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func printSandbox(w io.Writer, o *sandboxOptions, url string) {
	fmt.Fprintf(w, "sandbox Jira (%s) on %s: open it in a browser to file tickets and comment as their reporters\n", o.flavor, url)
	var ps []string
	for _, k := range o.projectKeys {
		ps = append(ps, k+" ("+string(o.projectTypes[k])+")")
	}
	fmt.Fprintf(w, "  projects: %s\n", strings.Join(ps, ", "))
	if o.seeded > 0 {
		fmt.Fprintf(w, "  seeded %d issues into %s from %s\n", o.seeded, o.projectKeys[0], o.seedName)
	}
	switch {
	case o.webhookURL == "":
		fmt.Fprintln(w, "  webhooks: none (--webhook-url is empty): triage learns of tickets only by polling (TRIAGE_JQL)")
	case o.webhookSecret == "":
		fmt.Fprintf(w, "  webhooks: to %s, unsigned (no --webhook-secret)\n", o.webhookURL)
	default:
		fmt.Fprintf(w, "  webhooks: to %s, signed with --webhook-secret\n", o.webhookURL)
	}
	auth := fmt.Sprintf("JIRA_EMAIL=%s JIRA_API_TOKEN=%s", o.email, o.token)
	if o.flavor == jiratest.FlavorDataCenter {
		auth = "JIRA_PAT=" + o.token + " TRIAGE_JIRA_FLAVOR=datacenter"
	}
	fmt.Fprintf(w, "  for triage: JIRA_BASE_URL=%s %s TRIAGE_BOT_ACCOUNT_ID=%s JIRA_WEBHOOK_SECRET=<the --webhook-secret>\n", url, auth, o.botID)
	fmt.Fprintf(w, "  as a user:  curl -H '%s: alice' -H 'Content-Type: application/json' -d '{\"fields\":{\"project\":{\"key\":\"%s\"},\"summary\":\"...\"}}' %s/rest/api/2/issue\n",
		jiratest.HeaderSandboxUser, firstOr(o.projectKeys, "HD"), url)
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// serveSandbox serves the sandbox on ln until ctx ends.
func serveSandbox(ctx context.Context, s *jiratest.Server, ln net.Listener) error {
	defer s.Close()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, MaxHeaderBytes: maxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		// a client still holds a request open: a sandbox need not wait
		// for it any longer
		return srv.Close()
	}
	return err
}
