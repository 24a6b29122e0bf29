package worker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/worker"
)

// TestBusyTicketReturnsAtOnce: a task for a ticket another task holds gives
// its worker slot back at once with ErrBusy, a wait rather than a failure.
func TestBusyTicketReturnsAtOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx := context.Background()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-40", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	other, ok, err := h.store.Acquire(ctx, "HD-40", time.Minute)
	if err != nil || !ok {
		t.Fatalf("the other task's Acquire = %v, %v", ok, err)
	}
	t.Cleanup(func() { _ = other.Release(ctx, nil, nil) })
	task, err := worker.NewTriageTask(created(is, "d-40"))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.handler.ProcessTask(ctx, task) }()
	select {
	case err := <-done:
		if !errors.Is(err, worker.ErrBusy) || worker.IsFailure(err) {
			t.Errorf("ProcessTask of a busy ticket = %v (a failure: %v), want ErrBusy, not a failure", err, worker.IsFailure(err))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a task for a busy ticket kept its worker slot waiting for the lock")
	}
	if reads, writes := h.calls("HD-40"); reads+writes != 0 {
		t.Errorf("a busy task made %d Jira reads and %d writes", reads, writes)
	}
}

// busySignal reports each Acquire that finds the ticket locked.
type busySignal struct {
	triage.StateStore
	busy chan struct{}
}

func (b *busySignal) Acquire(ctx context.Context, key string, ttl time.Duration) (triage.Hold, bool, error) {
	hold, ok, err := b.StateStore.Acquire(ctx, key, ttl)
	if err == nil && !ok {
		select {
		case b.busy <- struct{}{}:
		default:
		}
	}
	return hold, ok, err
}

// TestBusyRetriesSpendNoRetry: asynq (v0.26.0, rdb.Retry) increments a
// task's retry count only for an error IsFailure calls a failure. A task
// allowed one retry is retried as long as the ticket is busy, and then
// does its work.
func TestBusyRetriesSpendNoRetry(t *testing.T) {
	t.Parallel()
	busy := &busySignal{busy: make(chan struct{}, 10)}
	h := newHarness(t, withStates(func(s triage.StateStore) triage.StateStore { busy.StateStore = s; return busy }))
	ctx := context.Background()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-41", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	other, ok, err := h.store.Acquire(ctx, "HD-41", time.Minute)
	if err != nil || !ok {
		t.Fatalf("the other task's Acquire = %v, %v", ok, err)
	}
	h.start()
	id := h.enqueue(created(is, "d-41"), asynq.MaxRetry(1))
	for i := range 2 {
		select {
		case <-busy.busy:
		case <-time.After(10 * time.Second):
			t.Fatalf("busy attempt %d did not come; logs:\n%s", i+1, h.logs.String())
		}
	}
	if err := other.Release(ctx, nil, nil); err != nil {
		t.Fatal(err)
	}
	h.wait(id)
	if n := len(h.botComments("HD-41")); n != 1 {
		t.Errorf("%d bot comments after two busy attempts with one retry allowed, want 1; logs:\n%s", n, h.logs.String())
	}
}

// cancelOnAcquire cancels the task's context while the lock is asked for,
// and finds the ticket locked.
type cancelOnAcquire struct {
	triage.StateStore
	cancel context.CancelFunc
}

func (c *cancelOnAcquire) Acquire(context.Context, string, time.Duration) (triage.Hold, bool, error) {
	c.cancel()
	return triage.Hold{}, false, nil
}

// TestCancelledContextIsNotBusy: a task whose context ends while it asks
// for the lock says so, and does not claim the ticket is busy (which
// asynq would retry as a wait).
func TestCancelledContextIsNotBusy(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	h := newHarness(t, withStates(func(s triage.StateStore) triage.StateStore { return &cancelOnAcquire{StateStore: s, cancel: cancel} }))
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-42", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	task, err := worker.NewTriageTask(created(is, "d-42"))
	if err != nil {
		t.Fatal(err)
	}
	err = h.handler.ProcessTask(ctx, task)
	if !errors.Is(err, context.Canceled) || errors.Is(err, worker.ErrBusy) {
		t.Errorf("ProcessTask with its context cancelled = %v, want context.Canceled and not ErrBusy", err)
	}
}

// loseLock hands the first hold a Lost channel the test closes.
type loseLock struct {
	triage.StateStore
	lost  chan struct{}
	given atomic.Bool
}

func (l *loseLock) Acquire(ctx context.Context, key string, ttl time.Duration) (triage.Hold, bool, error) {
	hold, ok, err := l.StateStore.Acquire(ctx, key, ttl)
	if ok && l.given.CompareAndSwap(false, true) {
		hold.Lost = l.lost
	}
	return hold, ok, err
}

// stallFirstWrite holds the first write until its context ends (or the
// test does), and reports why the context ended.
type stallFirstWrite struct {
	triage.Jira
	writing chan struct{}
	ended   chan error
	testEnd chan struct{}
	stalled atomic.Bool
}

func (s *stallFirstWrite) Write(ctx context.Context, key string, w triage.Write) error {
	if !s.stalled.CompareAndSwap(false, true) {
		return s.Jira.Write(ctx, key, w)
	}
	close(s.writing)
	select {
	case <-ctx.Done():
		s.ended <- context.Cause(ctx)
		return ctx.Err()
	case <-s.testEnd:
		return errors.New("the test ended")
	}
}

// TestLostLockCancelsTheTask: when the store reports the ticket's lock
// lost, the rest of the task runs on a cancelled context (cause
// ErrLockLost); the retry then does the work once.
func TestLostLockCancelsTheTask(t *testing.T) {
	t.Parallel()
	lose := &loseLock{lost: make(chan struct{})}
	stall := &stallFirstWrite{writing: make(chan struct{}), ended: make(chan error, 1), testEnd: make(chan struct{})}
	t.Cleanup(func() { close(stall.testEnd) })
	h := newHarness(t,
		withStates(func(s triage.StateStore) triage.StateStore { lose.StateStore = s; return lose }),
		withJira(func(j triage.Jira) triage.Jira { stall.Jira = j; return stall }))
	h.start()
	is := h.jira.AddIssue(jiratest.Issue{Key: "HD-43", Summary: "passkey", Description: "my passkey can no longer be used", Reporter: alice})
	id := h.enqueue(created(is, "d-43"))
	select {
	case <-stall.writing:
	case <-time.After(10 * time.Second):
		t.Fatalf("the task did not come to its write; logs:\n%s", h.logs.String())
	}
	close(lose.lost)
	select {
	case cause := <-stall.ended:
		if !errors.Is(cause, worker.ErrLockLost) {
			t.Errorf("the write's context ended with %v, want ErrLockLost", cause)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the task's context was not cancelled when its lock was lost")
	}
	h.wait(id)
	if n := len(h.botComments("HD-43")); n != 1 {
		t.Errorf("%d bot comments after a lost lock and a retry, want 1", n)
	}
}
