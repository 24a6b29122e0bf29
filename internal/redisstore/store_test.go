package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/internal/redistest"
)

// newStore gives each test a key prefix of its own on the test Redis.
func newStore(t *testing.T, cfg redisstore.Config) (*redisstore.Store, *redis.Client) {
	t.Helper()
	rdb := redistest.Client(t)
	cfg.Prefix = redistest.Prefix(t, rdb)
	return redisstore.New(rdb, cfg), rdb
}

func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, redisstore.Config{})
	ctx := context.Background()
	if _, ok, err := s.Load(ctx, "HD-1"); ok || err != nil {
		t.Fatalf("Load of a new ticket = %v, %v", ok, err)
	}
	want := triage.State{Version: 2, Replied: []string{"passkey-invalid"}, RepliedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Deliveries: []string{"d1"}}
	if err := s.Save(ctx, "HD-1", want); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Load(ctx, "HD-1")
	if err != nil || !ok {
		t.Fatalf("Load = %v, %v", ok, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
	if has, _ := s.HasState(ctx, "HD-1"); !has {
		t.Error("HasState = false after Save")
	}
}

func TestLockIsExclusiveAndReleased(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, redisstore.Config{})
	ctx := context.Background()
	h, ok, err := s.Acquire(ctx, "HD-2", time.Minute)
	if err != nil || !ok {
		t.Fatalf("first Acquire = %v, %v", ok, err)
	}
	if _, ok, _ := s.Acquire(ctx, "HD-2", time.Minute); ok {
		t.Fatal("a second Acquire was granted while the first is held")
	}
	if err := h.Release(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	h2, ok, err := s.Acquire(ctx, "HD-2", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire after Release = %v, %v", ok, err)
	}
	// a second Release of the first hold must not free the new holder's lock
	if err := h.Release(ctx, &triage.State{Version: 9}, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Acquire(ctx, "HD-2", time.Minute); ok {
		t.Fatal("a stale hold's second Release freed another holder's lock")
	}
	if _, found, _ := s.Load(ctx, "HD-2"); found {
		t.Error("a stale hold's second Release saved a state")
	}
	if err := h2.Release(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
}

func TestAcquireReadsStateAndAgentAndReleaseSavesAndRecords(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, redisstore.Config{})
	ctx := context.Background()
	h, ok, err := s.Acquire(ctx, "HD-6", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	if diff := cmp.Diff(triage.Hold{}, h, cmpopts.IgnoreFields(triage.Hold{}, "Release", "Lost")); diff != "" {
		t.Errorf("hold of a new ticket (-want +got):\n%s", diff)
	}
	want := triage.State{Version: 2, Replied: []string{"passkey-invalid"}, Deliveries: []string{"d-1"}}
	entry := triage.AuditEntry{Key: "HD-6", TaskID: "t-1", Event: "jira:issue_created", Writes: []string{"public reply passkey-invalid"}}
	if err := h.Release(ctx, &want, &entry); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAgent(ctx, "HD-6", "acc-agent", time.Now()); err != nil {
		t.Fatal(err)
	}
	hist, err := s.History(ctx, "HD-6")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]triage.AuditEntry{entry}, hist); diff != "" {
		t.Errorf("audit after Release (-want +got):\n%s", diff)
	}
	h, ok, err = s.Acquire(ctx, "HD-6", time.Minute)
	if err != nil || !ok {
		t.Fatalf("Acquire after Release = %v, %v", ok, err)
	}
	defer h.Release(ctx, nil, nil)
	if diff := cmp.Diff(triage.Hold{State: want, Found: true, Agent: true}, h, cmpopts.IgnoreFields(triage.Hold{}, "Release", "Lost")); diff != "" {
		t.Errorf("hold after a save and an agent mark (-want +got):\n%s", diff)
	}
}

func TestAgentMark(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, redisstore.Config{})
	ctx := context.Background()
	if on, _ := s.AgentActive(ctx, "HD-3"); on {
		t.Fatal("agent active before any mark")
	}
	if err := s.RecordAgent(ctx, "HD-3", "acc-agent", time.Now()); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.AgentActive(ctx, "HD-3"); !on {
		t.Error("agent not active after RecordAgent")
	}
}

