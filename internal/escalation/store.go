package escalation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/classifier"
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
	StepsSent       []triage.SentStep     `json:"steps_sent,omitempty"`
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

var _ triage.EscalationStore = (*Store)(nil)

// New wraps a go-redis client; prefix defaults to "triage:".
func New(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "triage:"
	}
	return &Store{rdb: rdb, prefix: prefix}
}

func (s *Store) recKey(id string) string        { return s.prefix + "esc:rec:" + id }
func (s *Store) curKey(id string) string        { return s.prefix + "esc:cur:" + id }
func (s *Store) histKey(id string) string       { return s.prefix + "esc:hist:" + id }
func (s *Store) statusKey(status string) string { return s.prefix + "esc:status:" + status }

// createScript stores a record only when its id is new, with its status
// and first history entry, and indexes it as open by age, atomically. The
// record itself never changes; status and history live beside it.
var createScript = redis.NewScript(`
if redis.call("SET", KEYS[1], ARGV[1], "NX") then
  redis.call("SET", KEYS[3], "open")
  redis.call("RPUSH", KEYS[4], ARGV[4])
  redis.call("ZADD", KEYS[2], ARGV[2], ARGV[3])
  return 1
end
return 0`)

// Create implements triage.EscalationStore: one record per ticket and
// reason; a repeat returns created=false and changes nothing.
func (s *Store) Create(ctx context.Context, e triage.Escalation) (bool, error) {
	r := Record{
		ID: e.Key + ":" + e.Reason, Key: e.Key, Link: e.Link, ReporterID: e.ReporterID, ReporterName: e.ReporterName,
		Reason: e.Reason, Categories: e.Categories, Platform: e.Platform, Evidence: e.Evidence,
		StepsSent: e.StepsSent, ReporterReplies: e.ReporterReplies, Status: StatusOpen, CreatedAt: e.CreatedAt.UTC(),
		History: []Action{{At: e.CreatedAt.UTC(), Actor: "triage", Status: StatusOpen, Note: "escalated by the bot"}},
	}
	if r.Categories == nil {
		r.Categories = []string{}
	}
	hist, _ := json.Marshal(r.History[0])
	r.History, r.Status = nil, ""
	data, err := json.Marshal(r)
	if err != nil {
		return false, err
	}
	n, err := createScript.Run(ctx, s.rdb, []string{s.recKey(r.ID), s.statusKey(StatusOpen), s.curKey(r.ID), s.histKey(r.ID)}, data, r.CreatedAt.UnixMilli(), r.ID, hist).Int()
	if err != nil {
		return false, fmt.Errorf("create escalation %s: %w", r.ID, err)
	}
	return n == 1, nil
}

// Statuses lists the statuses in their order.
func Statuses() []string {
	return []string{StatusOpen, StatusAcknowledged, StatusDone, StatusReturned}
}

// Get reads a record with its status and history.
func (s *Store) Get(ctx context.Context, id string) (Record, bool, error) {
	pipe := s.rdb.Pipeline()
	recCmd := pipe.Get(ctx, s.recKey(id))
	curCmd := pipe.Get(ctx, s.curKey(id))
	histCmd := pipe.LRange(ctx, s.histKey(id), 0, -1)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Record{}, false, fmt.Errorf("get escalation %s: %w", id, err)
	}
	data, err := recCmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("get escalation %s: %w", id, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return Record{}, false, fmt.Errorf("escalation %s: %w", id, err)
	}
	r.Status = curCmd.Val()
	r.History = []Action{}
	for _, h := range histCmd.Val() {
		var a Action
		if err := json.Unmarshal([]byte(h), &a); err != nil {
			return Record{}, false, fmt.Errorf("escalation %s history: %w", id, err)
		}
		r.History = append(r.History, a)
	}
	return r, true, nil
}

// Filter selects records for List.
type Filter struct {
	Status string // required
	Reason string // optional
	// MinAge keeps records at least this old (0: any).
	MinAge time.Duration
	// Offset and Limit page the result (Limit 0: 50; at most 500).
	Offset, Limit int
}

// Page is one page of records, oldest first, with the total that matched.
type Page struct {
	Records []Record `json:"records"`
	Total   int      `json:"total"`
	Offset  int      `json:"offset"`
	Limit   int      `json:"limit"`
}

