package main

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

func newFakeJiraCmd() *cobra.Command {
	var (
		listen, email, token, botID string
	)
	cmd := &cobra.Command{
		Use:   "fakejira",
		Short: "Run an in-memory fake Jira (REST v2) to try triage without a Jira",
		Long: `fakejira serves the Jira REST v2 resources triage uses — issues, comments,
edits, properties, transitions, assignee, search/jql — from memory, with
basic auth for one bot account. Point JIRA_BASE_URL at it, with JIRA_EMAIL,
JIRA_API_TOKEN and TRIAGE_BOT_ACCOUNT_ID as printed. Nothing is kept on disk.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bot := jiratest.User{AccountID: botID, DisplayName: "Triage Bot", EmailAddress: email}
			h := jiratest.NewHandler(jiratest.WithBasicAuth(email, token, bot))
			srv := &http.Server{Addr: listen, Handler: h, ReadHeaderTimeout: 10 * time.Second}
			fmt.Fprintf(cmd.OutOrStdout(), "fake Jira on http://%s\n  JIRA_EMAIL=%s JIRA_API_TOKEN=%s TRIAGE_BOT_ACCOUNT_ID=%s\n", listen, email, token, botID)
			errc := make(chan error, 1)
			go func() { errc <- srv.ListenAndServe() }()
			select {
			case err := <-errc:
				if !errors.Is(err, http.ErrServerClosed) {
					return err
				}
			case <-cmd.Context().Done():
			}
			return srv.Close()
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8081", "address to listen on")
	cmd.Flags().StringVar(&email, "email", "bot@example.com", "the bot account's e-mail (basic auth user)")
	cmd.Flags().StringVar(&token, "token", "fake-token", "the bot account's API token (basic auth password)")
	cmd.Flags().StringVar(&botID, "bot-account-id", "triage-bot", "the bot account's id")
	return cmd
}
