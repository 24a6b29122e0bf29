package chaos_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/internal/jira/jiratest"
	"github.com/mfatriage/triage/templates"
	"github.com/mfatriage/triage/worker"
)

// demoTicket is an entry of cmd/triage/demodata/tickets.json.
type demoTicket struct {
	Key         string `json:"key"`
	Summary     string `json:"summary"`
	Description string `json:"description"`
	Reporter    string `json:"reporter"`
	Then        *struct {
		Author string `json:"author"`
		Body   string `json:"body"`
	} `json:"then"`
}

// ticket is one seeded ticket and what its verdict calls for.
type ticket struct {
	key      string
	kind     string // "new": an issue_created webhook; "thread": the bot's steps, the reporter's answer, a comment_created webhook
	issue    jiratest.Issue
	reporter jiratest.User
	answer   jiratest.Comment // thread: the reporter's comment of the webhook

	seededBot int
	verdict   classifier.Verdict
	// what the verdict calls for
	wantLabels   []string // exactly these triage-* labels
	wantComments int      // new bot comments
	wantInternal int      // of which internal
	wantEsc      bool     // one escalation record
	wantFollowup bool     // a follow-up task scheduled (a reply)
}

var reporters = []jiratest.User{
	{AccountID: "u-alice", DisplayName: "Alice Adams"},
	{AccountID: "u-jonas", DisplayName: "Jonas Becker"},
	{AccountID: "u-camille", DisplayName: "Camille Dubois"},
	{AccountID: "u-lucia", DisplayName: "Lucía García"},
	{AccountID: "u-priya", DisplayName: "Priya Nair"},
	{AccountID: "u-ben", DisplayName: "Ben Okafor"},
	{AccountID: "u-sanne", DisplayName: "Sanne de Vries"},
	{AccountID: "u-marco", DisplayName: "Marco Rossi"},
}

// makeTickets builds n tickets of project proj from the demo texts: about
// three in four new tickets (reply, escalate-mfa, escalate-password, human)
// and one in four threads where the reporter answers the bot's steps
// (resolve, escalate, reply with new categories). Each ticket's verdict is
// the classifier's on what the worker will read.
func makeTickets(t *testing.T, proj string, n int) []*ticket {
	t.Helper()
	data, err := os.ReadFile("../cmd/triage/demodata/tickets.json")
	if err != nil {
		t.Fatal(err)
	}
	var demo []demoTicket
	if err := json.Unmarshal(data, &demo); err != nil {
		t.Fatal(err)
	}
	clf, err := classifier.NewDefault()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	decide := func(is jiratest.Issue) classifier.Verdict {
		wi := triage.Issue{Key: is.Key, Summary: is.Summary, Description: is.Description, ReporterID: is.Reporter.AccountID, ReporterName: is.Reporter.DisplayName}
		for _, c := range is.Comments {
			wi.Comments = append(wi.Comments, triage.Comment{AuthorID: c.Author.AccountID, Body: c.Body})
		}
		return clf.Decide(worker.TicketOf(wi, bot.AccountID))
	}
	// threads: demo tickets answered by their reporter after a reply
	var threads []demoTicket
	for _, d := range demo {
		if d.Then != nil && d.Then.Author == "reporter" {
			threads = append(threads, d)
		}
	}
	created := time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond)
	out := make([]*ticket, 0, n)
	for i := range n {
		key := proj + "-" + strconv.Itoa(i+1)
		rep := reporters[i%len(reporters)]
		tk := &ticket{key: key, reporter: rep, kind: "new"}
		var d demoTicket
		if i%4 == 3 {
			tk.kind = "thread"
			d = threads[(i/4)%len(threads)]
		} else {
			d = demo[i%len(demo)]
		}
		tk.issue = jiratest.Issue{Key: key, Summary: d.Summary, Description: d.Description, Reporter: rep, Created: created, Updated: created}
		if tk.kind == "thread" {
			first := decide(tk.issue)
			if first.Action != classifier.ActionReply {
				t.Fatalf("%s: the thread template %s is not a reply on its own (%s)", key, d.Key, first.Action)
			}
			steps, err := tmpl.Reply(templates.Data{TicketKey: key, ReporterName: strings.Fields(rep.DisplayName)[0], Platform: first.Platform, Categories: first.Reply})
			if err != nil {
				t.Fatal(err)
			}
			tk.issue.Comments = []jiratest.Comment{
				{Author: bot, Body: steps.Wiki, Created: created.Add(time.Minute)},
				{Author: rep, Body: d.Then.Body, Created: created.Add(2 * time.Minute)},
			}
			tk.seededBot = 1
		}
		tk.verdict = decide(tk.issue)
		tk.expect()
		out = append(out, tk)
	}
	return out
}

