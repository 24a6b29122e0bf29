package main

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/graph/graphtest"
	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira/jiratest"
)

//go:embed demodata/tickets.json
var demoTickets []byte

// demoTicket is a sample ticket, and what its reporter (or an agent) says
// after the bot's reply.
type demoTicket struct {
	Key         string `json:"key"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	Reporter    string `json:"reporter"`
	Expect      string `json:"expect"`
	Then        *struct {
		Author string `json:"author"` // "reporter", "agent", or "none" (never answers)
		Body   string `json:"body"`
	} `json:"then"`
}

type demoOptions struct {
	listen string
	// listenSet is true when --listen was given: the demo then listens
	// there or fails; otherwise --exit-after-summary takes a free port (it
	// serves nothing a person opens) and serving takes one when the default
	// is busy, and says so.
	listenSet        bool
	followup         time.Duration
	exitAfterSummary bool
	timeout          time.Duration
}

func newDemoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "See triage work in a minute: an embedded Redis, a sandbox Jira and 20 sample tickets",
		Long: `demo starts everything in one process with nothing installed: an in-process
Redis (miniredis), the sandbox Jira of triage fakejira with 20 sample tickets
in seven languages, a fake Microsoft Graph holding the reporters' Entra ID
accounts (so "Reset MFA in Entra ID" works on an MFA-reset escalation),
the webhook intake, the worker and the admin page. The
tickets are filed in the sandbox, which sends their signed webhooks to the
intake as Jira would; some of the bot's replies are answered the way
reporters and agents do. It shows progress, prints a summary (what was
replied, escalated, resolved, left to humans; the Jira calls made) and keeps
serving until Ctrl-C, with the sandbox's page to file more tickets. It is the
same code as triage serve against a real Redis and Jira: only the two outside
services are stand-ins.

With --exit-after-summary it listens on a free port unless --listen is
given; serving, it takes a free port when the default one is busy and says
which.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.listenSet = cmd.Flags().Changed("listen")
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	cmd.Flags().StringVar(&o.listen, "listen", "127.0.0.1:8080", "address of the intake and the admin page")
	cmd.Flags().DurationVar(&o.followup, "followup", 3*time.Second, "follow-up window (seconds in the demo, 24h in production)")
	cmd.Flags().BoolVar(&o.exitAfterSummary, "exit-after-summary", false, "exit after printing the summary instead of serving until Ctrl-C")
	cmd.Flags().DurationVar(&o.timeout, "timeout", 90*time.Second, "give up when the tickets are not all processed by then")
	return cmd
}

// loadDemoTickets reads the embedded sample tickets.
func loadDemoTickets() ([]demoTicket, error) {
	var tickets []demoTicket
	if err := json.Unmarshal(demoTickets, &tickets); err != nil {
		return nil, fmt.Errorf("demo tickets: %w", err)
	}
	return tickets, nil
}

// runDemo runs the demo: the stand-ins and serve, the sample tickets filed
// in the sandbox (which sends their webhooks), the bot's decisions, the
// reporters' answers and the follow-ups shown as they happen, then the
// summary; then it serves until ctx ends (or returns at once with
// o.exitAfterSummary).
func runDemo(ctx context.Context, out, logw io.Writer, o demoOptions) error {
	tickets, err := loadDemoTickets()
	if err != nil {
		return err
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return fmt.Errorf("start the embedded Redis: %w", err)
	}
	defer mr.Close()
	ln, note, err := demoListen(o)
	if err != nil {
		return err
	}
	defer ln.Close()
	d, err := newDemo(ctx, out, tickets, o, "http://"+ln.Addr().String())
	if err != nil {
		return err
	}
	defer d.stopFake()
	a, err := d.app(mr.Addr(), logw)
	if err != nil {
		return err
	}
	defer a.Close()
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- serve(srvCtx, a, ln, true, true) }()

	fmt.Fprintf(out, "triage demo: embedded Redis on %s, fake Jira on %s, intake on %s\n", mr.Addr(), d.fakeURL, d.base)
	if note != "" {
		fmt.Fprintln(out, note)
	}
	for _, step := range []func() error{
		d.sendTickets,     // the sample tickets, filed: the sandbox sends their webhooks
		d.showDecisions,   // the bot's decision on each
		d.sendSuggestions, // an agent sends what the reporters will answer
		d.answerReplies,   // the reporters and an agent answer
		d.showAnswers,     // the bot's decision on each answer
		func() error { return d.showFollowups(a) }, // the replies left unanswered
	} {
		if err := step(); err != nil {
			stop()
			<-done // serve stops before the app it runs is closed
			return err
		}
	}
	d.showLanguages()
	printDemoSummary(out, d.fake, tickets, d.bot.AccountID)
	fmt.Fprintf(out, "\nadmin page: %s/  (one-time login token: %s)\n", d.base, a.cfg.AdminToken)
	fmt.Fprintf(out, "fake Jira:  %s/rest/api/2/issue/DEMO-12 (basic auth bot@example.com / demo-token)\n", d.fakeURL)
	fmt.Fprintf(out, "fake Graph: %s (Entra ID: on an MFA-reset escalation, \"Reset MFA in Entra ID…\" removes the reporter's methods there)\n", d.graph.URL())
	if o.exitAfterSummary {
		stop()
		return <-done
	}
	fmt.Fprintf(out, "try it:     %s/  (the sandbox Jira: file a ticket or answer as its reporter, and watch the bot)\n", d.fakeURL)
	fmt.Fprintf(out, "serving on port %d until Ctrl-C\n", ln.Addr().(*net.TCPAddr).Port)
	return <-done
}

