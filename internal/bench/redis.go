package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// redisConns are a run's connections to its Redis.
type redisConns struct {
	// prefix starts the keys of the run's Jira site (redisstore.SitePrefix).
	prefix string
	rdb    *redis.Client
	conn   asynq.RedisClientOpt
	client *asynq.Client
	insp   *asynq.Inspector
}

// connect opens the connections to the Redis at url and checks that it
// answers.
func connect(ctx context.Context, url string) (*redisConns, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("the Redis URL %s: %w", redactURL(url), err)
	}
	r := &redisConns{
		rdb:  redis.NewClient(opt),
		conn: asynq.RedisClientOpt{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB, TLSConfig: opt.TLSConfig},
	}
	if err := r.rdb.Ping(ctx).Err(); err != nil {
		r.rdb.Close()
		return nil, fmt.Errorf("no Redis at %s (start one, or run through make bench-pipeline, which does): %w", redactURL(url), err)
	}
	r.client, r.insp = asynq.NewClient(r.conn), asynq.NewInspector(r.conn)
	return r, nil
}

func (r *redisConns) close() {
	r.client.Close()
	r.insp.Close()
	r.rdb.Close()
}

// auditEnd is the id of the audit stream's last entry ("0" when empty):
// the run's entries come after it.
func (r *redisConns) auditEnd(ctx context.Context) string {
	msgs, err := r.rdb.XRevRangeN(ctx, r.prefix+"audit", "+", "-", 1).Result()
	if err != nil || len(msgs) == 0 {
		return "0"
	}
	return msgs[0].ID
}

// cleanup deletes what a run left in Redis: its queues (every key of
// theirs, completed tasks included), and the project's state, locks,
// audit entries (after auditFrom) and escalations.
func (r *redisConns) cleanup(proj, auditFrom string, queues ...string) {
	rdb, insp := r.rdb, r.insp
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, q := range queues {
		_ = insp.DeleteQueue(q, true)
		scanDelete(ctx, rdb, "asynq:{"+q+"}*")
		rdb.SRem(ctx, "asynq:queues", q)
	}
	if proj == "" {
		return
	}
	scanDelete(ctx, rdb, r.prefix+"*{"+proj+"-*")
	scanDelete(ctx, rdb, r.prefix+"esc:*:"+proj+"-*")
	for _, st := range []string{"open", "acknowledged", "done", "returned"} {
		key := r.prefix + "esc:status:" + st
		ids, err := rdb.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			continue
		}
		var ours []any
		for _, id := range ids {
			if strings.HasPrefix(id, proj+"-") {
				ours = append(ours, id)
			}
		}
		if len(ours) > 0 {
			rdb.ZRem(ctx, key, ours...)
		}
	}
	// the stream of all decisions: our entries, added after auditFrom
	start := auditFrom
	for {
		msgs, err := rdb.XRangeN(ctx, r.prefix+"audit", "("+start, "+", 1000).Result()
		if err != nil || len(msgs) == 0 {
			return
		}
		var ids []string
		for _, m := range msgs {
			if k, _ := m.Values["key"].(string); strings.HasPrefix(k, proj+"-") {
				ids = append(ids, m.ID)
			}
		}
		if len(ids) > 0 {
			rdb.XDel(ctx, r.prefix+"audit", ids...)
		}
		start = msgs[len(msgs)-1].ID
	}
}

func scanDelete(ctx context.Context, rdb redis.UniversalClient, pattern string) {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return
		}
		if len(keys) > 0 {
			rdb.Unlink(ctx, keys...)
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}
