package escalation

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	ID           string `json:"id"` // "<ticket key>:<reason>"
	Key          string `json:"key"`
	Link         string `json:"link,omitempty"`
	ReporterID   string `json:"reporter_id,omitempty"`
	ReporterName string `json:"reporter_name,omitempty"`
	// ReporterEmail is the reporter's e-mail when Jira gave it: the MFA
	// reset's user is prefilled with it.
	ReporterEmail   string                `json:"reporter_email,omitempty"`
	Reason          string                `json:"reason"`
	Categories      []string              `json:"categories"`
	Platform        string                `json:"platform"`
	Evidence        []classifier.Evidence `json:"evidence"`
	StepsSent       []triage.SentStep     `json:"steps_sent,omitempty"`
	ReporterReplies []string              `json:"reporter_replies,omitempty"`
	// Language is the ISO 639-1 code of the reporter's text; empty in
	// records made before it was recorded.
	Language string `json:"language,omitempty"`
	// Security marks a possible attack (reason security): admins see it
	// first, whatever the order. Records made before it existed have it
	// from their reason.
	Security  bool      `json:"security"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	History   []Action  `json:"history"`
}

// Action is one step in a record's history.
type Action struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Status string    `json:"status"`
	Note   string    `json:"note,omitempty"`
	// Reset, on the action that closed an MFA reset done in Entra ID, is
	// what was done there.
	Reset *ResetAudit `json:"reset,omitempty"`
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
		ID: e.Key + ":" + e.Reason, Key: e.Key, Link: e.Link, ReporterID: e.ReporterID, ReporterName: e.ReporterName, ReporterEmail: e.ReporterEmail,
		Reason: e.Reason, Categories: e.Categories, Platform: e.Platform, Evidence: e.Evidence,
		StepsSent: e.StepsSent, ReporterReplies: e.ReporterReplies, Language: e.Language,
		Security: e.Security || e.Reason == triage.ReasonSecurity, Status: StatusOpen, CreatedAt: e.CreatedAt.UTC(),
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
	recs, err := s.getMany(ctx, []string{id})
	if err != nil {
		return Record{}, false, err
	}
	r, ok := recs[id]
	return r, ok, nil
}

// getMany reads records with their status and history in one round trip;
// unknown ids are left out of the map.
func (s *Store) getMany(ctx context.Context, ids []string) (map[string]Record, error) {
	type cmds struct {
		rec, cur *redis.StringCmd
		hist     *redis.StringSliceCmd
	}
	pipe := s.rdb.Pipeline()
	all := make([]cmds, len(ids))
	for i, id := range ids {
		all[i] = cmds{pipe.Get(ctx, s.recKey(id)), pipe.Get(ctx, s.curKey(id)), pipe.LRange(ctx, s.histKey(id), 0, -1)}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("get escalations: %w", err)
	}
	out := make(map[string]Record, len(ids))
	for i, id := range ids {
		data, err := all[i].rec.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("get escalation %s: %w", id, err)
		}
		var r Record
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("escalation %s: %w", id, err)
		}
		r.Status = all[i].cur.Val()
		r.Security = r.Security || r.Reason == triage.ReasonSecurity
		r.History = []Action{}
		for _, h := range all[i].hist.Val() {
			var a Action
			if err := json.Unmarshal([]byte(h), &a); err != nil {
				return nil, fmt.Errorf("escalation %s history: %w", id, err)
			}
			r.History = append(r.History, a)
		}
		out[id] = r
	}
	return out, nil
}

// The orders of List. In every one, security escalations come first.
const (
	SortOldest = "oldest" // the default: the longest waiting first
	SortNewest = "newest"
	SortReason = "reason" // by reason, in the order of triage.Reasons, then oldest first
)

// Sorts lists the orders of List, the default first.
func Sorts() []string { return []string{SortOldest, SortNewest, SortReason} }

// MaxSearch bounds Filter.Search, in bytes.
const MaxSearch = 100

// Filter selects records for List.
type Filter struct {
	Status string // required
	Reason string // optional
	// MinAge keeps records at least this old (0: any).
	MinAge time.Duration
	// Search, when set, keeps the records whose ticket key, reporter name
	// or reporter id contains it, ignoring case.
	Search string
	// Sort is one of Sorts ("": oldest first). Security escalations come
	// first whatever the order.
	Sort string
	// Offset and Limit page the result (Limit 0: 50; at most 500).
	Offset, Limit int
}

// Page is one page of records, in the filter's order, with the total that
// matched.
type Page struct {
	Records []Record `json:"records"`
	Total   int      `json:"total"`
	Offset  int      `json:"offset"`
	Limit   int      `json:"limit"`
}

// listed is an id of the status index with what its id and score tell.
type listed struct {
	id, key, reason string
	at              float64
}

// List returns the records with a status, filtered, ordered (security
// first) and paged. Reason and key come from the ids ("<key>:<reason>"), so
// only a search by reporter reads records beyond the page.
func (s *Store) List(ctx context.Context, f Filter, now time.Time) (Page, error) {
	if !contains(Statuses(), f.Status) {
		return Page{}, fmt.Errorf("unknown status %q (one of %v)", f.Status, Statuses())
	}
	if f.Sort != "" && !contains(Sorts(), f.Sort) {
		return Page{}, fmt.Errorf("unknown order %q (one of %v)", f.Sort, Sorts())
	}
	if len(f.Search) > MaxSearch {
		return Page{}, fmt.Errorf("the search is longer than %d bytes", MaxSearch)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	f.Offset = max(f.Offset, 0)
	upTo := "+inf"
	if f.MinAge > 0 {
		upTo = fmt.Sprint(now.Add(-f.MinAge).UnixMilli())
	}
	zs, err := s.rdb.ZRangeByScoreWithScores(ctx, s.statusKey(f.Status), &redis.ZRangeBy{Min: "-inf", Max: upTo}).Result()
	if err != nil {
		return Page{}, fmt.Errorf("list escalations: %w", err)
	}
	var found []listed
	for _, z := range zs {
		id, _ := z.Member.(string)
		i := strings.LastIndexByte(id, ':')
		l := listed{id: id, key: id[:max(i, 0)], reason: id[i+1:], at: z.Score}
		if f.Reason == "" || l.reason == f.Reason {
			found = append(found, l)
		}
	}
	if q := strings.ToLower(strings.TrimSpace(f.Search)); q != "" {
		if found, err = s.search(ctx, found, q); err != nil {
			return Page{}, err
		}
	}
	sortListed(found, f.Sort)
	p := Page{Offset: f.Offset, Limit: f.Limit, Total: len(found), Records: []Record{}}
	var ids []string
	for _, l := range found[min(f.Offset, len(found)):min(f.Offset+f.Limit, len(found))] {
		ids = append(ids, l.id)
	}
	recs, err := s.getMany(ctx, ids)
	if err != nil {
		return Page{}, err
	}
	for _, id := range ids {
		if r, ok := recs[id]; ok {
			p.Records = append(p.Records, r)
		}
	}
	return p, nil
}

// search keeps the ids whose key, or whose record's reporter name or id,
// contains q (lower case).
func (s *Store) search(ctx context.Context, in []listed, q string) ([]listed, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(in))
	for i, l := range in {
		cmds[i] = pipe.Get(ctx, s.recKey(l.id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("search escalations: %w", err)
	}
	var out []listed
	for i, l := range in {
		var who struct {
			ID   string `json:"reporter_id"`
			Name string `json:"reporter_name"`
		}
		_ = json.Unmarshal([]byte(cmds[i].Val()), &who)
		for _, v := range []string{l.key, who.Name, who.ID} {
			if strings.Contains(strings.ToLower(v), q) {
				out = append(out, l)
				break
			}
		}
	}
	return out, nil
}

// sortListed orders ids: security first, then by the order asked for.
func sortListed(l []listed, order string) {
	rank := func(reason string) int {
		if i := slices.Index(triage.Reasons, reason); i >= 0 {
			return i
		}
		return len(triage.Reasons)
	}
	slices.SortStableFunc(l, func(a, b listed) int {
		as, bs := a.reason == triage.ReasonSecurity, b.reason == triage.ReasonSecurity
		if as != bs {
			if as {
				return -1
			}
			return 1
		}
		switch order {
		case SortNewest:
			return cmp.Compare(b.at, a.at)
		case SortReason:
			if c := cmp.Compare(rank(a.reason), rank(b.reason)); c != 0 {
				return c
			}
		}
		return cmp.Compare(a.at, b.at)
	})
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
// the status indexes, keeping its score there (its creation time, so every
// status lists by the escalation's age), atomically. With a third key it
// also stores there the new length of the history: a write that goes with
// the move is pending until it is deleted. It returns -1 for an unknown
// record, 0 when the status did not allow the move, else the new length of
// the history (the 1-based index of this action).
var moveScript = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if not cur then return -1 end
local ok = false
for i = 6, #ARGV do if ARGV[i] == cur then ok = true end end
if not ok then return 0 end
local score = redis.call("ZSCORE", ARGV[3] .. cur, ARGV[5]) or ARGV[4]
redis.call("SET", KEYS[1], ARGV[1])
local n = redis.call("RPUSH", KEYS[2], ARGV[2])
redis.call("ZREM", ARGV[3] .. cur, ARGV[5])
redis.call("ZADD", ARGV[3] .. ARGV[1], score, ARGV[5])
if KEYS[3] then redis.call("SET", KEYS[3], n) end
return n`)