// expect fills in what the verdict calls for (worker/handler.go).
func (tk *ticket) expect() {
	v := tk.verdict
	switch {
	case v.Mode == classifier.ModeSuggest && !v.Security:
		// below the auto threshold: one internal note for the agents
		tk.wantLabels = []string{triage.LabelSuggested}
		tk.wantComments, tk.wantInternal = 1, 1
	case v.Action == classifier.ActionReply:
		tk.wantLabels = []string{triage.LabelReplied}
		for _, c := range v.Reply {
			tk.wantLabels = append(tk.wantLabels, "triage-"+c)
		}
		tk.wantComments = 1
		tk.wantFollowup = true
	case v.Action == classifier.ActionEscalateMFA || v.Action == classifier.ActionEscalatePassword:
		label := "triage-escalate-mfa"
		if v.Action == classifier.ActionEscalatePassword {
			label = "triage-escalate-password"
		}
		tk.wantLabels = []string{triage.LabelEscalated, label}
		tk.wantComments, tk.wantInternal, tk.wantEsc = 2, 1, true
	case v.Action == classifier.ActionResolve:
		tk.wantLabels = []string{triage.LabelResolved}
		tk.wantComments = 1
	default:
		tk.wantLabels = []string{triage.LabelNeedsHuman}
	}
	sort.Strings(tk.wantLabels)
}

// seed adds the tickets to the fake Jira and notes the reporter's answer of
// the threads (with the id the fake gave it).
func seed(f *fakeJira, tickets []*ticket) {
	for _, tk := range tickets {
		is := f.AddIssue(tk.issue)
		tk.issue = is
		if tk.kind == "thread" {
			tk.answer = is.Comments[len(is.Comments)-1]
		}
	}
}

// actionMix counts the tickets per expected action and kind.
func actionMix(tickets []*ticket) string {
	m := map[string]int{}
	for _, tk := range tickets {
		m[string(tk.verdict.Action)+"/"+tk.kind]++
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

// webhook is the body Jira sends for the ticket's event.
func (tk *ticket) webhook() []byte {
	user := func(u jiratest.User) map[string]any {
		return map[string]any{"accountId": u.AccountID, "displayName": u.DisplayName}
	}
	var body map[string]any
	if tk.kind == "thread" {
		body = map[string]any{
			"webhookEvent": "comment_created", "timestamp": time.Now().UnixMilli(),
			"comment": map[string]any{
				"id": tk.answer.ID, "body": tk.answer.Body, "author": user(tk.reporter),
				"created": tk.answer.Created.Format("2006-01-02T15:04:05.000-0700"),
			},
			"issue": map[string]any{"id": tk.issue.ID, "key": tk.key, "fields": map[string]any{
				"summary": tk.issue.Summary, "reporter": user(tk.reporter),
			}},
		}
	} else {
		body = map[string]any{
			"webhookEvent": "jira:issue_created", "timestamp": time.Now().UnixMilli(),
			"user": user(tk.reporter),
			"issue": map[string]any{"id": tk.issue.ID, "key": tk.key, "fields": map[string]any{
				"summary": tk.issue.Summary, "description": tk.issue.Description,
				"reporter": user(tk.reporter), "labels": []string{}, "status": map[string]any{"name": "Open"},
			}},
		}
	}
	b, _ := json.Marshal(body)
	return b
}

// ---- webhook delivery ----

// sender delivers signed webhooks to the intake the way Jira does: the
// same X-Atlassian-Webhook-Identifier on every retry, retried on 5xx and
// network errors.
type sender struct {
	url    string
	client *http.Client

	// pace, when set, spaces the first deliveries by this much
	pace time.Duration

	deliveries atomic.Int64 // deliveries we meant to make (first + duplicates)
	duplicates atomic.Int64 // of which duplicates
	retries    atomic.Int64 // resent after a 5xx or a network error
	mu         sync.Mutex
	codes      map[int]int
	accepted   map[string]int // delivery id -> 202 answers
	refused    []string
}

func newSender(url string) *sender {
	return &sender{
		url:      url + intake.WebhookPath,
		client:   &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		codes:    map[int]int{},
		accepted: map[string]int{},
	}
}

// deliver sends one delivery until the intake answers 2xx or ctx ends.
func (s *sender) deliver(ctx context.Context, id string, body []byte, dup bool) {
	s.deliveries.Add(1)
	if dup {
		s.duplicates.Add(1)
	}
	sig := intake.Sign(webhookSecret, body)
	for attempt := 0; ; attempt++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(intake.HeaderDeliveryID, id)
		req.Header.Set(intake.HeaderSignature, sig)
		if attempt > 0 {
			req.Header.Set(intake.HeaderRetry, strconv.Itoa(attempt))
		}
		resp, err := s.client.Do(req)
		code := 0
		if err == nil {
			code = resp.StatusCode
			resp.Body.Close()
		}
		s.mu.Lock()
		s.codes[code]++
		if code == http.StatusAccepted {
			s.accepted[id]++
		}
		if code >= 400 && code < 500 {
			s.refused = append(s.refused, fmt.Sprintf("%s: %d", id, code))
		}
		s.mu.Unlock()
		if code >= 200 && code < 500 {
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.retries.Add(1)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(200+rand.IntN(600)) * time.Millisecond):
		}
	}
}

