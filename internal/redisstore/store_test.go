package redisstore_test

import (
	"context"
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
	if diff := cmp.Diff(triage.Hold{}, h, cmpopts.IgnoreFields(triage.Hold{}, "Release")); diff != "" {
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
	if diff := cmp.Diff(triage.Hold{State: want, Found: true, Agent: true}, h, cmpopts.IgnoreFields(triage.Hold{}, "Release")); diff != "" {
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
