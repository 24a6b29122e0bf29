// Package metrics exposes triage's Prometheus metrics
// (prometheus/client_golang): tickets by action and category, Jira calls by
// endpoint and status, the webhook-to-comment latency, the escalations open
// by reason and the age of the oldest, and the asynq queue sizes. The last
// two are read when Prometheus scrapes, so they are right on every replica.
package metrics

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfatriage/triage"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the registry and the instruments.
type Metrics struct {
	reg       *prometheus.Registry
	tickets   *prometheus.CounterVec
	decisions *prometheus.CounterVec
	feedback  *prometheus.CounterVec
	jiraCalls *prometheus.CounterVec
	latency   prometheus.Histogram
}

// upDesc describes the gauge that says whether the gauges a collector reads
// from Redis at scrape time could be read: while Redis is down, /metrics
// still answers with everything else, and this gauge is 0.
func upDesc(name, what string) *prometheus.Desc {
	return prometheus.NewDesc(name, "1 when "+what+" could be read from Redis at this scrape, 0 when not (Redis down).", nil, nil)
}

func up(d *prometheus.Desc, ok bool) prometheus.Metric {
	v := 0.0
	if ok {
		v = 1
	}
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
}

var _ triage.Metrics = (*Metrics)(nil)

// New makes the registry with the Go and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		tickets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_tickets_total", Help: "Triage decisions, by action and category (\"none\" for a ticket without one).",
		}, []string{"action", "category"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_decisions_total", Help: "Triage decisions by mode (auto: the bot acted alone; suggest: left to agents with a suggestion; none: human) and whether a possible attack was flagged.",
		}, []string{"mode", "security"}),
		feedback: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_agent_feedback_total", Help: "How the helpdesk treated the bot's decisions, by outcome (sent: a suggestion sent as it was; corrected; otherwise: an agent answered differently; returned: an admin returned an escalation as not an MFA problem).",
		}, []string{"outcome"}),
		jiraCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triage_jira_calls_total", Help: "Jira REST calls, by endpoint, method and status (\"error\" when no answer came).",
		}, []string{"endpoint", "method", "status"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "triage_webhook_to_comment_seconds", Help: "Time from receiving a webhook to the bot's comment on the ticket.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
	}
	m.reg.MustRegister(m.tickets, m.decisions, m.feedback, m.jiraCalls, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves /metrics. A metric that cannot be gathered is left out
// (and counted in promhttp_metric_handler_errors_total), never a 500: a
// Redis outage must not hide the rest.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}

// Decided implements triage.Metrics.
func (m *Metrics) Decided(action string, categories []string) {
	if len(categories) == 0 {
		m.tickets.WithLabelValues(action, "none").Inc()
		return
	}
	for _, c := range categories {
		m.tickets.WithLabelValues(action, c).Inc()
	}
}

// Moded implements triage.Metrics.
func (m *Metrics) Moded(mode string, security bool) {
	m.decisions.WithLabelValues(mode, strconv.FormatBool(security)).Inc()
}

// Feedback implements triage.Metrics.
func (m *Metrics) Feedback(outcome string) {
	m.feedback.WithLabelValues(outcome).Inc()
}

// Commented implements triage.Metrics.
func (m *Metrics) Commented(receivedAt time.Time) {
	if !receivedAt.IsZero() {
		m.latency.Observe(time.Since(receivedAt).Seconds())
	}
}

// idRE finds issue keys and numeric ids in a REST path.
var (
	keyRE = regexp.MustCompile(`/issue/[^/]+`)
	numRE = regexp.MustCompile(`/\d+(/|$)`)
)

// endpoint makes a low-cardinality label of a Jira path:
// /rest/api/2/issue/HD-1/comment → issue/{key}/comment.
func endpoint(path string) string {
	p := strings.TrimPrefix(path, "/rest/api/2/")
	p = strings.TrimPrefix(p, "/rest/api/3/")
	p = keyRE.ReplaceAllString("/"+p, "/issue/{key}")
	p = numRE.ReplaceAllString(p, "/{id}$1")
	return strings.TrimPrefix(p, "/")
}

// JiraTransport counts every Jira call made through it.
func (m *Metrics) JiraTransport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		status := "error"
		if err == nil {
			status = strconv.Itoa(resp.StatusCode)
		}
		m.jiraCalls.WithLabelValues(endpoint(r.URL.Path), r.Method, status).Inc()
		return resp, err
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// OpenEscalations reports the open escalations by reason and the oldest's
// creation time (zero when none).
type OpenEscalations func(ctx context.Context) (byReason map[string]int, oldest time.Time, err error)

// RegisterEscalations adds the escalation gauges, read at scrape time.
func (m *Metrics) RegisterEscalations(f OpenEscalations) {
	m.reg.MustRegister(&escalationCollector{f: f,
		open:   prometheus.NewDesc("triage_escalations_open", "Open escalations, by reason.", []string{"reason"}, nil),
		oldest: prometheus.NewDesc("triage_escalations_oldest_age_seconds", "Age of the oldest open escalation (0 when none).", nil, nil),
		up:     upDesc("triage_escalations_up", "the escalation gauges"),
	})
}

type escalationCollector struct {
	f                OpenEscalations
	open, oldest, up *prometheus.Desc
}

func (c *escalationCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.oldest
	ch <- c.up
}

func (c *escalationCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	by, oldest, err := c.f(ctx)
	ch <- up(c.up, err == nil)
	if err != nil {
		return
	}
	for reason, n := range by {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(n), reason)
	}
	age := 0.0
	if !oldest.IsZero() {
		age = time.Since(oldest).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, age)
}

// RegisterQueues adds the asynq queue sizes by state, read at scrape time.
func (m *Metrics) RegisterQueues(in *asynq.Inspector, queues ...string) {
	m.reg.MustRegister(&queueCollector{in: in, queues: queues,
		size: prometheus.NewDesc("triage_queue_tasks", "asynq tasks in a queue, by state.", []string{"queue", "state"}, nil),
		up:   upDesc("triage_queues_up", "the queue sizes"),
	})
}

type queueCollector struct {
	in       *asynq.Inspector
	queues   []string
	size, up *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.size; ch <- c.up }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	existing, err := c.in.Queues()
	ok := err == nil
	defer func() { ch <- up(c.up, ok) }()
	for _, q := range c.queues {
		if !slices.Contains(existing, q) {
			continue // a queue that has never held a task does not exist yet
		}
		info, err := c.in.GetQueueInfo(q)
		if err != nil {
			ok = false
			continue
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed} {
			ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(n), q, state)
		}
	}
}