func TestAuditIsBounded(t *testing.T) {
	t.Parallel()
	s, rdb := newStore(t, redisstore.Config{AuditPerTicket: 5})
	ctx := context.Background()
	for i := 0; i < 400; i++ {
		if err := s.Record(ctx, triage.AuditEntry{Key: "HD-4", TaskID: "t", Event: "poll"}); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := s.History(ctx, "HD-4")
	if err != nil {
		t.Fatal(err)
	}
	// MAXLEN ~ trims in whole stream nodes (100 entries by default)
	if len(hist) == 0 || len(hist) > 200 {
		t.Errorf("%d entries kept of 400 with a bound of about 5", len(hist))
	}
	_ = rdb
}

func TestLockIsRenewedWhileHeld(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t, redisstore.Config{})
	ctx := context.Background()
	h, ok, err := s.Acquire(ctx, "HD-5", 300*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	time.Sleep(time.Second) // three TTLs: only renewal keeps it
	if _, ok, _ := s.Acquire(ctx, "HD-5", time.Minute); ok {
		t.Fatal("the lock expired while its holder was alive")
	}
	if err := h.Release(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if h2, ok, _ := s.Acquire(ctx, "HD-5", time.Minute); !ok {
		t.Error("the lock was not released")
	} else {
		_ = h2.Release(ctx, nil, nil)
	}
}

// TestLostLockIsSignalled: a renewal that finds another token on the lock
// closes Hold.Lost, and the hold's Release leaves the other lock alone.
func TestLostLockIsSignalled(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t, rdb)
	s := redisstore.New(rdb, redisstore.Config{Prefix: prefix})
	ctx := context.Background()
	h, ok, err := s.Acquire(ctx, "HD-7", 300*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	select {
	case <-h.Lost:
		t.Fatal("Lost closed while the lock is held")
	default:
	}
	// the lock expired and another task took it
	lk := prefix + "lock:{HD-7}"
	if err := rdb.Set(ctx, lk, "another task", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Lost:
	case <-time.After(5 * time.Second):
		t.Fatal("Lost was not closed after the lock went to another task")
	}
	if err := h.Release(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := rdb.Get(ctx, lk).Result(); err != nil || got != "another task" {
		t.Errorf("the other task's lock after the lost hold's Release = %q, %v", got, err)
	}
}

// failScripts fails every script call (the lock's renewal) while on is set,
// and reports each script call's outcome.
type failScripts struct {
	on    atomic.Bool
	calls chan error
}

func (f *failScripts) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f *failScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (f *failScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if n := cmd.Name(); n != "evalsha" && n != "eval" {
			return next(ctx, cmd)
		}
		var err error
		if f.on.Load() {
			err = errors.New("simulated Redis error")
			cmd.SetErr(err)
		} else {
			err = next(ctx, cmd)
		}
		select {
		case f.calls <- err:
		default:
		}
		return err
	}
}

// TestRenewalErrorIsNotALoss: a renewal that fails (Redis unreachable) says
// nothing about who holds the lock: Lost stays open and renewing goes on.
func TestRenewalErrorIsNotALoss(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t, rdb)
	f := &failScripts{calls: make(chan error, 10)}
	f.on.Store(true)
	rdb.AddHook(f)
	s := redisstore.New(rdb, redisstore.Config{Prefix: prefix})
	ctx := context.Background()
	const ttl = 1500 * time.Millisecond
	h, ok, err := s.Acquire(ctx, "HD-8", ttl)
	if err != nil || !ok {
		t.Fatalf("Acquire = %v, %v", ok, err)
	}
	defer h.Release(ctx, nil, nil)
	next := func(what string) error {
		t.Helper()
		select {
		case err := <-f.calls:
			return err
		case <-time.After(5 * time.Second):
			t.Fatalf("no %s within 5s: renewing stopped", what)
			return nil
		}
	}
	for i := range 2 {
		if err := next(fmt.Sprintf("renewal %d while Redis fails", i+1)); err == nil {
			t.Fatalf("renewal %d did not fail", i+1)
		}
	}
	select {
	case <-h.Lost:
		t.Fatal("Lost closed after renewals that failed with a Redis error")
	default:
	}
	// Redis answers again; the lock is still ours (extended here so that
	// the failed renewals cannot have let it expire).
	lk := prefix + "lock:{HD-8}"
	if err := rdb.PExpire(ctx, lk, time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	f.on.Store(false)
	for {
		if err := next("renewal after Redis came back"); err == nil {
			break
		}
	}
	if ttlLeft, err := rdb.PTTL(ctx, lk).Result(); err != nil || ttlLeft > ttl {
		t.Errorf("lock TTL after a renewal = %v, %v; want it renewed to at most %v", ttlLeft, err, ttl)
	}
	select {
	case <-h.Lost:
		t.Error("Lost closed although the lock is still ours")
	default:
	}
}

func TestSiteID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, id, prefix string }{
		{"https://Example.atlassian.net", "example.atlassian.net", "triage:example.atlassian.net:"},
		{"https://example.atlassian.net/", "example.atlassian.net", "triage:example.atlassian.net:"},
		{"https://jira.example.com/jira/", "jira.example.com/jira", "triage:jira.example.com/jira:"},
		{"http://127.0.0.1:8081", "127.0.0.1:8081", "triage:127.0.0.1:8081:"},
		{"https://jira.example.com/a%7Bb%7D", "jira.example.com/a%7Bb%7D", "triage:jira.example.com/a%7Bb%7D:"},
		{"", "", "triage:"},
		{"not a url", "", "triage:"},
	} {
		if got := redisstore.SiteID(tc.url); got != tc.id {
			t.Errorf("SiteID(%q) = %q, want %q", tc.url, got, tc.id)
		}
		if got := redisstore.SitePrefix(tc.url); got != tc.prefix {
			t.Errorf("SitePrefix(%q) = %q, want %q", tc.url, got, tc.prefix)
		}
	}
}
