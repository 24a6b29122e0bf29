package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mfatriage/triage"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key of a store whose Config.Prefix is empty.
// A deployment's keys also carry its Jira site: see SitePrefix.
const DefaultPrefix = "triage:"

// SiteID is the short name of a Jira site in Redis keys and queue names:
// the base URL's host (and port), lower-case, and its path when it has one
// ("example.atlassian.net", "jira.example.com/jira"), so that two sites can
// share one Redis. An empty or unreadable URL gives "".
func SiteID(jiraBaseURL string) string {
	u, err := url.Parse(strings.TrimSpace(jiraBaseURL))
	if err != nil || u.Host == "" {
		return ""
	}
	id := strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/")
	// keep the key's hash tag ({ticket}) the only one, and the id one word
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '{' || r == '}' || r == 0x7f {
			return -1
		}
		return r
	}, id)
}

// SitePrefix is the key prefix of a site's keys: "triage:<site>:", or
// DefaultPrefix when the site is unknown.
func SitePrefix(jiraBaseURL string) string {
	if id := SiteID(jiraBaseURL); id != "" {
		return DefaultPrefix + id + ":"
	}
	return DefaultPrefix
}

// Config configures the store. Zero values are defaults.
type Config struct {
	// Prefix starts every key. Default DefaultPrefix; a deployment gives
	// SitePrefix of its Jira site.
	Prefix string
	// StateTTL is how long a ticket's state copy is kept after its last
	// change. Default 90 days.
	StateTTL time.Duration
	// AgentTTL is how long an agent's comment keeps the worker away.
	// Default 30 days.
	AgentTTL time.Duration
	// AuditPerTicket bounds a ticket's audit stream. Default 200.
	AuditPerTicket int64
	// AuditTotal bounds the stream of all decisions. Default 100,000.
	AuditTotal int64
	// DecisionTTL is how long a day's decision counts (the admins'
	// Decisions view) are kept after its last count. Zero or less: 400
	// days, more than the longest period the view shows (365 days).
	DecisionTTL time.Duration
	// Feedback bounds what is kept for triage feedback export.
	Feedback FeedbackConfig
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = DefaultPrefix
	}
	if c.StateTTL == 0 {
		c.StateTTL = 90 * 24 * time.Hour
	}
	if c.AgentTTL == 0 {
		c.AgentTTL = 30 * 24 * time.Hour
	}
	if c.AuditPerTicket == 0 {
		c.AuditPerTicket = 200
	}
	if c.AuditTotal == 0 {
		c.AuditTotal = 100_000
	}
	if c.DecisionTTL <= 0 {
		c.DecisionTTL = 400 * 24 * time.Hour
	}
	return c
}

// Store is the Redis store. It is safe for concurrent use.
type Store struct {
	rdb redis.UniversalClient
	cfg Config
}

var _ triage.StateStore = (*Store)(nil)

// New wraps a go-redis client (standalone, Sentinel failover or Cluster).
func New(rdb redis.UniversalClient, cfg Config) *Store {
	return &Store{rdb: rdb, cfg: cfg.withDefaults()}
}

func (s *Store) key(kind, ticket string) string { return s.cfg.Prefix + kind + ":{" + ticket + "}" }

// Load reads a ticket's state copy (found is false when there is none).
func (s *Store) Load(ctx context.Context, ticket string) (triage.State, bool, error) {
	data, err := s.rdb.Get(ctx, s.key("state", ticket)).Bytes()
	if errors.Is(err, redis.Nil) {
		return triage.State{}, false, nil
	}
	if err != nil {
		return triage.State{}, false, fmt.Errorf("load state: %w", err)
	}
	var st triage.State
	if err := json.Unmarshal(data, &st); err != nil {
		return triage.State{}, false, fmt.Errorf("state of %s is not valid JSON: %w", ticket, err)
	}
	return st, true, nil
}