// ErrNotFound is returned for an unknown escalation id.
var ErrNotFound = errors.New("no such escalation")

// Move changes a record's status if it is one of from, recording actor and
// note. changed is false (and the record as it is) when its status did not
// allow the move: a repeated action is a no-op.
func (s *Store) Move(ctx context.Context, id string, from []string, to, actor, note string, at time.Time) (Record, bool, error) {
	r, n, err := s.move(ctx, id, from, to, actor, note, at, "")
	return r, n > 0, err
}

// move is Move that also reports the history index of the action (0 when
// it did not move) and, when pending is set, stores it in that key in the
// same step.
func (s *Store) move(ctx context.Context, id string, from []string, to, actor, note string, at time.Time, pending string) (Record, int, error) {
	return s.moveAction(ctx, id, from, Action{At: at.UTC(), Actor: actor, Status: to, Note: note}, pending)
}

// moveAction is move with the whole history entry.
func (s *Store) moveAction(ctx context.Context, id string, from []string, a Action, pending string) (Record, int, error) {
	to, at := a.Status, a.At
	if !contains(Statuses(), to) {
		return Record{}, 0, fmt.Errorf("unknown status %q", to)
	}
	act, _ := json.Marshal(a)
	args := []any{to, act, s.prefix + "esc:status:", at.UnixMilli(), id}
	for _, f := range from {
		args = append(args, f)
	}
	keys := []string{s.curKey(id), s.histKey(id)}
	if pending != "" {
		keys = append(keys, pending)
	}
	code, err := moveScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return Record{}, 0, fmt.Errorf("move escalation %s: %w", id, err)
	}
	if code < 0 {
		return Record{}, 0, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	r, ok, err := s.Get(ctx, id)
	if err != nil {
		return Record{}, 0, err
	}
	if !ok {
		return Record{}, 0, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	return r, code, nil
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
