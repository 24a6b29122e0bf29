package intake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
	"github.com/rs/zerolog"

	"github.com/mfatriage/triage/worker"
)

// Paths served by Handler.
const (
	WebhookPath = "/webhooks/jira"
	HealthPath  = "/healthz"
	ReadyPath   = "/readyz"
)

// Defaults for the zero values of Config.
const (
	DefaultMaxBodyBytes   = 1 << 20 // 1 MiB
	DefaultMaxBodies      = 16
	DefaultBodyWait       = 100 * time.Millisecond
	DefaultRetryAfter     = 30 * time.Second
	DefaultEnqueueTimeout = 5 * time.Second
	DefaultReadyTimeout   = time.Second
	DefaultMaxAge         = time.Hour
)

// Webhook headers.
const (
	HeaderSignature  = "X-Hub-Signature"
	HeaderDeliveryID = "X-Atlassian-Webhook-Identifier"
	HeaderRetry      = "X-Atlassian-Webhook-Retry"
)

// Config configures the webhook handler. Every optional field has a
// documented default for its zero value; Validate says in plain words what
// is wrong.
type Config struct {
	// Secret is the webhook secret. When set, every delivery must carry
	// X-Hub-Signature: sha256=<hex of HMAC-SHA256(body, Secret)>, or it is
	// answered 401. Empty: signatures are not checked (NewHandler logs a
	// warning); only for a network where nobody else can reach the handler.
	Secret string

	// BotAccountID is the bot's Jira account id (Cloud) or user name (Data
	// Center). Events caused by it are dropped: the bot never answers
	// itself. Required.
	BotAccountID string

	// Queue is the asynq queue triage tasks go to. Default
	// worker.DefaultQueue.
	Queue string

	// MaxBodyBytes is the largest body accepted; larger ones get 413.
	// Default 1 MiB (DefaultMaxBodyBytes).
	MaxBodyBytes int64

	// MaxBodies bounds how many delivery bodies are read and held at once,
	// so that the memory taken before a signature is known stays under
	// MaxBodies × MaxBodyBytes whatever the number of connections. A
	// delivery that finds no free place within BodyWait is answered 503
	// with Retry-After, unread. Defaults 16 (DefaultMaxBodies) and 100ms.
	MaxBodies int
	BodyWait  time.Duration

	// RetryAfter is sent with a 503 (Redis unreachable), in whole seconds.
	// Default 30s.
	RetryAfter time.Duration

	// EnqueueTimeout bounds the Redis work of one delivery (enqueue or
	// agent record). Default 5s.
	EnqueueTimeout time.Duration

	// ReadyTimeout is how long /readyz waits for the Pinger. Default 1s.
	ReadyTimeout time.Duration

	// Logger receives one line per delivery. The zero value logs nothing.
	// Ticket text (summaries, descriptions, comments) is logged only at
	// debug level; the secret never.
	Logger zerolog.Logger

	// MaxAge bounds the age of a signed delivery, by its payload's
	// timestamp: an older one is answered 200 and not enqueued, so that a
	// captured body replayed after the triage state has expired does
	// nothing. Default 1h (DefaultMaxAge).
	MaxAge time.Duration

	// Now is the clock stamped on payloads (ReceivedAt). Default time.Now.
	Now func() time.Time
}

