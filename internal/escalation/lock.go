package escalation

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultLockTTL is how long an admin action's lock lives without a
// renewal. The lock is renewed every third of it while the action runs, so
// a Jira call that waits out a long rate limit keeps it, and a process that
// dies frees it within this time.
const DefaultLockTTL = 30 * time.Second

// ErrLockLost ends an action whose lock could not be kept (Redis was
// unreachable for longer than the lock's lifetime, or the key was taken
// over): another action may be running, so this one stops.
var ErrLockLost = errors.New("the lock on this escalation was lost; the action stopped")

// Lua scripts that touch the lock only while it holds our token.
var (
	lockRenew = redis.NewScript(`if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call("PEXPIRE", KEYS[1], ARGV[2])`)
	lockFree = redis.NewScript(`if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call("DEL", KEYS[1])`)
)

// ownedLock is an escalation's lock, taken under a random token. A
// goroutine renews it until release; the context it hands out ends when
// the lock is lost, so the action stops rather than run unprotected.
type ownedLock struct {
	rdb   redis.UniversalClient
	key   string
	token string
	ttl   time.Duration

	cancel context.CancelCauseFunc
	quit   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

// lock takes the escalation's lock, or returns ErrBusy while another
// action holds it. The returned context is ctx, ended with ErrLockLost if
// the lock is lost; release (safe to call more than once) stops the
// renewal and deletes the lock if it is still ours.
func (s *Service) lock(ctx context.Context, id string) (context.Context, func(), error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", id, err)
	}
	l := &ownedLock{rdb: s.store.rdb, key: s.store.prefix + "esc:lock:" + id, token: hex.EncodeToString(raw[:]), ttl: s.cfg.LockTTL, quit: make(chan struct{})}
	ok, err := l.rdb.SetNX(ctx, l.key, l.token, l.ttl).Result()
	if err != nil {
		return nil, nil, fmt.Errorf("lock %s: %w", id, err)
	}
	if !ok {
		return nil, nil, ErrBusy
	}
	held, cancel := context.WithCancelCause(ctx)
	l.cancel = cancel
	l.wg.Add(1)
	go l.keep(held)
	return held, l.release, nil
}

// keep renews the lock every third of its lifetime. A renewal that finds
// another token (or none) loses the lock at once; failed renewals lose it
// once a whole lifetime has passed since the last good one.
func (l *ownedLock) keep(ctx context.Context) {
	defer l.wg.Done()
	every := max(l.ttl/3, time.Millisecond)
	tick := time.NewTicker(every)
	defer tick.Stop()
	renewed := time.Now()
	for {
		select {
		case <-l.quit:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, done := context.WithTimeout(context.WithoutCancel(ctx), every)
		n, err := lockRenew.Run(rctx, l.rdb, []string{l.key}, l.token, l.ttl.Milliseconds()).Int()
		done()
		switch {
		case err == nil && n == 1:
			renewed = time.Now()
		case err == nil, time.Since(renewed) >= l.ttl:
			l.cancel(ErrLockLost)
			return
		}
	}
}

func (l *ownedLock) release() {
	l.once.Do(func() {
		close(l.quit)
		l.wg.Wait()
		l.cancel(nil)
		ctx, done := context.WithTimeout(context.Background(), 5*time.Second)
		defer done()
		_ = lockFree.Run(ctx, l.rdb, []string{l.key}, l.token).Err()
	})
}
