package main

// The demo's steps, in the order runDemo takes them, and its summary.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// labels are the ticket's triage labels, sorted.
func (d *demo) labels(key string) []string { return triageLabels(d.fake.Labels(key)) }

// language is the ticket's language as the worker's classifier tells it.
func (d *demo) language(t demoTicket) string {
	return d.clf.Decide(classifier.Ticket{Summary: t.Summary, Description: t.Description}).Language
}

// showLanguages prints how the bot's first public answer begins, for the
// tickets not in English: each in the reporter's own language.
func (d *demo) showLanguages() {
	fmt.Fprintf(d.out, "\nanswered in the reporter's language:\n")
	for _, t := range d.tickets {
		lang := d.language(t)
		if lang == "en" {
			continue
		}
		for _, c := range d.fake.Comments(t.Key) {
			if c.Author.AccountID == d.bot.AccountID && !c.Internal {
				first := strings.Join(strings.Fields(c.Body), " ")
				fmt.Fprintf(d.out, "  %-8s [%s] %s\n", t.Key, lang, clipText(first, 64))
				break
			}
		}
	}
}

// sendTickets files each ticket in the sandbox Jira as its reporter: the
// sandbox sends its jira:issue_created webhook, signed.
func (d *demo) sendTickets() error {
	fmt.Fprintf(d.out, "sending %d sample tickets as signed webhooks…\n", len(d.tickets))
	for _, t := range d.tickets {
		u := d.users[t.Reporter]
		if _, err := d.fake.CreateIssue("DEMO", jiratest.Issue{Key: t.Key, Summary: t.Summary, Description: t.Description, Reporter: u}, u); err != nil {
			return fmt.Errorf("send %s: %w", t.Key, err)
		}
	}
	return nil
}