// Validate reports every problem in the configuration at once.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if strings.TrimSpace(c.BotAccountID) == "" {
		add("the bot account id is empty: set the bot's Jira account id (Cloud) or user name (Data Center), so that the bot never answers its own comments")
	} else if strings.ContainsAny(c.BotAccountID, " \t\r\n") {
		add("the bot account id %q contains white space", c.BotAccountID)
	}
	if c.Secret != "" && strings.TrimSpace(c.Secret) != c.Secret {
		add("the webhook secret starts or ends with white space; copy it again without spaces or line breaks")
	}
	if c.Queue != "" && strings.TrimSpace(c.Queue) != c.Queue {
		add("the queue name %q starts or ends with white space", c.Queue)
	}
	if c.MaxBodyBytes < 0 {
		add("the largest webhook body is negative (%d bytes); use 0 for the default of 1 MiB", c.MaxBodyBytes)
	}
	if c.MaxBodies < 0 {
		add("the number of webhook bodies read at once is negative (%d); use 0 for the default of %d", c.MaxBodies, DefaultMaxBodies)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"the wait for a place to read a body", c.BodyWait},
		{"the Retry-After of a 503", c.RetryAfter},
		{"the enqueue timeout", c.EnqueueTimeout},
		{"the readiness timeout", c.ReadyTimeout},
		{"the largest age of a delivery", c.MaxAge},
	} {
		if d.v < 0 {
			add("%s is negative (%v); use 0 for the default", d.name, d.v)
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Queue == "" {
		c.Queue = worker.DefaultQueue
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxBodies == 0 {
		c.MaxBodies = DefaultMaxBodies
	}
	if c.BodyWait == 0 {
		c.BodyWait = DefaultBodyWait
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	if c.EnqueueTimeout == 0 {
		c.EnqueueTimeout = DefaultEnqueueTimeout
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Handler serves the Jira webhook, /healthz and /readyz.
type Handler struct {
	cfg    Config
	enq    Enqueuer
	agents AgentRecorder
	ready  Pinger
	log    zerolog.Logger
	// bodies holds a token per body being read or held (Config.MaxBodies).
	bodies chan struct{}
}

var _ http.Handler = (*Handler)(nil)

// NewHandler builds the webhook handler. enq enqueues triage tasks (an
// *asynq.Client), agents records agents' comments, ready answers /readyz
// (usually a ping of the queue's Redis). All three are required.
func NewHandler(cfg Config, enq Enqueuer, agents AgentRecorder, ready Pinger) (*Handler, error) {
	errs := []error{cfg.Validate()}
	if enq == nil {
		errs = append(errs, errors.New("intake needs an enqueuer (an asynq client) and got none"))
	}
	if agents == nil {
		errs = append(errs, errors.New("intake needs an agent recorder (the worker's state store) and got none"))
	}
	if ready == nil {
		errs = append(errs, errors.New("intake needs a pinger for /readyz and got none"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("intake: %w", err)
	}
	cfg = cfg.withDefaults()
	h := &Handler{cfg: cfg, enq: enq, agents: agents, ready: ready, log: cfg.Logger, bodies: make(chan struct{}, cfg.MaxBodies)}
	if cfg.Secret == "" {
		h.log.Warn().Msg("webhook secret is empty: deliveries are accepted without a signature")
	}
	return h, nil
}

// Response is the JSON body of every answer.
type Response struct {
	// Status is enqueued, duplicate, ignored, recorded, rejected,
	// unavailable or ok.
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	TaskID string `json:"task_id,omitempty"`
}

// Statuses of Response.
const (
	StatusEnqueued    = "enqueued"
	StatusDuplicate   = "duplicate"
	StatusIgnored     = "ignored"
	StatusRecorded    = "recorded"
	StatusRejected    = "rejected"
	StatusUnavailable = "unavailable"
	StatusOK          = "ok"
)

// ServeHTTP routes POST /webhooks/jira, GET /healthz and GET /readyz.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case WebhookPath:
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, Response{Status: StatusRejected, Reason: "use POST"})
			return
		}
		h.webhook(w, r)
	case HealthPath, ReadyPath:
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeJSON(w, http.StatusMethodNotAllowed, Response{Status: StatusRejected, Reason: "use GET"})
			return
		}
		if r.URL.Path == HealthPath {
			writeJSON(w, http.StatusOK, Response{Status: StatusOK})
			return
		}
		h.readyz(w, r)
	default:
		writeJSON(w, http.StatusNotFound, Response{Status: StatusRejected, Reason: "no such path"})
	}
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.ReadyTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.ready.Ping(ctx) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("no answer within %v", h.cfg.ReadyTimeout)
	}
	if err != nil {
		h.log.Warn().Err(err).Msg("not ready: the queue's Redis does not answer")
		writeJSON(w, http.StatusServiceUnavailable, Response{Status: StatusUnavailable, Reason: "the queue's Redis does not answer"})
		return
	}
	writeJSON(w, http.StatusOK, Response{Status: StatusOK})
}

// outcome is the answer to one delivery.
type outcome struct {
	code   int
	status string
	reason string
	taskID string
	err    error // logged, never sent
	warn   bool  // logged as a warning whatever the status
}

func (h *Handler) webhook(w http.ResponseWriter, r *http.Request) {
	start := h.cfg.Now()
	var seen seenDelivery
	out := h.deliver(w, r, &seen)

	if out.code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(int((h.cfg.RetryAfter+time.Second-1)/time.Second)))
	}
	writeJSON(w, out.code, Response{Status: out.status, Reason: out.reason, TaskID: out.taskID})

	var e *zerolog.Event
	switch {
	case out.code >= 500:
		e = h.log.Error().Err(out.err)
	case out.code >= 400, out.warn:
		e = h.log.Warn()
	case out.status == StatusIgnored:
		e = h.log.Debug()
	default:
		e = h.log.Info()
	}
	e.Str("event", seen.event).
		Str("delivery_id", seen.deliveryID).
		Str("issue_key", seen.issueKey).
		Str("issue_id", seen.issueID).
		Str("status", out.status).
		Int("http_status", out.code).
		Str("reason", out.reason).
		Str("task_id", out.taskID).
		Str("jira_retry", r.Header.Get(HeaderRetry)).
		Dur("took", h.cfg.Now().Sub(start)).
		Msg("webhook")
}