// Save implements triage.StateStore.
func (s *Store) Save(ctx context.Context, ticket string, st triage.State) error {
	data, err := json.Marshal(st)
	if err != nil {
		return err
	}
	if err := s.rdb.Set(ctx, s.key("state", ticket), data, s.cfg.StateTTL).Err(); err != nil {
		return fmt.Errorf("save state: %w", err)
	}
	return nil
}

// HasState reports whether a ticket has a state copy (for reconciliation).
// A copy that only says a first write to Jira was started (Writing at
// version 0) does not count: that write may never have happened.
func (s *Store) HasState(ctx context.Context, ticket string) (bool, error) {
	st, found, err := s.Load(ctx, ticket)
	if err != nil {
		return false, fmt.Errorf("state exists: %w", err)
	}
	return found && !(st.Writing && st.Version == 0), nil
}

// RecordAgent marks that a human agent commented on a ticket.
func (s *Store) RecordAgent(ctx context.Context, ticket, accountID string, at time.Time) error {
	v := at.UTC().Format(time.RFC3339) + " " + accountID
	if err := s.rdb.Set(ctx, s.key("agent", ticket), v, s.cfg.AgentTTL).Err(); err != nil {
		return fmt.Errorf("record agent: %w", err)
	}
	return nil
}

// AgentActive reports whether a human agent commented on the ticket (the
// worker reads the mark with its lock, in Acquire).
func (s *Store) AgentActive(ctx context.Context, ticket string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.key("agent", ticket)).Result()
	if err != nil {
		return false, fmt.Errorf("agent mark: %w", err)
	}
	return n > 0, nil
}

// unlockScript deletes the lock only when it is still ours.
const unlockScript = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`

// renewScript extends the lock only while it is still ours.
var renewScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`)

// Acquire implements triage.StateStore: SET NX of the lock, GET of the
// state and EXISTS of the agent mark in one pipeline (the keys share a
// hash tag, so a Cluster sends them to one node). The lock is renewed
// every third of its TTL while held, so a short TTL frees a ticket soon
// after its holder dies (SIGKILL, lost node) without expiring under a
// slow, live task.
func (s *Store) Acquire(ctx context.Context, ticket string, ttl time.Duration) (triage.Hold, bool, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return triage.Hold{}, false, err
	}
	token := hex.EncodeToString(b[:])
	lk := s.key("lock", ticket)
	pipe := s.rdb.Pipeline()
	lock := pipe.SetNX(ctx, lk, token, ttl)
	state := pipe.Get(ctx, s.key("state", ticket))
	agent := pipe.Exists(ctx, s.key("agent", ticket))
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return triage.Hold{}, false, fmt.Errorf("lock: %w", err)
	}
	if ok, err := lock.Result(); err != nil || !ok {
		return triage.Hold{}, false, err
	}
	h := triage.Hold{Agent: agent.Val() > 0}
	h.Release, h.Lost = s.holdLock(ticket, token, ttl)
	data, err := state.Bytes()
	switch {
	case errors.Is(err, redis.Nil):
	case err != nil:
		_ = h.Release(ctx, nil, nil)
		return triage.Hold{}, false, fmt.Errorf("load state: %w", err)
	default:
		if err := json.Unmarshal(data, &h.State); err != nil {
			_ = h.Release(ctx, nil, nil)
			return triage.Hold{}, false, fmt.Errorf("state of %s is not valid JSON: %w", ticket, err)
		}
		h.Found = true
	}
	return h, true, nil
}