// showDecisions prints a line per ticket as the bot acts on it, until it
// has acted on all.
func (d *demo) showDecisions() error {
	shown := map[string]bool{}
	for {
		for _, t := range d.tickets {
			if ls := d.labels(t.Key); !shown[t.Key] && len(ls) > 0 {
				shown[t.Key] = true
				fmt.Fprintf(d.out, "  %-8s %-34s [%s] → %s\n", t.Key, clipText(t.Summary, 34), d.language(t), strings.Join(ls, " "))
			}
		}
		if len(shown) == len(d.tickets) {
			return nil
		}
		if time.Now().After(d.deadline) {
			return fmt.Errorf("demo: %d of %d tickets processed before the timeout", len(shown), len(d.tickets))
		}
		select {
		case <-d.ctx.Done():
			return d.ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// sendSuggestions has an agent send the bot's suggestion ("/triage send")
// on each ticket the bot left to the agents whose reporter the sample data
// has answering the bot's steps: the reporter answers the steps once the
// agent has sent them, as on a real helpdesk.
func (d *demo) sendSuggestions() error {
	var sent []demoTicket
	for _, t := range d.tickets {
		if t.Then == nil || t.Then.Author != "reporter" {
			continue
		}
		if ls := d.labels(t.Key); !hasLabel(ls, triage.LabelSuggested) || hasLabel(ls, triage.LabelReplied) || hasLabel(ls, triage.LabelEscalated) {
			continue
		}
		if len(sent) == 0 {
			fmt.Fprintln(d.out, "an agent sends the suggestions the bot was not sure enough to send alone…")
		}
		if _, err := d.fake.AddComment(t.Key, jiratest.Comment{Author: d.agent, Body: "/triage send", Internal: true}); err != nil {
			return fmt.Errorf("send the suggestion on %s: %w", t.Key, err)
		}
		sent = append(sent, t)
	}
	for _, t := range sent {
		if err := d.wait("the sent suggestion on "+t.Key, func() bool {
			ls := d.labels(t.Key)
			return hasLabel(ls, triage.LabelReplied) || hasLabel(ls, triage.LabelEscalated)
		}); err != nil {
			return err
		}
		fmt.Fprintf(d.out, "  %-8s agent sent the suggestion       → %s\n", t.Key, strings.Join(d.labels(t.Key), " "))
	}
	return nil
}

// answerReplies has the reporters (and an agent) answer the bot's replies
// as the sample data says: the comment in the sandbox Jira, which sends its
// webhook.
func (d *demo) answerReplies() error {
	fmt.Fprintln(d.out, "reporters and an agent answer some of the bot's replies…")
	for _, t := range d.tickets {
		if t.Then == nil || t.Then.Author == "none" {
			continue
		}
		author := d.users[t.Reporter]
		if t.Then.Author == "agent" {
			author = d.agent
		}
		if _, err := d.fake.AddComment(t.Key, jiratest.Comment{Author: author, Body: t.Then.Body}); err != nil {
			return fmt.Errorf("answer on %s: %w", t.Key, err)
		}
	}
	return nil
}

// showAnswers prints what the bot made of each answer, once it has acted
// on it: a reporter's is decided again; an agent's, which Jira Cloud's
// comment event sends without the reporter to tell it apart, is read and
// left to the agent (needs-human).
func (d *demo) showAnswers() error {
	for _, t := range d.tickets {
		if t.Then == nil || t.Then.Author == "none" {
			continue
		}
		before := len(d.labels(t.Key))
		if err := d.wait("the answer on "+t.Key, func() bool {
			ls := d.labels(t.Key)
			if t.Then.Author == "agent" && strings.HasPrefix(t.Then.Body, "/triage send") {
				// an agent sends the bot's suggestion (or finds the bot
				// already acted alone)
				return hasLabel(ls, triage.LabelEscalated) || hasLabel(ls, triage.LabelReplied)
			}
			if t.Then.Author == "agent" {
				return hasLabel(ls, triage.LabelNeedsHuman)
			}
			return len(ls) > before || hasLabel(ls, triage.LabelResolved) || hasLabel(ls, triage.LabelEscalated) || stateVersion(d.fake, t.Key) > 1
		}); err != nil {
			return err
		}
		fmt.Fprintf(d.out, "  %-8s %s answered %-18q → %s\n", t.Key, t.Then.Author, clipText(t.Then.Body, 16), strings.Join(d.labels(t.Key), " "))
	}
	return nil
}

// showFollowups waits until the queue is empty, the follow-up window
// passed, and prints the tickets whose labels the follow-ups changed.
func (d *demo) showFollowups(a *app) error {
	before := map[string]string{}
	for _, t := range d.tickets {
		before[t.Key] = strings.Join(d.labels(t.Key), " ")
	}
	fmt.Fprintf(d.out, "waiting for the follow-up window (%s): unanswered replies are escalated, an agent's ticket is left to them…\n", d.o.followup)
	if err := d.wait("the follow-ups", func() bool {
		info, err := a.inspector.GetQueueInfo(a.cfg.Queue)
		return err == nil && info.Scheduled+info.Pending+info.Active+info.Retry == 0
	}); err != nil {
		return err
	}
	for _, t := range d.tickets {
		if now := strings.Join(d.labels(t.Key), " "); now != before[t.Key] {
			fmt.Fprintf(d.out, "  %-8s follow-up → %s\n", t.Key, now)
		}
	}
	return nil
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
	var replied, mfa, followup, password, resolved, human, suggested, comments int
	suggestedAs := map[classifier.Action]int{}
	for _, t := range tickets {
		ls := fake.Labels(t.Key)
		// the bot's state on the ticket, as it wrote it to Jira
		var st triage.State
		if raw, ok := fake.Property(t.Key, "triage"); ok {
			_ = json.Unmarshal(raw, &st)
		}
		if hasLabel(ls, triage.LabelReplied) {
			replied++
		}
		if hasLabel(ls, triage.LabelEscalateMFA) {
			mfa++
			if st.Escalated == triage.ReasonFollowupTimeout {
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
		if hasLabel(ls, triage.LabelSuggested) {
			suggested++
			if st.Suggestion != nil {
				suggestedAs[st.Suggestion.Action]++
			}
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
	note := "a note only they see"
	var as []string
	for _, a := range classifier.Actions() {
		if n := suggestedAs[a]; n > 0 {
			as = append(as, fmt.Sprintf("%s %d", a, n))
		}
	}
	if len(as) > 0 {
		note += ": " + strings.Join(as, ", ")
	}
	fmt.Fprintf(out, "  suggested to the agents:           %d (%s)\n", suggested, note)
	fmt.Fprintf(out, "  escalated for an MFA reset:        %d (%d by the follow-up)\n", mfa, followup)
	fmt.Fprintf(out, "  escalated for a password reset:    %d\n", password)
	fmt.Fprintf(out, "  resolved:                          %d\n", resolved)
	fmt.Fprintf(out, "  left to a human:                   %d\n", human)
	fmt.Fprintf(out, "  bot comments posted:               %d\n", comments)
	fmt.Fprintf(out, "  Jira calls:                        %d (%d reads, %d writes)\n", reads+writes, reads, writes)
}
