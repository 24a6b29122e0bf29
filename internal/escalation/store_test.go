package escalation_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/worker"
)

func newStore(t *testing.T) *escalation.Store {
	t.Helper()
	url := os.Getenv("TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/14"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("no Redis at %s: %v", url, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		keys, _ := rdb.Keys(context.Background(), prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(context.Background(), keys...)
		}
		rdb.Close()
	})
	return escalation.New(rdb, prefix)
}

func TestCreateIsIdempotentUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	e := worker.Escalation{Key: "HD-1", Reason: "mfa-reset", CreatedAt: time.Now()}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.Create(context.Background(), e)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				created++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if created != 1 {
		t.Errorf("%d creations reported, want 1", created)
	}
	recs, err := s.List(context.Background(), escalation.StatusOpen)
	if err != nil || len(recs) != 1 || recs[0].ID != "HD-1:mfa-reset" || recs[0].Status != escalation.StatusOpen {
		t.Errorf("open = %+v, %v", recs, err)
	}
	// another reason for the same ticket is another record
	if ok, _ := s.Create(context.Background(), worker.Escalation{Key: "HD-1", Reason: "password-reset", CreatedAt: time.Now()}); !ok {
		t.Error("a second reason was not created")
	}
}
