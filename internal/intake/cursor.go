package intake

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultCursorKey is the Redis key of the poller's cursor when none is
// given; a deployment gives one under its site's prefix, so that two Jira
// sites sharing one Redis keep a cursor each.
const DefaultCursorKey = "triage:poll:cursor"

// RedisCursor keeps the poller's cursor in one Redis key, as milliseconds
// since the epoch. Set never moves it backwards, so that replicas polling
// at once cannot undo each other's progress.
type RedisCursor struct {
	rdb redis.UniversalClient
	key string
}

var _ Cursor = (*RedisCursor)(nil)

// NewRedisCursor returns a cursor stored under key (DefaultCursorKey when
// empty).
func NewRedisCursor(rdb redis.UniversalClient, key string) *RedisCursor {
	if key == "" {
		key = DefaultCursorKey
	}
	return &RedisCursor{rdb: rdb, key: key}
}

// Get returns the stored time; ok is false when none is stored.
func (c *RedisCursor) Get(ctx context.Context) (time.Time, bool, error) {
	s, err := c.rdb.Get(ctx, c.key).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("read the poll cursor %s: %w", c.key, err)
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("the poll cursor %s holds %q, not milliseconds since the epoch", c.key, s)
	}
	return time.UnixMilli(ms).UTC(), true, nil
}

// setMax stores ARGV[1] unless the key holds a larger number.
var setMax = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]))
local v = tonumber(ARGV[1])
if cur == nil or v > cur then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0`)

// Set stores t unless the cursor is already later.
func (c *RedisCursor) Set(ctx context.Context, t time.Time) error {
	if err := setMax.Run(ctx, c.rdb, []string{c.key}, strconv.FormatInt(t.UnixMilli(), 10)).Err(); err != nil {
		return fmt.Errorf("write the poll cursor %s: %w", c.key, err)
	}
	return nil
}
