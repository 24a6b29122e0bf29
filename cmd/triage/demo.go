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
	"sort"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/spf13/cobra"

	"github.com/mfatriage/triage"
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

	bot := jiratest.User{AccountID: "triage-bot", DisplayName: "Triage Bot", EmailAddress: "bot@example.com"}
	agent := jiratest.User{AccountID: "agent-ann", DisplayName: "Ann Agent"}
	users := map[string]jiratest.User{}
	for _, t := range tickets {
		if _, ok := users[t.Reporter]; !ok {
			users[t.Reporter] = jiratest.User{AccountID: "user-" + t.Reporter, DisplayName: strings.ToUpper(t.Reporter[:1]) + t.Reporter[1:]}
		}
	}
	var all []jiratest.User
	for _, u := range users {
		all = append(all, u)
	}
	fake := jiratest.New(jiratest.WithBasicAuth("bot@example.com", "demo-token", bot), jiratest.WithUsers(append(all, agent)...))
	defer fake.Close()
	for _, t := range tickets {
		fake.AddIssue(jiratest.Issue{Key: t.Key, Summary: t.Summary, Description: t.Description, Reporter: users[t.Reporter]})
	}

	secret := randomToken()
	cfg := config{
		RedisURL: "redis://" + mr.Addr(), JiraBaseURL: fake.URL(), JiraEmail: "bot@example.com", JiraAPIToken: "demo-token",
		BotAccountID: bot.AccountID, WebhookSecret: secret, Concurrency: 4, ShutdownTimeout: 5 * time.Second,
		FollowupWindow: o.followup, LogLevel: "warn", AdminToken: randomToken(),
	}
	cfg.defaults()
	a, err := appFrom(cfg, logw, true, true)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s (choose another with --listen): %w", o.listen, err)
	}
	srvCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- serve(srvCtx, a, ln, true, true) }()
	base := "http://" + ln.Addr().String()

	fmt.Fprintf(out, "triage demo: embedded Redis on %s, fake Jira on %s, intake on %s\n", mr.Addr(), fake.URL(), base)
	fmt.Fprintf(out, "sending %d sample tickets as signed webhooks…\n", len(tickets))
	deadline := time.Now().Add(o.timeout)
	post := func(body []byte, delivery string) error {
		req, err := intake.NewWebhookRequest(ctx, base+intake.WebhookPath, secret, delivery, body)
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
	for _, t := range tickets {
		if err := post(intake.IssueCreatedBody(t.Key, t.Summary, t.Description, webhookUser(users[t.Reporter])), "demo-"+t.Key); err != nil {
			return fmt.Errorf("send %s: %w", t.Key, err)
		}
	}

	// Progress: a line per ticket as the bot acts on it.
	labelled := func(key string) bool {
		for _, l := range fake.Labels(key) {
			if strings.HasPrefix(l, triage.LabelPrefix) {
				return true
			}
		}
		return false
	}
	wait := func(what string, ok func() bool) error {
		for !ok() {
			if time.Now().After(deadline) {
				return fmt.Errorf("demo: timed out waiting for %s", what)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(25 * time.Millisecond):
			}
		}
		return nil
	}
	shown := map[string]bool{}
	for len(shown) < len(tickets) {
		for _, t := range tickets {
			if !shown[t.Key] && labelled(t.Key) {
				shown[t.Key] = true
				fmt.Fprintf(out, "  %-8s %-34s → %s\n", t.Key, clipText(t.Summary, 34), strings.Join(triageLabels(fake.Labels(t.Key)), " "))
			}
		}
		if err := wait("the first decisions", func() bool { return true }); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("demo: %d of %d tickets processed before the timeout", len(shown), len(tickets))
		}
		time.Sleep(25 * time.Millisecond)
	}

	// The reporters (and an agent) answer the bot's replies.
	fmt.Fprintln(out, "reporters and an agent answer some of the bot's replies…")
	for _, t := range tickets {
		if t.Then == nil || t.Then.Author == "none" {
			continue
		}
		author := users[t.Reporter]
		switch t.Then.Author {
		case "none":
			continue
		case "agent":
			author = agent
		}
		is, _ := fake.Issue(t.Key)
		is.Comments = append(is.Comments, jiratest.Comment{Author: author, Body: t.Then.Body})
		fake.AddIssue(is)
		if err := post(intake.CommentCreatedBody(t.Key, webhookUser(author), webhookUser(users[t.Reporter]), t.Then.Body), "demo-"+t.Key+"-answer"); err != nil {
			return fmt.Errorf("answer on %s: %w", t.Key, err)
		}
	}
	for _, t := range tickets {
		if t.Then == nil || t.Then.Author != "reporter" {
			continue
		}
		before := len(triageLabels(fake.Labels(t.Key)))
		key := t.Key
		if err := wait("the answer on "+key, func() bool {
			ls := triageLabels(fake.Labels(key))
			return len(ls) > before || hasLabel(ls, triage.LabelResolved) || hasLabel(ls, triage.LabelEscalated) || stateVersion(fake, key) > 1
		}); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %-8s reporter answered %-18q → %s\n", key, clipText(t.Then.Body, 16), strings.Join(triageLabels(fake.Labels(key)), " "))
	}
	before := map[string]string{}
	for _, t := range tickets {
		before[t.Key] = strings.Join(triageLabels(fake.Labels(t.Key)), " ")
	}
	fmt.Fprintf(out, "waiting for the follow-up window (%s): unanswered replies are escalated, an agent's ticket is left to them…\n", o.followup)
	if err := wait("the follow-ups", func() bool {
		info, err := a.inspector.GetQueueInfo(a.cfg.Queue)
		return err == nil && info.Scheduled+info.Pending+info.Active+info.Retry == 0
	}); err != nil {
		return err
	}
	for _, t := range tickets {
		if now := strings.Join(triageLabels(fake.Labels(t.Key)), " "); now != before[t.Key] {
			fmt.Fprintf(out, "  %-8s follow-up → %s\n", t.Key, now)
		}
	}
	printDemoSummary(out, fake, tickets, bot.AccountID)
	fmt.Fprintf(out, "\nadmin page: %s/  (one-time login token: %s)\n", base, cfg.AdminToken)
	fmt.Fprintf(out, "fake Jira:  %s/rest/api/2/issue/DEMO-12 (basic auth bot@example.com / demo-token)\n", fake.URL())
	if o.exitAfterSummary {
		stop()
		return <-done
	}
	fmt.Fprintln(out, "serving until Ctrl-C")
	return <-done
}

