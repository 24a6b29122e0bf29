package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/mfatriage/triage"

	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/classifier"
)

// FeedbackConfig bounds what is kept for triage feedback export. Zero
// values are defaults.
type FeedbackConfig struct {
	// TTL is how long a ticket's text and outcome are kept after they were
	// last written. Default 30 days.
	TTL time.Duration
	// MaxBytes caps one ticket's kept text (its JSON); longer texts are
	// cut, the summary first kept whole. Default 64 KiB.
	MaxBytes int
	// MaxTickets bounds the index of tickets with an outcome (the oldest
	// go first). Default 100,000.
	MaxTickets int64
}

func (c FeedbackConfig) withDefaults() FeedbackConfig {
	if c.TTL <= 0 {
		c.TTL = 30 * 24 * time.Hour
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = 64 << 10
	}
	if c.MaxTickets <= 0 {
		c.MaxTickets = 100_000
	}
	return c
}

var _ triage.FeedbackRecorder = (*Store)(nil)
var _ triage.AuditRecorder = (*Store)(nil)

func (s *Store) feedbackIndex() string { return s.cfg.Prefix + "feedback:index" }

// KeepText implements triage.FeedbackRecorder: the ticket's text as the
// classifier read it, capped at FeedbackConfig.MaxBytes, for FeedbackConfig.TTL.
func (s *Store) KeepText(ctx context.Context, ticket string, t classifier.Ticket) error {
	cfg := s.cfg.Feedback.withDefaults()
	data, err := capTicket(t, cfg.MaxBytes)
	if err != nil {
		return fmt.Errorf("keep the text of %s: %w", ticket, err)
	}
	if err := s.rdb.Set(ctx, s.key("feedback-text", ticket), data, cfg.TTL).Err(); err != nil {
		return fmt.Errorf("keep the text of %s: %w", ticket, err)
	}
	return nil
}

// RecordFeedback implements triage.FeedbackRecorder: the ticket's latest
// outcome, and its place in the index the export reads. The ticket's text
// is kept as long as its outcome.
func (s *Store) RecordFeedback(ctx context.Context, f triage.Feedback) error {
	cfg := s.cfg.Feedback.withDefaults()
	data, err := json.Marshal(f)
	if err != nil {
		return fmt.Errorf("feedback of %s: %w", f.Key, err)
	}
	idx := s.feedbackIndex()
	pipe := s.rdb.Pipeline()
	pipe.Set(ctx, s.key("feedback", f.Key), data, cfg.TTL)
	pipe.Expire(ctx, s.key("feedback-text", f.Key), cfg.TTL)
	pipe.ZAdd(ctx, idx, redis.Z{Score: float64(f.At.UnixMilli()), Member: f.Key})
	pipe.ZRemRangeByScore(ctx, idx, "-inf", "("+strconv.FormatInt(f.At.Add(-cfg.TTL).UnixMilli(), 10))
	pipe.ZRemRangeByRank(ctx, idx, 0, -cfg.MaxTickets-1)
	pipe.Expire(ctx, idx, cfg.TTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("feedback of %s: %w", f.Key, err)
	}
	return nil
}

// FeedbackTicket is one ticket of the feedback export: its latest outcome
// and its text as it was triaged (nil when it is no longer kept).
type FeedbackTicket struct {
	Feedback triage.Feedback
	Ticket   *classifier.Ticket
}

// FeedbackSince returns the tickets whose latest outcome came at or after
// since, oldest outcome first.
func (s *Store) FeedbackSince(ctx context.Context, since time.Time) ([]FeedbackTicket, error) {
	keys, err := s.rdb.ZRangeByScore(ctx, s.feedbackIndex(), &redis.ZRangeBy{Min: strconv.FormatInt(since.UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("feedback index: %w", err)
	}
	var out []FeedbackTicket
	const batch = 200
	for start := 0; start < len(keys); start += batch {
		part := keys[start:min(start+batch, len(keys))]
		pipe := s.rdb.Pipeline()
		fbs := make([]*redis.StringCmd, len(part))
		texts := make([]*redis.StringCmd, len(part))
		for i, k := range part {
			fbs[i] = pipe.Get(ctx, s.key("feedback", k))
			texts[i] = pipe.Get(ctx, s.key("feedback-text", k))
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("feedback: %w", err)
		}
		for i, k := range part {
			raw, err := fbs[i].Bytes()
			if errors.Is(err, redis.Nil) {
				continue // expired since the index was read
			}
			var ft FeedbackTicket
			if err := json.Unmarshal(raw, &ft.Feedback); err != nil {
				return nil, fmt.Errorf("feedback of %s: %w", k, err)
			}
			if raw, err := texts[i].Bytes(); err == nil {
				var t classifier.Ticket
				if err := json.Unmarshal(raw, &t); err != nil {
					return nil, fmt.Errorf("kept text of %s: %w", k, err)
				}
				ft.Ticket = &t
			}
			out = append(out, ft)
		}
	}
	return out, nil
}

// capTicket encodes t within max bytes: when it is longer, the
// description and the comments are cut to equal shares of what the
// summary leaves (the summary to 1 KiB first).
func capTicket(t classifier.Ticket, max int) ([]byte, error) {
	data, err := json.Marshal(t)
	if err != nil || len(data) <= max {
		return data, err
	}
	t.Summary = cut(t.Summary, 1<<10)
	t.Comments = append([]classifier.Comment(nil), t.Comments...)
	for share := max / (2 + len(t.Comments)); share > 0; share /= 2 {
		t.Description = cut(t.Description, share)
		for i := range t.Comments {
			t.Comments[i].Body = cut(t.Comments[i].Body, share)
		}
		if data, err = json.Marshal(t); err != nil || len(data) <= max {
			return data, err
		}
	}
	return nil, fmt.Errorf("the ticket's text does not fit in %d bytes", max)
}

// cut shortens s to at most n bytes of valid UTF-8.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