// demoListen opens the intake's listener. With --exit-after-summary and no
// --listen it takes a free port: nobody opens what it serves. Serving, a
// busy default port gives way to a free one, with a note saying so.
func demoListen(o demoOptions) (ln net.Listener, note string, err error) {
	addr := o.listen
	if o.exitAfterSummary && !o.listenSet {
		addr = "127.0.0.1:0"
	}
	ln, err = net.Listen("tcp", addr)
	if err == nil || o.listenSet || o.exitAfterSummary {
		if err != nil {
			return nil, "", fmt.Errorf("listen on %s (choose another with --listen): %w", addr, err)
		}
		return ln, "", nil
	}
	host, _, _ := net.SplitHostPort(addr)
	ln, err2 := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err2 != nil {
		return nil, "", fmt.Errorf("listen on %s (choose another with --listen): %w", addr, err)
	}
	return ln, fmt.Sprintf("%s is busy: the intake and the admin page are on %s instead", addr, ln.Addr()), nil
}

// demo is one run of the demo: the sample tickets, the sandbox Jira
// holding them and its users, and the intake its webhooks go to.
type demo struct {
	ctx      context.Context
	out      io.Writer
	o        demoOptions
	deadline time.Time
	tickets  []demoTicket
	fake     *jiratest.Server
	fakeURL  string
	graph    *graphtest.Server // the fake Microsoft Graph
	stopFake func()
	bot      jiratest.User
	agent    jiratest.User
	users    map[string]jiratest.User // by demoTicket.Reporter
	secret   string
	base     string // the intake's URL
	clf      *classifier.Classifier
}

// newDemo starts the sandbox Jira (the one of triage fakejira) with the
// tickets' reporters, its webhooks signed and sent to the intake at base.
func newDemo(ctx context.Context, out io.Writer, tickets []demoTicket, o demoOptions, base string) (*demo, error) {
	d := &demo{
		ctx: ctx, out: out, o: o, deadline: time.Now().Add(o.timeout), tickets: tickets,
		users: map[string]jiratest.User{}, secret: randomToken(), base: base,
	}
	var err error
	if d.clf, err = classifier.NewDefault(); err != nil {
		return nil, err
	}
	for _, t := range tickets {
		if _, ok := d.users[t.Reporter]; !ok {
			d.users[t.Reporter] = jiratest.User{AccountID: "user-" + t.Reporter, DisplayName: strings.ToUpper(t.Reporter[:1]) + t.Reporter[1:], EmailAddress: t.Reporter + "@example.com"}
		}
	}
	so := &sandboxOptions{
		flavor: jiratest.FlavorCloud, email: "bot@example.com", token: "demo-token", botID: "triage-bot",
		webhookURL: base + intake.WebhookPath, webhookSecret: d.secret, projects: []string{"DEMO=service_desk"},
	}
	for _, u := range d.users {
		so.users = append(so.users, u)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the sandbox Jira: %w", err)
	}
	d.fakeURL = "http://" + ln.Addr().String()
	so.baseURL = d.fakeURL
	d.fake, err = newSandbox(so)
	if err != nil {
		ln.Close()
		return nil, err
	}
	d.bot, d.agent = so.bot, so.agent
	// the fake Graph: each reporter in Entra ID with the usual methods, so
	// an MFA-reset escalation can be reset from the admin page
	d.graph = graphtest.Start()
	for _, u := range d.users {
		d.graph.AddUser(graphtest.User{UPN: u.EmailAddress, DisplayName: u.DisplayName, Enabled: true, LastSignIn: time.Now().Add(-52 * time.Hour).Truncate(time.Minute)}, graphtest.StandardMethods()...)
	}
	fakeCtx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = serveSandbox(fakeCtx, d.fake, ln)
	}()
	d.stopFake = func() { stop(); <-served; d.graph.Close() }
	return d, nil
}

// app builds what serve runs, on the embedded Redis and the sandbox Jira.
func (d *demo) app(redisAddr string, logw io.Writer) (*app, error) {
	cfg := config{
		RedisURL: "redis://" + redisAddr, JiraBaseURL: d.fakeURL, JiraEmail: "bot@example.com", JiraAPIToken: "demo-token",
		BotAccountID: d.bot.AccountID, WebhookSecret: d.secret, Concurrency: 4, ShutdownTimeout: 5 * time.Second,
		FollowupWindow: d.o.followup, LogLevel: "warn", AdminToken: randomToken(),
		GraphBaseURL: d.graph.URL(),
	}
	cfg.defaults()
	return appFrom(cfg, logw, true, true)
}

// wait waits until ok, or fails at the demo's deadline.
func (d *demo) wait(what string, ok func() bool) error {
	for !ok() {
		if time.Now().After(d.deadline) {
			return fmt.Errorf("demo: timed out waiting for %s", what)
		}
		select {
		case <-d.ctx.Done():
			return d.ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
	return nil
}

func clipText(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func randomToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func hasLabel(labels []string, l string) bool {
	for _, x := range labels {
		if x == l {
			return true
		}
	}
	return false
}
