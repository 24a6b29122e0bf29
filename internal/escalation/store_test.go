package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/redistest"
)

func newStore(t *testing.T) *escalation.Store {
	t.Helper()
	rdb := redistest.Client(t)
	return escalation.New(rdb, redistest.Prefix(t, rdb))
}

func TestCreateIsIdempotentUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	e := triage.Escalation{Key: "HD-1", Reason: "mfa-reset", CreatedAt: time.Now()}
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
	page, err := s.List(context.Background(), escalation.Filter{Status: escalation.StatusOpen}, time.Now())
	recs := page.Records
	if err != nil || len(recs) != 1 || recs[0].ID != "HD-1:mfa-reset" || recs[0].Status != escalation.StatusOpen {
		t.Errorf("open = %+v, %v", recs, err)
	}
	// another reason for the same ticket is another record
	if ok, _ := s.Create(context.Background(), triage.Escalation{Key: "HD-1", Reason: "password-reset", CreatedAt: time.Now()}); !ok {
		t.Error("a second reason was not created")
	}
}

func TestStatusMachine(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	now := time.Now()
	if _, err := s.Create(ctx, triage.Escalation{Key: "HD-2", Reason: "mfa-reset", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	id := "HD-2:mfa-reset"
	steps := []struct {
		from        []string
		to          string
		wantChanged bool
	}{
		{[]string{escalation.StatusOpen}, escalation.StatusAcknowledged, true},
		{[]string{escalation.StatusOpen}, escalation.StatusAcknowledged, false}, // not open any more
		{[]string{escalation.StatusOpen, escalation.StatusAcknowledged}, escalation.StatusDone, true},
		{[]string{escalation.StatusOpen, escalation.StatusAcknowledged}, escalation.StatusDone, false}, // a second done
	}
	for i, st := range steps {
		_, changed, err := s.Move(ctx, id, st.from, st.to, "admin@example.com", "", now.Add(time.Duration(i)*time.Second))
		if err != nil || changed != st.wantChanged {
			t.Fatalf("step %d: changed=%v err=%v, want changed=%v", i, changed, err, st.wantChanged)
		}
	}
	r, _, _ := s.Get(ctx, id)
	var hist []string
	for _, a := range r.History {
		hist = append(hist, a.Status+" by "+a.Actor)
	}
	want := []string{"open by triage", "acknowledged by admin@example.com", "done by admin@example.com"}
	if r.Status != escalation.StatusDone || len(hist) != 3 || hist[0] != want[0] || hist[1] != want[1] || hist[2] != want[2] {
		t.Errorf("record = %s, history %v; want done, %v", r.Status, hist, want)
	}
	counts, _ := s.Counts(ctx)
	if counts[escalation.StatusDone] != 1 || counts[escalation.StatusOpen] != 0 || counts[escalation.StatusAcknowledged] != 0 {
		t.Errorf("counts = %v", counts)
	}
	if _, _, err := s.Move(ctx, "HD-404:mfa-reset", []string{"open"}, "done", "a", "", now); !errors.Is(err, escalation.ErrNotFound) {
		t.Errorf("moving an unknown escalation: %v", err)
	}
}

func TestListFiltersAndPages(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	now := time.Now()
	for i := 0; i < 7; i++ {
		reason := "mfa-reset"
		if i%2 == 1 {
			reason = "password-reset"
		}
		if _, err := s.Create(ctx, triage.Escalation{Key: fmt.Sprintf("HD-%d", 10+i), Reason: reason, CreatedAt: now.Add(-time.Duration(7-i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.List(ctx, escalation.Filter{Status: "open", Limit: 3}, now)
	if err != nil || p.Total != 7 || len(p.Records) != 3 || p.Records[0].Key != "HD-10" {
		t.Fatalf("first page = %+v, %v (oldest first)", p, err)
	}
	p, _ = s.List(ctx, escalation.Filter{Status: "open", Offset: 6, Limit: 3}, now)
	if len(p.Records) != 1 || p.Records[0].Key != "HD-16" {
		t.Errorf("last page = %+v", p.Records)
	}
	p, _ = s.List(ctx, escalation.Filter{Status: "open", Reason: "password-reset"}, now)
	if p.Total != 3 {
		t.Errorf("password-reset filter: %d, want 3", p.Total)
	}
	p, _ = s.List(ctx, escalation.Filter{Status: "open", MinAge: 5 * time.Hour}, now)
	if p.Total != 3 {
		t.Errorf("older than 5h: %d, want 3", p.Total)
	}
	if _, err := s.List(ctx, escalation.Filter{Status: "bogus"}, now); err == nil {
		t.Error("an unknown status was accepted")
	}
}
