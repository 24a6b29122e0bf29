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
	"net/http"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/spf13/cobra"

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
	listen           string
	followup         time.Duration
	exitAfterSummary bool
	timeout          time.Duration
}

func newDemoCmd() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "See triage work in a minute: an embedded Redis, a fake Jira and 20 sample tickets",
		Long: `demo starts everything in one process with nothing installed: an in-process
Redis (miniredis), a fake Jira seeded with 20 sample tickets in seven
languages, the webhook intake, the worker and the admin page. It sends the
tickets as signed webhooks, answers some of the bot's replies the way
reporters and agents do, shows progress, prints a summary (what was replied,
escalated, resolved, left to humans; the Jira calls made) and keeps serving
until Ctrl-C. It is the same code as triage serve against a real Redis and
Jira: only the two outside services are stand-ins.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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

// runDemo runs the demo: the stand-ins and serve, the sample tickets sent
// as webhooks, the bot's decisions, the reporters' answers and the
// follow-ups shown as they happen, then the summary; then it serves until
// ctx ends (or returns at once with o.exitAfterSummary).
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
	d := newDemo(ctx, out, tickets, o)
	defer d.fake.Close()
	a, ln, err := d.app(mr.Addr(), logw)
	if err != nil {
		return err
	}
	defer a.Close()
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- serve(srvCtx, a, ln, true, true) }()
	d.base = "http://" + ln.Addr().String()

	fmt.Fprintf(out, "triage demo: embedded Redis on %s, fake Jira on %s, intake on %s\n", mr.Addr(), d.fake.URL(), d.base)
	for _, step := range []func() error{
		d.sendTickets,   // the sample tickets as webhooks
		d.showDecisions, // the bot's decision on each
		d.answerReplies, // the reporters and an agent answer
		d.showAnswers,   // the bot's decision on each answer
		func() error { return d.showFollowups(a) }, // the replies left unanswered
	} {
		if err := step(); err != nil {
			stop()
			<-done // serve stops before the app it runs is closed
			return err
		}
	}
	printDemoSummary(out, d.fake, tickets, d.bot.AccountID)
	fmt.Fprintf(out, "\nadmin page: %s/  (one-time login token: %s)\n", d.base, a.cfg.AdminToken)
	fmt.Fprintf(out, "fake Jira:  %s/rest/api/2/issue/DEMO-12 (basic auth bot@example.com / demo-token)\n", d.fake.URL())
	if o.exitAfterSummary {
		stop()
		return <-done
	}
	fmt.Fprintln(out, "serving until Ctrl-C")
	return <-done
}

// demo is one run of the demo: the sample tickets, the fake Jira holding
// them and its users, and the intake the webhooks go to.
type demo struct {
	ctx      context.Context
	out      io.Writer
	o        demoOptions
	deadline time.Time
	tickets  []demoTicket
	fake     *jiratest.Server
	bot      jiratest.User
	agent    jiratest.User
	users    map[string]jiratest.User // by demoTicket.Reporter
	secret   string
	base     string // the intake's URL
}

// newDemo seeds a fake Jira with the tickets and their reporters.
func newDemo(ctx context.Context, out io.Writer, tickets []demoTicket, o demoOptions) *demo {
	d := &demo{
		ctx: ctx, out: out, o: o, deadline: time.Now().Add(o.timeout), tickets: tickets,
		bot:    jiratest.User{AccountID: "triage-bot", DisplayName: "Triage Bot", EmailAddress: "bot@example.com"},
		agent:  jiratest.User{AccountID: "agent-ann", DisplayName: "Ann Agent"},
		users:  map[string]jiratest.User{},
		secret: randomToken(),
	}
	for _, t := range tickets {
		if _, ok := d.users[t.Reporter]; !ok {
			d.users[t.Reporter] = jiratest.User{AccountID: "user-" + t.Reporter, DisplayName: strings.ToUpper(t.Reporter[:1]) + t.Reporter[1:]}
		}
	}
	var all []jiratest.User
	for _, u := range d.users {
		all = append(all, u)
	}
	d.fake = jiratest.New(jiratest.WithBasicAuth("bot@example.com", "demo-token", d.bot), jiratest.WithUsers(append(all, d.agent)...))
	for _, t := range tickets {
		d.fake.AddIssue(jiratest.Issue{Key: t.Key, Summary: t.Summary, Description: t.Description, Reporter: d.users[t.Reporter]})
	}
	return d
}

// app builds what serve runs, on the embedded Redis and the fake Jira, and
// its listener on --listen.
func (d *demo) app(redisAddr string, logw io.Writer) (*app, net.Listener, error) {
	cfg := config{
		RedisURL: "redis://" + redisAddr, JiraBaseURL: d.fake.URL(), JiraEmail: "bot@example.com", JiraAPIToken: "demo-token",
		BotAccountID: d.bot.AccountID, WebhookSecret: d.secret, Concurrency: 4, ShutdownTimeout: 5 * time.Second,
		FollowupWindow: d.o.followup, LogLevel: "warn", AdminToken: randomToken(),
	}
	cfg.defaults()
	a, err := appFrom(cfg, logw, true, true)
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", d.o.listen)
	if err != nil {
		a.Close()
		return nil, nil, fmt.Errorf("listen on %s (choose another with --listen): %w", d.o.listen, err)
	}
	return a, ln, nil
}

// post delivers a webhook to the intake, signed.
func (d *demo) post(body []byte, delivery string) error {
	req, err := intake.NewWebhookRequest(d.ctx, d.base+intake.WebhookPath, d.secret, delivery, body)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("intake answered %d", resp.StatusCode)
	}
	return nil
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
