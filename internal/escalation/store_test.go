package escalation_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/redis/go-redis/v9"

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

func TestListSecurityFirstSearchAndSort(t *testing.T) {
	t.Parallel()
	s := newStore(t)
	ctx := context.Background()
	now := time.Now()
	seed := []struct {
		key, reason, reporter string
		age                   time.Duration
	}{
		{"HD-1", triage.ReasonMFAReset, "Alice Reporter", 5 * time.Hour},
		{"HD-2", triage.ReasonPasswordReset, "Bob Builder", 4 * time.Hour},
		{"HD-3", triage.ReasonSecurity, "Chloé Dupont", time.Hour},
		{"HD-4", triage.ReasonFollowupTimeout, "Alice Reporter", 3 * time.Hour},
		{"HD-5", triage.ReasonSecurity, "Dan", 2 * time.Hour},
	}
	for _, e := range seed {
		if _, err := s.Create(ctx, triage.Escalation{Key: e.key, Reason: e.reason, ReporterName: e.reporter, ReporterID: "acc-" + e.key, CreatedAt: now.Add(-e.age)}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(f escalation.Filter) []string {
		t.Helper()
		f.Status = escalation.StatusOpen
		p, err := s.List(ctx, f, now)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range p.Records {
			out = append(out, r.Key)
		}
		return out
	}
	tests := []struct {
		name string
		f    escalation.Filter
		want []string
	}{
		{"oldest first, security above all", escalation.Filter{}, []string{"HD-5", "HD-3", "HD-1", "HD-2", "HD-4"}},
		{"newest first, security above all", escalation.Filter{Sort: escalation.SortNewest}, []string{"HD-3", "HD-5", "HD-4", "HD-2", "HD-1"}},
		{"by reason", escalation.Filter{Sort: escalation.SortReason}, []string{"HD-5", "HD-3", "HD-1", "HD-2", "HD-4"}},
		{"security only", escalation.Filter{Reason: triage.ReasonSecurity}, []string{"HD-5", "HD-3"}},
		{"search a reporter, any case", escalation.Filter{Search: "alice"}, []string{"HD-1", "HD-4"}},
		{"search a key", escalation.Filter{Search: "hd-2"}, []string{"HD-2"}},
		{"search a reporter id", escalation.Filter{Search: "acc-HD-3"}, []string{"HD-3"}},
		{"search with accents", escalation.Filter{Search: "Chloé"}, []string{"HD-3"}},
		{"paged, security still first", escalation.Filter{Limit: 1}, []string{"HD-5"}},
	}
	for _, tt := range tests {
		if got := keys(tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	r, _, _ := s.Get(ctx, "HD-3:security")
	if !r.Security {
		t.Error("a security escalation is not marked Security")
	}
	if _, err := s.List(ctx, escalation.Filter{Status: "open", Sort: "random"}, now); err == nil {
		t.Error("an unknown order was accepted")
	}
	// a move keeps the escalation's age: the done list is by age too
	for _, id := range []string{"HD-1:mfa-reset", "HD-2:password-reset"} {
		if _, _, err := s.Move(ctx, id, []string{"open"}, "done", "a", "", now.Add(-time.Duration(len(id))*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	p, _ := s.List(ctx, escalation.Filter{Status: escalation.StatusDone, MinAge: 270 * time.Minute}, now)
	if p.Total != 1 || p.Records[0].Key != "HD-1" {
		t.Errorf("done, at least 4h30m old: %+v", p.Records)
	}
}

// TestOldRecordsStillLoad: a record written before the language and
// security fields existed loads, with Security from its reason.
func TestOldRecordsStillLoad(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	prefix := redistest.Prefix(t, rdb)
	s := escalation.New(rdb, prefix)
	ctx := context.Background()
	old := `{"id":"HD-1:security","key":"HD-1","reason":"security","categories":[],"platform":"ios","evidence":null,"created_at":"2025-01-02T03:04:05Z"}`
	for k, v := range map[string]string{"esc:rec:HD-1:security": old, "esc:cur:HD-1:security": "open"} {
		if err := rdb.Set(ctx, prefix+k, v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	rdb.ZAdd(ctx, prefix+"esc:status:open", redis.Z{Score: 1735787045000, Member: "HD-1:security"})
	r, ok, err := s.Get(ctx, "HD-1:security")
	if err != nil || !ok || r.Language != "" || !r.Security || r.Platform != "ios" {
		t.Errorf("old record: %+v %v %v", r, ok, err)
	}
}
