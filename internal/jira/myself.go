package jira

import (
	"context"
	"fmt"
)

// Myself returns the account the credentials belong to (GET /myself, one
// call). It doubles as the auth check: bad credentials give a 401 *Error.
func (c *Client) Myself(ctx context.Context) (User, error) {
	ctx, capt := withCapture(ctx)
	u, resp, err := c.jc.User.GetSelfWithContext(ctx)
	if err := c.finish(capt, resp, err); err != nil {
		return User{}, fmt.Errorf("who am I: %w", err)
	}
	return userFromGoJira(u), nil
}

// BotAccountID returns Config.BotAccountID, or learns it with Myself on first
// use (one call) and caches it.
func (c *Client) BotAccountID(ctx context.Context) (string, error) {
	if c.cfg.BotAccountID != "" {
		return c.cfg.BotAccountID, nil
	}
	c.botMu.Lock()
	defer c.botMu.Unlock()
	if c.botID != "" {
		return c.botID, nil
	}
	u, err := c.Myself(ctx)
	if err != nil {
		return "", err
	}
	id := u.AccountID
	if id == "" {
		id = u.Name
	}
	c.botID = id
	return id, nil
}