// holdLock renews a ticket's lock taken with token until the returned release
// stops it; release saves the state and records the audit entry (each
// unless nil) and deletes the lock in one pipeline. Once that pipeline
// went through, release does nothing. The returned channel is closed when
// a renewal finds the lock is no longer ours; renewing then stops. A
// renewal that fails (Redis down, a timeout) is not a loss: the next one
// tells.
func (s *Store) holdLock(ticket, token string, ttl time.Duration) (func(context.Context, *triage.State, *triage.AuditEntry) error, <-chan struct{}) {
	lk := s.key("lock", ticket)
	stop := make(chan struct{})
	done := make(chan struct{})
	lost := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				rctx, cancel := context.WithTimeout(context.Background(), ttl/3)
				n, err := renewScript.Run(rctx, s.rdb, []string{lk}, token, ttl.Milliseconds()).Int64()
				cancel()
				if err == nil && n == 0 {
					close(lost)
					return
				}
			}
		}
	}()
	var mu sync.Mutex
	stopped, released := false, false
	return func(ctx context.Context, st *triage.State, e *triage.AuditEntry) error {
		mu.Lock()
		defer mu.Unlock()
		if released {
			return nil
		}
		if !stopped {
			close(stop)
			<-done
			stopped = true
		}
		pipe := s.rdb.Pipeline()
		if st != nil {
			data, err := json.Marshal(st)
			if err != nil {
				return err
			}
			pipe.Set(ctx, s.key("state", ticket), data, s.cfg.StateTTL)
		}
		if e != nil {
			if err := s.record(ctx, pipe, *e); err != nil {
				return err
			}
		}
		pipe.Eval(ctx, unlockScript, []string{lk}, token)
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("save state and unlock: %w", err)
		}
		released = true
		return nil
	}, lost
}

// Record records a decision on its own: one entry in the ticket's stream
// and one in the stream of all decisions, both bounded. The worker records
// its decisions through Hold.Release, in the round trip that saves the
// state.
func (s *Store) Record(ctx context.Context, e triage.AuditEntry) error {
	pipe := s.rdb.Pipeline()
	if err := s.record(ctx, pipe, e); err != nil {
		return err
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("audit %s: %w", e.Key, err)
	}
	return nil
}

func (s *Store) record(ctx context.Context, pipe redis.Pipeliner, e triage.AuditEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Key, err)
	}
	tk := s.key("audit", e.Key)
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: tk, MaxLen: s.cfg.AuditPerTicket, Approx: true, Values: []any{"entry", data}})
	pipe.Expire(ctx, tk, s.cfg.StateTTL)
	pipe.XAdd(ctx, &redis.XAddArgs{Stream: s.cfg.Prefix + "audit", MaxLen: s.cfg.AuditTotal, Approx: true, Values: []any{"key", e.Key, "entry", data}})
	return nil
}

// History returns a ticket's audit entries, oldest first.
func (s *Store) History(ctx context.Context, ticket string) ([]triage.AuditEntry, error) {
	msgs, err := s.rdb.XRange(ctx, s.key("audit", ticket), "-", "+").Result()
	if err != nil {
		return nil, fmt.Errorf("audit history of %s: %w", ticket, err)
	}
	out := make([]triage.AuditEntry, 0, len(msgs))
	for _, m := range msgs {
		raw, _ := m.Values["entry"].(string)
		var e triage.AuditEntry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, fmt.Errorf("audit entry %s of %s: %w", m.ID, ticket, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Revoke remembers a signed-out admin session until it would have expired
// (the admin page's Revocations). A session already expired needs nothing.
func (s *Store) Revoke(ctx context.Context, id string, until time.Time) error {
	ttl := time.Until(until)
	if ttl <= 0 {
		return nil
	}
	if err := s.rdb.Set(ctx, s.cfg.Prefix+"admin:revoked:"+id, 1, ttl).Err(); err != nil {
		return fmt.Errorf("revoke admin session: %w", err)
	}
	return nil
}

// Revoked reports whether an admin session was signed out
// (the admin page's Revocations).
func (s *Store) Revoked(ctx context.Context, id string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.cfg.Prefix+"admin:revoked:"+id).Result()
	if err != nil {
		return false, fmt.Errorf("admin session revocation: %w", err)
	}
	return n > 0, nil
}
