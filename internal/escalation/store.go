// Package escalation keeps the queue of escalations admins review, in Redis
// (go-redis v9): one record per ticket and reason, created idempotently
// whatever retries happen, indexed by status and age.
//
// The worker creates records through worker.EscalationStore; the admin
// page, JSON API and CLI (a later issue) read and move them through their
// statuses.
package escalation

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/worker"
)

// Statuses of an escalation.
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusDone         = "done"
	StatusReturned     = "returned"
)

// Record is one escalation.
type Record struct {
	ID              string                `json:"id"` // "<ticket key>:<reason>"
	Key             string                `json:"key"`
	Link            string                `json:"link,omitempty"`
	ReporterID      string                `json:"reporter_id,omitempty"`
	ReporterName    string                `json:"reporter_name,omitempty"`
	Reason          string                `json:"reason"`
	Categories      []string              `json:"categories"`
	Platform        string                `json:"platform"`
	Evidence        []classifier.Evidence `json:"evidence"`
	StepsSent       []worker.SentStep     `json:"steps_sent,omitempty"`
	ReporterReplies []string              `json:"reporter_replies,omitempty"`
	Status          string                `json:"status"`
	CreatedAt       time.Time             `json:"created_at"`
	History         []Action              `json:"history"`
}

// Action is one step in a record's history.
type Action struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Status string    `json:"status"`
	Note   string    `json:"note,omitempty"`
}

// Store is the Redis escalation store.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ worker.EscalationStore = (*Store)(nil)

// New wraps a go-redis client; prefix defaults to "triage:".
func New(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "triage:"
	}
	return &Store{rdb: rdb, prefix: prefix}
}

func (s *Store) recKey(id string) string        { return s.prefix + "esc:rec:" + id }
func (s *Store) statusKey(status string) string { return s.prefix + "esc:status:" + status }

// createScript stores a record only when its id is new, and indexes it as
// open by age, atomically.
var createScript = redis.NewScript(`
if redis.call("SET", KEYS[1], ARGV[1], "NX") then
  redis.call("ZADD", KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0`)

// Create implements worker.EscalationStore: one record per ticket and
// reason; a repeat returns created=false and changes nothing.
func (s *Store) Create(ctx context.Context, e worker.Escalation) (bool, error) {
	r := Record{
		ID: e.Key + ":" + e.Reason, Key: e.Key, Link: e.Link, ReporterID: e.ReporterID, ReporterName: e.ReporterName,
		Reason: e.Reason, Categories: e.Categories, Platform: e.Platform, Evidence: e.Evidence,
		StepsSent: e.StepsSent, ReporterReplies: e.ReporterReplies, Status: StatusOpen, CreatedAt: e.CreatedAt.UTC(),
		History: []Action{{At: e.CreatedAt.UTC(), Actor: "triage", Status: StatusOpen, Note: "escalated by the bot"}},
	}
	if r.Categories == nil {
		r.Categories = []string{}
	}
	data, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	n, err := createScript.Run(ctx, s.rdb, []string{s.recKey(r.ID), s.statusKey(StatusOpen)}, data, r.CreatedAt.UnixMilli(), r.ID).Int()
	if err != nil {
		return false, fmt.Errorf("create escalation %s: %w", r.ID, err)
	}
	return n == 1, nil
}

// Get reads a record.
func (s *Store) Get(ctx context.Context, id string) (Record, bool, error) {
	data, err := s.rdb.Get(ctx, s.recKey(id)).Bytes()
	if err == redis.Nil {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("get escalation %s: %w", id, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, false, fmt.Errorf("escalation %s: %w", id, err)
	}
	return r, true, nil
}

// List returns the records with a status, oldest first.
func (s *Store) List(ctx context.Context, status string) ([]Record, error) {
	ids, err := s.rdb.ZRange(ctx, s.statusKey(status), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("list escalations: %w", err)
	}
	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		r, ok, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}
