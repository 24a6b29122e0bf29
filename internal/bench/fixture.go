package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"github.com/mfatriage/triage"
	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// fixture is what both modes share: the sample tickets under unique keys,
// the fake Jira holding them, a queue and a project of their own.
type fixture struct {
	tickets []ticket // tickets[i] is ticket i
	users   map[string]jiratest.User
	bot     jiratest.User
	fake    *jiratest.Server
	proj    string
	queue   string
	rawQ    string
	secret  string
}

// ticket is a sample under its key.
type ticket struct {
	Sample
	Key string
}

const (
	benchEmail = "bot@example.com"
	benchToken = "bench-token"
)

func newFixture(n int, samples []Sample) (*fixture, error) {
	if len(samples) == 0 {
		return nil, errors.New("bench: no sample tickets to send")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	f := &fixture{
		users:  map[string]jiratest.User{},
		bot:    jiratest.User{AccountID: "bench-bot", DisplayName: "Triage Bot", EmailAddress: benchEmail},
		proj:   "B",
		queue:  "bench-" + id,
		rawQ:   "bench-raw-" + id,
		secret: rand.Text(),
	}
	for _, c := range b[:5] {
		f.proj += string(rune('A' + c%26))
	}
	var all []jiratest.User
	for _, t := range samples {
		if _, ok := f.users[t.Reporter]; !ok {
			u := jiratest.User{AccountID: "bench-" + t.Reporter, DisplayName: strings.ToUpper(t.Reporter[:1]) + t.Reporter[1:] + " Example"}
			f.users[t.Reporter] = u
			all = append(all, u)
		}
	}
	f.fake = jiratest.New(jiratest.WithBasicAuth(benchEmail, benchToken, f.bot), jiratest.WithUsers(all...))
	f.tickets = make([]ticket, n)
	for i := range f.tickets {
		t := ticket{Sample: samples[i%len(samples)], Key: f.proj + "-" + strconv.Itoa(i+1)}
		f.tickets[i] = t
		f.fake.AddIssue(jiratest.Issue{Key: t.Key, Summary: t.Summary, Description: t.Description, Reporter: f.users[t.Reporter]})
	}
	return f, nil
}

// pipelineConfig is the configuration of the pipeline under test.
func (f *fixture) pipelineConfig(o Options) PipelineConfig {
	return PipelineConfig{
		RedisURL: o.RedisURL, JiraBaseURL: f.fake.URL(), JiraEmail: benchEmail, JiraAPIToken: benchToken,
		BotAccountID: f.bot.AccountID, WebhookSecret: f.secret, Queue: f.queue, Concurrency: o.Concurrency,
		TaskCheckInterval: o.TaskCheckInterval, ShutdownTimeout: 5 * time.Second, FollowupWindow: time.Hour, LogLevel: o.LogLevel,
	}
}

// labelled reports whether the bot has acted on the ticket.
func (f *fixture) labelled(key string) bool {
	for _, l := range f.fake.Labels(key) {
		if strings.HasPrefix(l, triage.LabelPrefix) {
			return true
		}
	}
	return false
}

// webhooks are the signed jira:issue_created deliveries of the tickets to
// url, one request each.
func (f *fixture) webhooks(ctx context.Context, url string) ([]*http.Request, error) {
	reqs := make([]*http.Request, len(f.tickets))
	for i, t := range f.tickets {
		u := f.users[t.Reporter]
		body := intake.IssueCreatedBody(t.Key, t.Summary, t.Description, intake.WebhookUser{AccountID: u.AccountID, DisplayName: u.DisplayName})
		req, err := intake.NewWebhookRequest(ctx, url, f.secret, "bench-"+t.Key, body)
		if err != nil {
			return nil, err
		}
		reqs[i] = req
	}
	return reqs, nil
}

// waitProcessed waits until every ticket has a triage label and the queue
// has nothing pending, active or to retry. onProgress, when set, is called
// with the count done after each look.
func (f *fixture) waitProcessed(ctx context.Context, insp *asynq.Inspector, deadline time.Time, onProgress func(done int)) (int, error) {
	pending := make([]string, len(f.tickets))
	for i, t := range f.tickets {
		pending[i] = t.Key
	}
	for {
		// Tickets are taken roughly in order: look at the pending ones
		// from the oldest and stop after a run of misses, so that a look
		// costs what was done since the last one, not the whole backlog.
		misses, full := 0, len(pending) <= 256
		pending = slices.DeleteFunc(pending, func(key string) bool {
			if !full && misses >= 64 {
				return false
			}
			if f.labelled(key) {
				return true
			}
			misses++
			return false
		})
		done := len(f.tickets) - len(pending)
		if onProgress != nil {
			onProgress(done)
		}
		if len(pending) == 0 {
			info, err := insp.GetQueueInfo(f.queue)
			if err == nil && info.Pending+info.Active+info.Retry == 0 {
				return done, nil
			}
		}
		if time.Now().After(deadline) {
			return done, fmt.Errorf("timed out: %d of %d tickets processed", done, len(f.tickets))
		}
		select {
		case <-ctx.Done():
			return done, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// send posts the webhooks, as fast as o.Senders goroutines go or at
// o.Rate per second, and returns when each was sent.
func (f *fixture) send(ctx context.Context, reqs []*http.Request, o Options) (sendAt []time.Time, errs int, firstErr string, elapsed time.Duration) {
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()
	sendAt = make([]time.Time, len(reqs))
	var nerr atomic.Int64
	var errOnce sync.Once
	post := func(i int) {
		sendAt[i] = time.Now()
		resp, err := client.Do(reqs[i])
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				err = fmt.Errorf("intake answered %d", resp.StatusCode)
			}
		}
		if err != nil {
			nerr.Add(1)
			errOnce.Do(func() { firstErr = err.Error() })
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	if o.Rate <= 0 {
		var next atomic.Int64
		for range o.Senders {
			wg.Go(func() {
				for {
					i := int(next.Add(1) - 1)
					if i >= len(reqs) || ctx.Err() != nil {
						return
					}
					post(i)
				}
			})
		}
	} else {
		// open loop: ticket i leaves at start + i/rate, whatever the
		// answers to the earlier ones take
		period := time.Duration(float64(time.Second) / o.Rate)
		sem := make(chan struct{}, 512)
		for i := range reqs {
			if d := time.Until(start.Add(time.Duration(i) * period)); d > 0 {
				time.Sleep(d)
			}
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				post(i)
			})
		}
	}
	wg.Wait()
	return sendAt, int(nerr.Load()), firstErr, time.Since(start)
}

// analyse reads the fake's call log: latencies, writes, outcomes.
func (f *fixture) analyse(res *Result, sendAt []time.Time) {
	type perIssue struct {
		comment   time.Time
		writes    int
		lastWrite time.Time
	}
	issues := make(map[string]*perIssue, len(f.tickets))
	for _, t := range f.tickets {
		issues[t.Key] = &perIssue{}
	}
	var firstWrite, last time.Time
	for _, c := range f.fake.Calls() {
		p := issues[c.Issue]
		if p == nil {
			continue
		}
		res.JiraCalls++
		if !c.Write {
			continue
		}
		res.JiraWrites++
		p.writes++
		if c.Time.After(p.lastWrite) {
			p.lastWrite = c.Time
		}
		if c.Time.After(last) {
			last = c.Time
		}
		if firstWrite.IsZero() || c.Time.Before(firstWrite) {
			firstWrite = c.Time
		}
		if p.comment.IsZero() && carriesComment(c) {
			p.comment = c.Time
		}
	}
	var lat []time.Duration
	repliedWrites := 0
	for i, t := range f.tickets {
		p := issues[t.Key]
		ls := f.fake.Labels(t.Key)
		switch {
		case slices.Contains(ls, triage.LabelReplied):
			res.Replied++
			repliedWrites += p.writes
		case slices.Contains(ls, triage.LabelEscalated):
			res.Escalated++
		case slices.Contains(ls, triage.LabelNeedsHuman):
			res.Human++
		case slices.Contains(ls, triage.LabelResolved):
			res.Resolved++
		case slices.Contains(ls, triage.LabelSuggested):
			res.Suggested++
		}
		if !p.comment.IsZero() && !sendAt[i].IsZero() {
			lat = append(lat, p.comment.Sub(sendAt[i]))
		}
	}
	slices.Sort(lat)
	res.LatencySamples = len(lat)
	res.P50, res.P95, res.P99 = quantile(lat, 0.50), quantile(lat, 0.95), quantile(lat, 0.99)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	first := time.Time{}
	for _, s := range sendAt {
		if !s.IsZero() && (first.IsZero() || s.Before(first)) {
			first = s
		}
	}
	if !first.IsZero() && last.After(first) {
		res.Elapsed = last.Sub(first)
		res.TicketsPerSec = float64(res.Processed) / res.Elapsed.Seconds()
	}
	if last.After(firstWrite) {
		res.BusyPerSec = float64(res.Processed) / last.Sub(firstWrite).Seconds()
	}
	if res.SendElapsed > 0 {
		res.SentPerSec = float64(len(sendAt)-res.WebhookErrors) / res.SendElapsed.Seconds()
	}
	if res.Replied > 0 {
		res.WritesPerReplied = float64(repliedWrites) / float64(res.Replied)
	}
	if len(f.tickets) > 0 {
		res.CallsPerTicket = float64(res.JiraCalls) / float64(len(f.tickets))
	}
}

// carriesComment tells the write that posted a comment: a PUT /issue/{key}
// with update.comment, or a POST to the comment resource.
func carriesComment(c jiratest.Call) bool {
	if c.Method == http.MethodPost && strings.HasSuffix(c.Path, "/comment") {
		return true
	}
	if c.Method != http.MethodPut {
		return false
	}
	var body struct {
		Update struct {
			Comment []json.RawMessage `json:"comment"`
		} `json:"update"`
	}
	return json.Unmarshal(c.Body, &body) == nil && len(body.Update.Comment) > 0
}

// quantile of sorted durations, nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
