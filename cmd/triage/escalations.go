package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/graph"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/templates"
)

// service builds the escalation service (the admins' actions).
func (a *app) service() (*escalation.Service, error) {
	tmpl, err := templates.Load(a.cfg.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	cfg := escalation.ServiceConfig{DoneTransition: a.cfg.DoneTransition, BotAccountID: a.cfg.BotAccountID,
		Decisions: a.store, Feedback: a.store, Audit: a.store, Metrics: a.metrics}
	if g := a.cfg.graph(); g.Configured() {
		g.Logger = a.log.With().Str("component", "graph").Logger()
		dir, err := graph.New(g)
		if err != nil {
			return nil, fmt.Errorf("Microsoft Graph: %w", err)
		}
		cfg.Directory = dir
	}
	return escalation.NewService(a.esc, jira.NewTriage(a.jira), tmpl, cfg), nil
}

func newEscalationsCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "escalations",
		Aliases: []string{"esc"},
		Short:   "Work through the escalation queue: list, show, ack, done, return",
		Long: `escalations reads and works the queue of tickets escalated to admins for an
MFA or password reset, or as a possible attack (security) — the same
operations as the admin page and the JSON API. Security escalations are
listed first, whatever the order. "done" posts the reporter one comment: for
a password escalation "Password reset done" (label
triage-password-reset-done), for any other "MFA reset done" with the steps
to set up Authenticator and a passkey again; running it twice posts nothing
more. A returned escalation is acknowledged again before it can be done.`,
		Example: `  triage escalations list --status open --reason mfa-reset --min-age 2h
  triage escalations list --reason security
  triage escalations list --search alice --sort newest
  triage escalations show HD-42:mfa-reset
  triage escalations ack HD-42:mfa-reset --actor alice
  triage escalations done HD-42:mfa-reset --actor alice
  triage escalations return HD-42:mfa-reset --note "not MFA: the licence expired" --actor alice
  triage escalations reset-mfa HD-42 --user alice@example.com --tap --yes`,
	}
	cmd.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	actor := func(c *cobra.Command) string {
		a, _ := c.Flags().GetString("actor")
		if a == "" {
			a = os.Getenv("USER")
		}
		if a == "" {
			a = "cli"
		}
		return "cli:" + a
	}
	withService := func(c *cobra.Command, f func(*escalation.Service) error) error {
		a, err := newApp(c, true, false)
		if err != nil {
			return err
		}
		defer a.Close()
		svc, err := a.service()
		if err != nil {
			return err
		}
		return f(svc)
	}

	var (
		status, reason string
		search, order  string
		minAge         time.Duration
		offset, limit  int
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List escalations with a status, security first, then oldest first (or --sort)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return withService(c, func(svc *escalation.Service) error {
				page, err := svc.List(c.Context(), escalation.Filter{Status: status, Reason: reason, MinAge: minAge, Search: search, Sort: order, Offset: offset, Limit: limit})
				if err != nil {
					return err
				}
				counts, err := svc.Counts(c.Context())
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(c.OutOrStdout()).Encode(struct {
						escalation.Page
						Counts map[string]int `json:"counts"`
					}{page, counts})
				}
				printPage(c.OutOrStdout(), page, counts)
				return nil
			})
		},
	}
	list.Flags().StringVar(&status, "status", escalation.StatusOpen, "open, acknowledged, done or returned")
	list.Flags().StringVar(&reason, "reason", "", strings.Join(triage.Reasons, ", "))
	list.Flags().StringVar(&search, "search", "", "only escalations whose ticket key or reporter contains this")
	list.Flags().StringVar(&order, "sort", escalation.SortOldest, strings.Join(escalation.Sorts(), ", ")+" (security escalations come first in each)")
	list.Flags().DurationVar(&minAge, "min-age", 0, "only escalations at least this old")
	list.Flags().IntVar(&offset, "offset", 0, "skip this many")
	list.Flags().IntVar(&limit, "limit", 50, "show at most this many")

	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show one escalation with its evidence and history",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return withService(c, func(svc *escalation.Service) error {
				r, err := svc.Get(c.Context(), args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return json.NewEncoder(c.OutOrStdout()).Encode(r)
				}
				printRecord(c.OutOrStdout(), r)
				return nil
			})
		},
	}
	act := func(use, short string, do func(*escalation.Service, *cobra.Command, string) (escalation.Record, bool, error)) *cobra.Command {
		sub := &cobra.Command{
			Use:   use + " ID",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				return withService(c, func(svc *escalation.Service) error {
					r, changed, err := do(svc, c, args[0])
					if err != nil {
						return err
					}
					if asJSON {
						return json.NewEncoder(c.OutOrStdout()).Encode(map[string]any{"record": r, "changed": changed})
					}
					if changed && use == "done" {
						fmt.Fprintf(c.OutOrStdout(), "%s is now %s: %s, the reporter was told\n", r.ID, r.Status, escalation.DoneName(r.Reason))
					} else if changed {
						fmt.Fprintf(c.OutOrStdout(), "%s is now %s\n", r.ID, r.Status)
					} else {
						fmt.Fprintf(c.OutOrStdout(), "%s was already %s: nothing changed\n", r.ID, r.Status)
					}
					return nil
				})
			},
		}
		sub.Flags().String("actor", "", "who acts (default: $USER)")
		return sub
	}
	ack := act("ack", "Acknowledge an escalation (someone is on it)", func(s *escalation.Service, c *cobra.Command, id string) (escalation.Record, bool, error) {
		return s.Acknowledge(c.Context(), id, actor(c))
	})
	done := act("done", "MFA or password reset done (by the reason): tell the reporter, close the escalation", func(s *escalation.Service, c *cobra.Command, id string) (escalation.Record, bool, error) {
		return s.Done(c.Context(), id, actor(c))
	})
	ret := act("return", "Return an escalation to the agents with a note (an internal comment)", func(s *escalation.Service, c *cobra.Command, id string) (escalation.Record, bool, error) {
		note, _ := c.Flags().GetString("note")
		return s.Return(c.Context(), id, actor(c), note)
	})
	ret.Flags().String("note", "", "the note for the agents (required)")
	reset := newResetMFACmd(&asJSON, actor, withService)
	cmd.AddCommand(list, show, ack, done, ret, reset)
	return cmd
}