// acceptedTwice lists the delivery ids the intake enqueued more than once.
func (s *sender) acceptedTwice() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for id, n := range s.accepted {
		if n > 1 {
			out = append(out, id)
		}
	}
	return out
}

func (s *sender) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var codes []int
	for c := range s.codes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	var parts []string
	for _, c := range codes {
		name := strconv.Itoa(c)
		if c == 0 {
			name = "neterr"
		}
		parts = append(parts, fmt.Sprintf("%s:%d", name, s.codes[c]))
	}
	return strings.Join(parts, " ")
}

// deliveryPlan is how one ticket's webhook is delivered.
type deliveryPlan struct {
	tk      *ticket
	id      string
	body    []byte
	extra   int  // duplicates besides the first delivery
	late    bool // one duplicate only once the ticket was processed
	delayed bool // one duplicate a few seconds later
	// after, when set, runs after the first delivery (and the immediate
	// duplicates) were answered
	after func()
}

// planDeliveries picks dupShare of the tickets for duplicate deliveries: a
// third of them at once (concurrently), a third a few seconds later, a
// third late (after the ticket was processed); some get two duplicates.
func planDeliveries(tickets []*ticket, dupShare float64, rng *rand.Rand) []*deliveryPlan {
	plans := make([]*deliveryPlan, len(tickets))
	for i, tk := range tickets {
		p := &deliveryPlan{tk: tk, id: fmt.Sprintf("chaos-%s-%08x", strings.ToLower(tk.key), rng.Uint32()), body: tk.webhook()}
		if rng.Float64() < dupShare {
			p.extra = 1
			if rng.IntN(4) == 0 {
				p.extra = 2
			}
			switch rng.IntN(3) {
			case 0:
				p.late = true
			case 1:
				p.delayed = true
			}
		}
		plans[i] = p
	}
	return plans
}

// sendAll delivers every plan with conc senders: the first delivery and
// the immediate duplicates now, delayed duplicates in the background. It
// returns when the immediate ones are done; late duplicates are sent by
// sendLate.
func (s *sender) sendAll(ctx context.Context, plans []*deliveryPlan, conc int, bg *sync.WaitGroup) {
	ch := make(chan *deliveryPlan)
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				n := p.extra
				if p.late || p.delayed {
					n--
				}
				var inner sync.WaitGroup
				for i := 0; i <= n; i++ {
					inner.Add(1)
					go func() { defer inner.Done(); s.deliver(ctx, p.id, p.body, i > 0) }()
				}
				inner.Wait()
				if p.after != nil {
					p.after()
				}
				if p.delayed {
					bg.Add(1)
					go func() {
						defer bg.Done()
						select {
						case <-ctx.Done():
							return
						case <-time.After(time.Duration(1000+rand.IntN(4000)) * time.Millisecond):
						}
						s.deliver(ctx, p.id, p.body, true)
					}()
				}
			}
		}()
	}
	var tick <-chan time.Time
	if s.pace > 0 {
		tk := time.NewTicker(s.pace)
		defer tk.Stop()
		tick = tk.C
	}
	for _, p := range plans {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
			}
		}
		select {
		case ch <- p:
		case <-ctx.Done():
		}
	}
	close(ch)
	wg.Wait()
}

