// Package redistest connects tests to the Redis they share: the one at
// TEST_REDIS_URL (default redis://127.0.0.1:6379/14). A test that needs it
// fails — never skips — when nothing answers there; `make test` starts a
// throwaway redis-server when none runs. Each test gets a key prefix (or an
// asynq queue) of its own, removed when it ends, so tests run in parallel.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// URL is the test Redis.
func URL() string {
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/14"
}

// Options parses URL and checks that Redis answers, failing the test with
// an instruction when it does not.
func Options(t testing.TB) *redis.Options {
	t.Helper()
	opt, err := redis.ParseURL(URL())
	if err != nil {
		t.Fatalf("TEST_REDIS_URL %q: %v", URL(), err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		t.Fatalf("no Redis at %s (start one, or run `make test`, which starts a throwaway one): %v", URL(), err)
	}
	return opt
}

// Client is a client of the test Redis, closed when the test ends.
func Client(t testing.TB) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(Options(t))
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// ID is a short random id for queue names and keys.
func ID(t testing.TB) string {
	t.Helper()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// Prefix is a key prefix of the test's own; its keys are deleted when the
// test ends (registered before rdb's close, so it runs first).
func Prefix(t testing.TB, rdb *redis.Client) string {
	t.Helper()
	prefix := "test:" + ID(t) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, err := rdb.Keys(ctx, prefix+"*").Result(); err == nil && len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return prefix
}

// AsynqOpt is the asynq connection to the same Redis.
func AsynqOpt(o *redis.Options) asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Addr: o.Addr, Username: o.Username, Password: o.Password, DB: o.DB}
}