// seenDelivery is what the log line tells of a delivery, as far as known.
type seenDelivery struct {
	event, deliveryID, issueKey, issueID string
}

// isIssueID reports whether s is a numeric issue id rather than a key.
func isIssueID(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }

// deliver does the work of one delivery, filling seen as it learns.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request, seen *seenDelivery) outcome {
	body, held, out := h.readBody(w, r)
	if !held {
		return out
	}
	defer h.release()

	ev, err := parseEvent(body)
	if err != nil {
		return outcome{code: http.StatusBadRequest, status: StatusRejected, reason: err.Error()}
	}
	event := ev.WebhookEvent.String()
	deliveryID := deliveryIDOf(r.Header.Get(HeaderDeliveryID), body)
	seen.event, seen.deliveryID = truncate(event, 64), deliveryID

	if age := h.cfg.Now().Sub(ev.Timestamp.Time); h.cfg.Secret != "" && !ev.Timestamp.Time.IsZero() && age > h.cfg.MaxAge {
		// 200: Jira must not retry it, and nothing is enqueued
		return outcome{code: http.StatusOK, status: StatusIgnored, warn: true,
			reason: fmt.Sprintf("the payload's timestamp is %v old, past the limit of %v: a replay, or a delivery too late to act on", age.Round(time.Second), h.cfg.MaxAge)}
	}

	switch event {
	case triage.EventIssueCreated, triage.EventIssueUpdated, triage.EventCommentCreated, triage.EventCommentUpdated:
	case "":
		return outcome{code: http.StatusBadRequest, status: StatusRejected, reason: "malformed: webhookEvent is missing"}
	default:
		return outcome{code: http.StatusOK, status: StatusIgnored, reason: fmt.Sprintf("event %q is not triaged", truncate(event, 64))}
	}

	p, err := ev.payload(deliveryID, h.cfg.Now())
	if err != nil {
		return outcome{code: http.StatusBadRequest, status: StatusRejected, reason: "malformed: " + err.Error()}
	}
	seen.issueKey, seen.issueID = p.Issue.Key, p.Issue.ID
	if isIssueID(p.Issue.Key) {
		// a Server/DC comment event names no key: log the id as an id,
		// never where the audit has keys (the worker reads the key)
		seen.issueKey = ""
	}
	if n, err := strconv.Atoi(strings.TrimSpace(r.Header.Get(HeaderRetry))); err == nil && n > 0 {
		p.Redelivered = true
	}
	if (event == triage.EventCommentCreated || event == triage.EventCommentUpdated) && p.Comment == nil {
		return outcome{code: http.StatusBadRequest, status: StatusRejected, reason: "malformed: " + event + " without a comment"}
	}

	if ev.fromBot(h.cfg.BotAccountID) {
		return outcome{code: http.StatusOK, status: StatusIgnored, reason: "bot's own event"}
	}
	if event == triage.EventIssueUpdated {
		if ev.commentUpdate() {
			return outcome{code: http.StatusOK, status: StatusIgnored, reason: "a comment's update; its comment event carries it"}
		}
		if !ev.touchesText() {
			return outcome{code: http.StatusOK, status: StatusIgnored, reason: "neither summary nor description changed"}
		}
	}

	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.EnqueueTimeout)
	defer cancel()

	if event == triage.EventCommentUpdated {
		// A reporter's edit is triaged until the bot has answered (the
		// worker knows); an agent's edit changes nothing its comment did not.
		if isReporter, ok := same(userOf(ev.Comment.Author), ev.reporter()); ok && !isReporter {
			return outcome{code: http.StatusOK, status: StatusIgnored, reason: "an edit of a comment not the reporter's"}
		}
	}
	recorded := false
	if event == triage.EventCommentCreated {
		// An agent's comment: the author is known not to be the reporter
		// (nor the bot, dropped above). Undecidable: the worker decides.
		_, command, _ := triage.ParseCommand(p.Comment.Body)
		isReporter, ok := same(userOf(ev.Comment.Author), ev.reporter())
		switch {
		case ok && isReporter && command:
			return outcome{code: http.StatusOK, status: StatusIgnored, reason: "a /triage command from the reporter: only agents' commands count"}
		case ok && !isReporter && command:
			// an agent's /triage command goes to the worker, and leaves no
			// agent mark: the bot goes on as if it had acted alone
			p.Agent = true
		case ok && !isReporter:
			author := userOf(ev.Comment.Author)
			at := p.Comment.Created
			if at.IsZero() {
				at = ev.Timestamp.Time
			}
			if at.IsZero() {
				at = p.ReceivedAt
			}
			if err := h.agents.RecordAgent(ctx, p.Issue.Key, author.id(), at); err != nil {
				return outcome{code: http.StatusServiceUnavailable, status: StatusUnavailable, reason: "could not record the agent's comment; retry later", err: err}
			}
			if p.Comment.Internal {
				return outcome{code: http.StatusOK, status: StatusRecorded, reason: "agent comment"}
			}
			// a public answer may be one given instead of a suggestion:
			// the worker looks (it reads its state, not Jira)
			p.Agent, recorded = true, true
		}
	}

	h.log.Debug().Str("issue_key", seen.issueKey).Str("issue_id", seen.issueID).Str("delivery_id", p.DeliveryID).
		Str("summary", p.Issue.Summary).Msg("webhook payload")

	task, err := worker.NewTriageTask(p, asynq.Queue(h.cfg.Queue))
	if err != nil {
		return outcome{code: http.StatusBadRequest, status: StatusRejected, reason: "malformed: " + oneLine(err.Error())}
	}
	taskID := worker.TriageTaskID(p.DeliveryID)
	info, err := h.enq.EnqueueContext(ctx, task)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		return outcome{code: http.StatusOK, status: StatusDuplicate, taskID: taskID}
	case err != nil:
		return outcome{code: http.StatusServiceUnavailable, status: StatusUnavailable, reason: "the queue is unavailable; retry later", err: err}
	}
	if info != nil && info.ID != "" {
		taskID = info.ID
	}
	if recorded {
		return outcome{code: http.StatusAccepted, status: StatusRecorded, reason: "agent comment", taskID: taskID}
	}
	return outcome{code: http.StatusAccepted, status: StatusEnqueued, taskID: taskID}
}