// sendLate delivers the late duplicates once their ticket shows its
// outcome in Jira (or when ctx ends).
func (s *sender) sendLate(ctx context.Context, f *fakeJira, plans []*deliveryPlan, bg *sync.WaitGroup) {
	var late []*deliveryPlan
	for _, p := range plans {
		if p.late {
			late = append(late, p)
		}
	}
	bg.Add(1)
	go func() {
		defer bg.Done()
		for len(late) > 0 && ctx.Err() == nil {
			rest := late[:0]
			for _, p := range late {
				if hasTriageLabel(f.Labels(p.tk.key)) {
					s.deliver(ctx, p.id, p.body, true)
				} else {
					rest = append(rest, p)
				}
			}
			late = rest
			select {
			case <-ctx.Done():
			case <-time.After(500 * time.Millisecond):
			}
		}
	}()
}

func hasTriageLabel(labels []string) bool {
	return slices.ContainsFunc(labels, func(l string) bool { return strings.HasPrefix(l, "triage-") })
}

// ---- the outcome ----

// outcome is the state of every ticket as Jira and Redis show it.
type outcome struct {
	tickets      int
	complete     int
	lost         []string       // outcome missing (labels, comments or escalation record)
	missing      map[string]int // what was missing, by kind, over the lost tickets
	dupComments  int            // bot comments beyond what the verdict calls for
	dupTickets   []string
	dupEsc       int // escalation records beyond one per escalated ticket
	dupEscKeys   []string
	wrongLabels  []string // triage labels the verdict does not call for
	unlabelled   int      // tickets without any triage label
	lostFollowup []string // replied tickets without their follow-up task
}

// evaluate reads the outcome. rdb reads the escalation records and, with
// withFollowups, the follow-up tasks of the replies.
func evaluate(ctx context.Context, f *fakeJira, rdb redis.UniversalClient, withFollowups bool, queue string, tickets []*ticket) (outcome, error) {
	o := outcome{tickets: len(tickets), missing: map[string]int{}}
	recs := map[string]int{}
	keys, err := scanKeys(ctx, rdb, "triage:esc:rec:*")
	if err != nil {
		return o, fmt.Errorf("escalation records: %w", err)
	}
	for _, k := range keys {
		id := strings.TrimPrefix(k, "triage:esc:rec:")
		key, _, _ := strings.Cut(id, ":")
		recs[key]++
	}
	var followups map[string]bool
	if withFollowups {
		// a follow-up task, scheduled (or already run: kept 24 h), is the
		// hash asynq:{queue}:t:followup:<key>:<version>
		followups = map[string]bool{}
		prefix := "asynq:{" + queue + "}:t:followup:"
		keys, err := scanKeys(ctx, rdb, prefix+"*")
		if err != nil {
			return o, fmt.Errorf("follow-up tasks: %w", err)
		}
		for _, k := range keys {
			rest := strings.TrimPrefix(k, prefix)
			if i := strings.LastIndexByte(rest, ':'); i > 0 {
				followups[rest[:i]] = true
			}
		}
	}
	for _, tk := range tickets {
		is, _ := f.Issue(tk.key)
		botN, internal := 0, 0
		for _, c := range is.Comments {
			if c.Author.AccountID == bot.AccountID {
				botN++
				if c.Internal {
					internal++
				}
			}
		}
		newBot := botN - tk.seededBot
		var labels []string
		for _, l := range is.Labels {
			if strings.HasPrefix(l, "triage-") {
				labels = append(labels, l)
			}
		}
		sort.Strings(labels)
		if len(labels) == 0 {
			o.unlabelled++
		}
		missing := false
		for _, l := range tk.wantLabels {
			if !slices.Contains(labels, l) {
				missing = true
				o.missing["label "+l]++
			}
		}
		wantRecs := 0
		if tk.wantEsc {
			wantRecs = 1
		}
		if newBot < tk.wantComments {
			missing = true
			o.missing[fmt.Sprintf("%s: bot comment", tk.verdict.Action)]++
		}
		if internal < tk.wantInternal {
			missing = true
			o.missing["escalation: internal evidence note"]++
		}
		if recs[tk.key] < wantRecs {
			missing = true
			o.missing["escalation: record in the escalation queue"]++
		}
		if missing {
			o.lost = append(o.lost, tk.key)
		} else {
			o.complete++
		}
		if d := newBot - tk.wantComments; d > 0 {
			o.dupComments += d
			o.dupTickets = append(o.dupTickets, tk.key)
		}
		if d := recs[tk.key] - wantRecs; d > 0 {
			o.dupEsc += d
			o.dupEscKeys = append(o.dupEscKeys, tk.key)
		}
		for _, l := range labels {
			if !slices.Contains(tk.wantLabels, l) {
				o.wrongLabels = append(o.wrongLabels, tk.key+":"+l)
			}
		}
		if followups != nil && tk.wantFollowup && !missing && !followups[tk.key] {
			o.lostFollowup = append(o.lostFollowup, tk.key)
		}
	}
	return o, nil
}