func printPage(w io.Writer, p escalation.Page, counts map[string]int) {
	var parts []string
	for _, st := range escalation.Statuses() {
		parts = append(parts, fmt.Sprintf("%s %d", st, counts[st]))
	}
	fmt.Fprintln(w, strings.Join(parts, " · "))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tREPORTER\tREASON\tAGE\tEVIDENCE")
	for _, r := range p.Records {
		if r.Security {
			r.Reason = "SECURITY"
		}
		ev := ""
		if len(r.Evidence) > 0 {
			ev = fmt.Sprintf("%q", r.Evidence[0].Text)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.ReporterName, r.Reason, time.Since(r.CreatedAt).Round(time.Minute), ev)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d–%d of %d\n", min(p.Offset+1, p.Total), p.Offset+len(p.Records), p.Total)
}

func printRecord(w io.Writer, r escalation.Record) {
	fmt.Fprintf(w, "%s  %s  (%s)\n", r.ID, r.Status, r.Link)
	fmt.Fprintf(w, "reporter: %s   reason: %s   created: %s\n", r.ReporterName, r.Reason, r.CreatedAt.Format(time.RFC3339))
	fmt.Fprintf(w, "categories: %s   platform: %s   language: %s\n", strings.Join(r.Categories, ", "), r.Platform, cmp.Or(r.Language, "unknown"))
	if r.Security {
		fmt.Fprintln(w, "SECURITY: a possible attack; revoke the sessions, reset MFA and check the sign-in logs first")
	}
	fmt.Fprintln(w, "evidence:")
	for _, e := range r.Evidence {
		fmt.Fprintf(w, "  %s %s: %q in %s\n", e.Kind, e.Label, e.Text, e.Where)
	}
	for _, s := range r.StepsSent {
		fmt.Fprintf(w, "steps sent: %s at %s\n", s.Category, s.At.Format(time.RFC3339))
	}
	for _, rep := range r.ReporterReplies {
		fmt.Fprintf(w, "reporter replied: %q\n", rep)
	}
	fmt.Fprintln(w, "history:")
	for _, h := range r.History {
		fmt.Fprintf(w, "  %s  %-12s by %s  %s\n", h.At.Format(time.RFC3339), h.Status, h.Actor, h.Note)
	}
}

// newResetMFACmd is `escalations reset-mfa`: the MFA reset in Entra ID,
// as the admin page does it.
func newResetMFACmd(asJSON *bool, actor func(*cobra.Command) string, withService func(*cobra.Command, func(*escalation.Service) error) error) *cobra.Command {
	var (
		user, remove     string
		revoke, tap, yes bool
	)
	cmd := &cobra.Command{
		Use:   "reset-mfa KEY --user UPN [--remove TYPES] [--revoke-sessions] [--tap]",
		Short: "Reset a reporter's MFA in Entra ID (Microsoft Graph), then close the MFA-reset escalation",
		Long: `reset-mfa removes the user's chosen authentication methods in Entra ID
(by default Microsoft Authenticator and passkeys), optionally revokes their
sign-in sessions and creates a Temporary Access Pass, then runs "MFA reset
done": one comment to the reporter in their language, and the escalation
closed. KEY is the ticket key or the escalation id (HD-42 or
HD-42:mfa-reset); only MFA-reset escalations can be reset. It shows the
user and what it will remove, and asks before it acts (--yes: do not ask;
needed when standard input is not a terminal). The pass is printed once
and stored nowhere. Running it again removes and posts nothing more.
Needs GRAPH_TENANT_ID, GRAPH_CLIENT_ID and GRAPH_CLIENT_SECRET or
GRAPH_CLIENT_CERT.`,
		Example: `  triage escalations reset-mfa HD-42 --user alice@example.com
  triage escalations reset-mfa HD-42 --user alice@example.com --remove authenticator,passkey,phone --revoke-sessions --tap --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			types, err := triage.ParseMethodTypes(remove)
			if err != nil {
				return fmt.Errorf("--remove: %w", err)
			}
			if strings.TrimSpace(user) == "" {
				return errors.New("--user is required: the user principal name in Entra ID (usually the work e-mail)")
			}
			id := args[0]
			if !strings.Contains(id, ":") {
				id += ":" + triage.ReasonMFAReset
			}
			return withService(c, func(svc *escalation.Service) error {
				if !svc.CanResetMFA() {
					return escalation.ErrNoDirectory
				}
				out := c.OutOrStdout()
				u, ms, err := svc.LookUp(c.Context(), id, user)
				if err != nil {
					return err
				}
				if !*asJSON {
					printPlan(out, u, ms, types, revoke, tap)
				}
				if !yes {
					ok, err := confirm(c, "Reset MFA of "+u.UPN+" and close "+id+"? [y/N] ")
					if err != nil {
						return err
					}
					if !ok {
						return errors.New("not confirmed: nothing done")
					}
				}
				res, err := svc.ResetMFA(c.Context(), id, actor(c), escalation.ResetRequest{UPN: u.UPN, Remove: types, RevokeSessions: revoke, TAP: tap})
				if err != nil {
					return err
				}
				if *asJSON {
					v := struct {
						escalation.ResetResult
						Pass string `json:"temporary_access_pass,omitempty"`
					}{ResetResult: res}
					if res.TAP != nil {
						v.Pass = res.TAP.Pass
					}
					return json.NewEncoder(out).Encode(v)
				}
				printReset(out, res)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "the user principal name in Entra ID (required)")
	cmd.Flags().StringVar(&remove, "remove", "authenticator,passkey", "the method types to remove: authenticator, passkey, phone, software-oath, tap")
	cmd.Flags().BoolVar(&revoke, "revoke-sessions", false, "also revoke the user's sign-in sessions")
	cmd.Flags().BoolVar(&tap, "tap", false, "also create a Temporary Access Pass (printed once)")
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for a confirmation")
	cmd.Flags().String("actor", "", "who acts (default: $USER)")
	return cmd
}

// confirm asks a yes/no question on a terminal; without one it refuses.
func confirm(c *cobra.Command, question string) (bool, error) {
	f, ok := c.InOrStdin().(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return false, errors.New("standard input is not a terminal, so the reset cannot be confirmed: add --yes")
	}
	fmt.Fprint(c.ErrOrStderr(), question)
	answer, _ := bufio.NewReader(f).ReadString('\n')
	answer = strings.ToLower(strings.TrimSpace(answer))
	return answer == "y" || answer == "yes", nil
}

func printPlan(w io.Writer, u triage.DirectoryUser, ms []triage.AuthMethod, remove []triage.MethodType, revoke, tap bool) {
	state := "enabled"
	if !u.Enabled {
		state = "DISABLED"
	}
	last := "unknown (needs AuditLog.Read.All)"
	if u.SignInKnown {
		last = "never"
		if !u.LastSignIn.IsZero() {
			last = u.LastSignIn.Format(time.RFC3339)
		}
	}
	fmt.Fprintf(w, "user:        %s <%s>, account %s, last sign-in %s\n", u.DisplayName, u.UPN, state, last)
	for _, m := range ms {
		verb := "keep  "
		if slices.Contains(remove, m.Type) {
			verb = "REMOVE"
		}
		fmt.Fprintf(w, "  %s %-26s %s %s\n", verb, m.Type.Label(), m.ID, m.Detail)
	}
	if revoke {
		fmt.Fprintln(w, "  and revoke the sign-in sessions")
	}
	if tap {
		fmt.Fprintln(w, "  and create a Temporary Access Pass")
	}
}

func printReset(w io.Writer, r escalation.ResetResult) {
	if !r.Changed {
		fmt.Fprintf(w, "%s was already %s: nothing removed, nothing posted\n", r.Record.ID, r.Record.Status)
		return
	}
	if a := r.Audit; a != nil {
		for _, m := range a.Removed {
			fmt.Fprintf(w, "removed %s %s\n", m.Type, m.ID)
		}
		if a.SessionsRevoked {
			fmt.Fprintln(w, "sign-in sessions revoked")
		}
	}
	if r.TAP != nil {
		fmt.Fprintf(w, "Temporary Access Pass (shown once, stored nowhere; valid %v): %s\n", r.TAP.Lifetime, r.TAP.Pass)
	}
	fmt.Fprintf(w, "%s is now %s: MFA reset done, the reporter was told\n", r.Record.ID, r.Record.Status)
}