// readBody reads a delivery's body, within the limits on memory that hold
// before anyone is authenticated: a body over MaxBodyBytes is refused (413)
// as soon as that is known; with a secret, a missing or malformed
// X-Hub-Signature is refused (401) without a byte of the body read; at most
// MaxBodies bodies are read and held at once (past that, 503 unread); and
// the body streams through the HMAC as it arrives, checked in constant time
// once read. When held is true the body may be parsed, and the caller must
// call release once done with it.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) (body []byte, held bool, out outcome) {
	limit := h.cfg.MaxBodyBytes
	tooBig := outcome{code: http.StatusRequestEntityTooLarge, status: StatusRejected, reason: fmt.Sprintf("the body is larger than the limit of %d bytes", limit)}
	unread := func(o outcome) ([]byte, bool, outcome) {
		// Nothing more of the body is read: close the connection after
		// the answer rather than drain what the sender still has.
		w.Header().Set("Connection", "close")
		return nil, false, o
	}
	if r.ContentLength > limit {
		return unread(tooBig)
	}
	var want []byte
	if h.cfg.Secret != "" {
		var reason string
		if want, reason = parseSignature(r.Header.Get(HeaderSignature)); reason != "" {
			return unread(outcome{code: http.StatusUnauthorized, status: StatusRejected, reason: reason})
		}
	}
	if !h.acquire(r.Context()) {
		return unread(outcome{code: http.StatusServiceUnavailable, status: StatusUnavailable,
			reason: "too many deliveries are being read at once; retry later",
			err:    fmt.Errorf("all %d places to read a webhook body are taken", h.cfg.MaxBodies)})
	}
	var src io.Reader = http.MaxBytesReader(w, r.Body, limit)
	var mac hash.Hash
	if want != nil {
		mac = hmac.New(sha256.New, []byte(h.cfg.Secret))
		src = io.TeeReader(src, mac)
	}
	body, err := readAll(src, r.ContentLength)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		out = tooBig
	case err != nil:
		out = outcome{code: http.StatusBadRequest, status: StatusRejected, reason: "the body could not be read", err: err}
	case mac != nil && !hmac.Equal(mac.Sum(nil), want):
		out = outcome{code: http.StatusUnauthorized, status: StatusRejected, reason: "the signature does not match the body"}
	default:
		return body, true, outcome{}
	}
	h.release()
	return nil, false, out
}