func scanKeys(ctx context.Context, rdb redis.UniversalClient, pattern string) ([]string, error) {
	var out []string
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return nil, err
		}
		out = append(out, keys...)
		if next == 0 {
			return out, nil
		}
		cursor = next
	}
}

// missingSummary says what the lost tickets lack.
func (o outcome) missingSummary() string {
	var parts []string
	for k, v := range o.missing {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, v))
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

// busyTasks lists the queue's unfinished tasks: state, type, id, retries,
// next run, last error.
func busyTasks(insp *asynq.Inspector, queue string, max int) []string {
	var out []string
	add := func(state string, infos []*asynq.TaskInfo, err error) {
		if err != nil {
			out = append(out, state+": "+err.Error())
			return
		}
		for _, ti := range infos {
			if len(out) >= max {
				return
			}
			next := ""
			if !ti.NextProcessAt.IsZero() {
				next = " next " + time.Until(ti.NextProcessAt).Round(time.Second).String()
			}
			out = append(out, fmt.Sprintf("%s %s %s retried %d%s %s", state, ti.Type, ti.ID, ti.Retried, next, ti.LastErr))
		}
	}
	a, err := insp.ListActiveTasks(queue, asynq.PageSize(max))
	add("active", a, err)
	p, err := insp.ListPendingTasks(queue, asynq.PageSize(max))
	add("pending", p, err)
	r, err := insp.ListRetryTasks(queue, asynq.PageSize(max))
	add("retry", r, err)
	return out
}

// queueCounts are the sizes of a queue's task lists, read from asynq
// v0.26's keys (asynq:{queue}:pending …) rather than through the
// Inspector, which answers "queue not found" once Redis lost the set of
// queue names (as in a failover to a replica that missed the first
// enqueue).
type queueCounts struct{ pending, active, retry, scheduled, archived int64 }

func (c queueCounts) busy() int64 { return c.pending + c.active + c.retry }

func countQueue(ctx context.Context, rdb redis.UniversalClient, queue string) (queueCounts, error) {
	k := func(s string) string { return "asynq:{" + queue + "}:" + s }
	pipe := rdb.Pipeline()
	p, a := pipe.LLen(ctx, k("pending")), pipe.LLen(ctx, k("active"))
	r, sc, ar := pipe.ZCard(ctx, k("retry")), pipe.ZCard(ctx, k("scheduled")), pipe.ZCard(ctx, k("archived"))
	if _, err := pipe.Exec(ctx); err != nil {
		return queueCounts{}, err
	}
	return queueCounts{p.Val(), a.Val(), r.Val(), sc.Val(), ar.Val()}, nil
}

// explain prints, for a few tickets, the fake's call log and the logs'
// lines about them.
func explain(t *testing.T, e *env, f *fakeJira, what string, keys []string) {
	t.Helper()
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
	for i, k := range keys {
		if i == 5 {
			t.Logf("… and %d more %s tickets", len(keys)-5, what)
			break
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s ticket %s\n  Jira calls:\n%s  logs:\n", what, k, f.callLog(k))
		for _, l := range e.grepLogs(`"issue_key":"`+k+`"`, 60) {
			b.WriteString("    " + l + "\n")
		}
		t.Log(b.String())
	}
}