func stateVersion(fake *jiratest.Server, key string) int {
	raw, ok := fake.Property(key, "triage")
	if !ok {
		return 0
	}
	var s struct {
		Version int `json:"version"`
	}
	_ = json.Unmarshal(raw, &s)
	return s.Version
}

func triageLabels(labels []string) []string {
	var out []string
	for _, l := range labels {
		if strings.HasPrefix(l, triage.LabelPrefix) {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

func printDemoSummary(out io.Writer, fake *jiratest.Server, tickets []demoTicket, botID string) {
	var replied, mfa, followup, password, resolved, human, comments int
	for _, t := range tickets {
		ls := fake.Labels(t.Key)
		if hasLabel(ls, triage.LabelReplied) {
			replied++
		}
		if hasLabel(ls, triage.LabelEscalateMFA) {
			mfa++
			raw, _ := fake.Property(t.Key, "triage")
			if strings.Contains(string(raw), triage.ReasonFollowupTimeout) {
				followup++
			}
		}
		if hasLabel(ls, triage.LabelEscalatePassword) {
			password++
		}
		if hasLabel(ls, triage.LabelResolved) {
			resolved++
		}
		if hasLabel(ls, triage.LabelNeedsHuman) {
			human++
		}
		for _, c := range fake.Comments(t.Key) {
			if c.Author.AccountID == botID {
				comments++
			}
		}
	}
	var reads, writes int
	for _, c := range fake.Calls() {
		if c.Method == http.MethodGet {
			reads++
		} else {
			writes++
		}
	}
	fmt.Fprintf(out, "\nsummary of %d tickets\n", len(tickets))
	fmt.Fprintf(out, "  replied with the steps:            %d\n", replied)
	fmt.Fprintf(out, "  escalated for an MFA reset:        %d (%d by the follow-up)\n", mfa, followup)
	fmt.Fprintf(out, "  escalated for a password reset:    %d\n", password)
	fmt.Fprintf(out, "  resolved:                          %d\n", resolved)
	fmt.Fprintf(out, "  left to a human:                   %d\n", human)
	fmt.Fprintf(out, "  bot comments posted:               %d\n", comments)
	fmt.Fprintf(out, "  Jira calls:                        %d (%d reads, %d writes)\n", reads+writes, reads, writes)
}

// webhookUser is how a webhook body names a user of the fake Jira.
func webhookUser(u jiratest.User) intake.WebhookUser {
	return intake.WebhookUser{AccountID: u.AccountID, DisplayName: u.DisplayName}
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