// acquire takes a place to read a body, waiting at most BodyWait; false
// when none came free (or the request ended).
func (h *Handler) acquire(ctx context.Context) bool {
	select {
	case h.bodies <- struct{}{}:
		return true
	default:
	}
	t := time.NewTimer(h.cfg.BodyWait)
	defer t.Stop()
	select {
	case h.bodies <- struct{}{}:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// release gives back the place taken by acquire.
func (h *Handler) release() { <-h.bodies }

// readAll reads r to the end: into one buffer of the announced length when
// there is one (no growing and copying), else growing as bytes arrive.
func readAll(r io.Reader, contentLength int64) ([]byte, error) {
	if contentLength <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, contentLength)
	n, err := io.ReadFull(r, buf)
	return buf[:n], err
}

// parseSignature reads X-Hub-Signature: "sha256=" and the hex HMAC. It
// returns why the header is refused, or the HMAC it names.
func parseSignature(header string) (sum []byte, reason string) {
	if header == "" {
		return nil, "the " + HeaderSignature + " header is missing"
	}
	algo, hexSig, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok || !strings.EqualFold(algo, "sha256") {
		return nil, "the " + HeaderSignature + " header is not sha256=<hex>"
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) == 0 {
		return nil, "the " + HeaderSignature + " header is not sha256=<hex>"
	}
	return got, ""
}

// Sign returns the X-Hub-Signature value of body under secret, as Jira
// sends it: "sha256=" and the hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

var deliveryIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// deliveryIDOf is the dedupe key of a delivery: the
// X-Atlassian-Webhook-Identifier header, unchanged across Jira's retries.
// Without it, the SHA-256 of the body ("sha256:<hex>"), so identical
// bodies dedupe. A header that is too long or carries other characters
// than letters, digits and ._:- is replaced by its own hash
// ("hdr-sha256:<hex>"), since it ends up in task ids and logs.
func deliveryIDOf(header string, body []byte) string {
	header = strings.TrimSpace(header)
	switch {
	case header == "":
		sum := sha256.Sum256(body)
		return "sha256:" + hex.EncodeToString(sum[:])
	case deliveryIDRE.MatchString(header):
		return header
	default:
		sum := sha256.Sum256([]byte(header))
		return "hdr-sha256:" + hex.EncodeToString(sum[:])
	}
}

func writeJSON(w http.ResponseWriter, code int, v Response) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	b, _ := json.Marshal(v)
	_, _ = w.Write(append(b, '\n'))
}
