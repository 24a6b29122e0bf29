package jira

import (
	"context"
	"fmt"
	"time"
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

// TimeZone returns the time zone Jira reads the bot's JQL dates in: the
// zone of its profile (one GET /myself). A profile without a zone gives
// UTC; a zone name this binary does not know is an error.
func (c *Client) TimeZone(ctx context.Context) (*time.Location, error) {
	u, err := c.Myself(ctx)
	if err != nil {
		return nil, err
	}
	if u.TimeZone == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(u.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("the bot's Jira time zone %q: %w", u.TimeZone, err)
	}
	return loc, nil
}