// List returns the records with a status, oldest first, filtered and
// paged.
func (s *Store) List(ctx context.Context, f Filter, now time.Time) (Page, error) {
	if !contains(Statuses(), f.Status) {
		return Page{}, fmt.Errorf("unknown status %q (one of %v)", f.Status, Statuses())
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	f.Offset = max(f.Offset, 0)
	max := "+inf"
	if f.MinAge > 0 {
		max = fmt.Sprint(now.Add(-f.MinAge).UnixMilli())
	}
	ids, err := s.rdb.ZRangeByScore(ctx, s.statusKey(f.Status), &redis.ZRangeBy{Min: "-inf", Max: max}).Result()
	if err != nil {
		return Page{}, fmt.Errorf("list escalations: %w", err)
	}
	p := Page{Offset: f.Offset, Limit: f.Limit, Records: []Record{}}
	for _, id := range ids {
		r, ok, err := s.Get(ctx, id)
		if err != nil {
			return Page{}, err
		}
		if !ok || f.Reason != "" && r.Reason != f.Reason {
			continue
		}
		if p.Total >= f.Offset && len(p.Records) < f.Limit {
			p.Records = append(p.Records, r)
		}
		p.Total++
	}
	return p, nil
}

// Counts returns how many records each status has.
func (s *Store) Counts(ctx context.Context) (map[string]int, error) {
	pipe := s.rdb.Pipeline()
	cmds := map[string]*redis.IntCmd{}
	for _, st := range Statuses() {
		cmds[st] = pipe.ZCard(ctx, s.statusKey(st))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("count escalations: %w", err)
	}
	out := map[string]int{}
	for st, c := range cmds {
		out[st] = int(c.Val())
	}
	return out, nil
}

// moveScript changes a record's status when its current status is one of
// the allowed ones, appends the action to its history and moves it between
// the status indexes, atomically. It returns -1 for an unknown record, 0
// when the status did not allow the move, 1 when it moved.
var moveScript = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if not cur then return -1 end
local ok = false
for i = 6, #ARGV do if ARGV[i] == cur then ok = true end end
if not ok then return 0 end
redis.call("SET", KEYS[1], ARGV[1])
redis.call("RPUSH", KEYS[2], ARGV[2])
redis.call("ZREM", ARGV[3] .. cur, ARGV[5])
redis.call("ZADD", ARGV[3] .. ARGV[1], ARGV[4], ARGV[5])
return 1`)

// ErrNotFound is returned for an unknown escalation id.
var ErrNotFound = errors.New("no such escalation")

// Move changes a record's status if it is one of from, recording actor and
// note. changed is false (and the record as it is) when its status did not
// allow the move: a repeated action is a no-op.
func (s *Store) Move(ctx context.Context, id string, from []string, to, actor, note string, at time.Time) (Record, bool, error) {
	if !contains(Statuses(), to) {
		return Record{}, false, fmt.Errorf("unknown status %q", to)
	}
	act, _ := json.Marshal(Action{At: at.UTC(), Actor: actor, Status: to, Note: note})
	args := []any{to, act, s.prefix + "esc:status:", at.UnixMilli(), id}
	for _, f := range from {
		args = append(args, f)
	}
	code, err := moveScript.Run(ctx, s.rdb, []string{s.curKey(id), s.histKey(id)}, args...).Int()
	if err != nil {
		return Record{}, false, fmt.Errorf("move escalation %s: %w", id, err)
	}
	if code < 0 {
		return Record{}, false, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	r, ok, err := s.Get(ctx, id)
	if err != nil {
		return Record{}, false, err
	}
	if !ok {
		return Record{}, false, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return r, code == 1, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// OpenStats counts the open escalations by reason (read from their ids,
// "<key>:<reason>") and returns the oldest's creation time.
func (s *Store) OpenStats(ctx context.Context) (map[string]int, time.Time, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.statusKey(StatusOpen), 0, -1).Result()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("open escalations: %w", err)
	}
	by := map[string]int{}
	var oldest time.Time
	for i, z := range zs {
		id, _ := z.Member.(string)
		reason := id[strings.LastIndexByte(id, ':')+1:]
		by[reason]++
		if i == 0 {
			oldest = time.UnixMilli(int64(z.Score))
		}
	}
	return by, oldest, nil
}
