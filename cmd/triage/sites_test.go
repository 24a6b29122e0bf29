package main

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/internal/redistest"
)

// TestTwoSitesShareOneRedis: two deployments for two Jira sites, configured
// alike but for JIRA_BASE_URL, on one Redis: the same ticket key keeps a
// state, an escalation, an audit and a poll cursor per site, and the sites'
// tasks go to queues of their own.
func TestTwoSitesShareOneRedis(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	site := func(base string) *app {
		t.Helper()
		env := map[string]string{"REDIS_URL": redistest.URL(), "JIRA_BASE_URL": base}
		cfg, err := loadConfig("", func(k string) string { return env[k] })
		if err != nil {
			t.Fatal(err)
		}
		a, err := appFrom(cfg, io.Discard, false, false)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if keys, _ := a.rdb.Keys(context.Background(), a.cfg.RedisPrefix+"*").Result(); len(keys) > 0 {
				a.rdb.Del(context.Background(), keys...)
			}
			a.Close()
		})
		return a
	}
	run := time.Now().UnixNano()
	one, two := site(fmt.Sprintf("https://one-%d.atlassian.net", run)), site(fmt.Sprintf("https://jira.two-%d.example/jira/", run))
	if one.cfg.Queue == two.cfg.Queue || one.cfg.RedisPrefix == two.cfg.RedisPrefix {
		t.Errorf("the sites share queue %q / prefix %q and %q / %q", one.cfg.Queue, one.cfg.RedisPrefix, two.cfg.Queue, two.cfg.RedisPrefix)
	}
	const key = "HD-1"
	s1 := triage.State{Version: 1, Replied: []string{"passkey-invalid"}}
	s2 := triage.State{Version: 3, Escalated: triage.ReasonMFAReset}
	if err := one.store.Save(ctx, key, s1); err != nil {
		t.Fatal(err)
	}
	if err := two.store.Save(ctx, key, s2); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		a    *app
		want triage.State
	}{{one, s1}, {two, s2}} {
		got, found, err := tc.a.store.Load(ctx, key)
		if err != nil || !found {
			t.Fatalf("%s: state %v, %v", tc.a.cfg.JiraBaseURL, found, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: state (-want, +got):\n%s", tc.a.cfg.JiraBaseURL, diff)
		}
	}

	if _, err := two.esc.Create(ctx, triage.Escalation{Key: key, Reason: triage.ReasonMFAReset, CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := one.esc.Get(ctx, key+":"+triage.ReasonMFAReset); ok || err != nil {
		t.Errorf("site one sees site two's escalation of %s (%v)", key, err)
	}
	if err := one.store.Record(ctx, triage.AuditEntry{Key: key, Event: triage.EventPoll, Writes: []string{"one"}, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if hist, err := two.store.History(ctx, key); err != nil || len(hist) != 0 {
		t.Errorf("site two's audit of %s = %+v, %v; want none", key, hist, err)
	}
	at := time.UnixMilli(time.Now().UnixMilli()).UTC()
	if err := one.cursor().Set(ctx, at); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := two.cursor().Get(ctx); ok || err != nil {
		t.Errorf("site two reads site one's poll cursor (%v)", err)
	}
}
