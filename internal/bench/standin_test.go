package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/intake"
	"github.com/mfatriage/triage/worker"
)

// The stand-ins for triage's intake and worker: the least the bench needs
// to measure something, so that its mechanics are tested on their own.
// cmd/triage tests the bench on the real pipeline.

// standInPipeline is a Pipeline whose intake checks the signature and
// enqueues the delivery's ticket, and whose worker replies to each with
// one Jira edit.
func standInPipeline(ctx context.Context, c PipelineConfig, ln net.Listener, _ io.Writer) error {
	conn, err := asynqConn(c.RedisURL)
	if err != nil {
		return err
	}
	client := asynq.NewClient(conn)
	defer client.Close()
	srv := standInWorker(conn, c)
	if err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		return standInReply(ctx, c, string(t.Payload()))
	})); err != nil {
		return err
	}
	defer srv.Shutdown()
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+intake.HealthPath, func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("POST "+intake.WebhookPath, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var ev struct {
			Issue struct{ Key string } `json:"issue"`
		}
		if r.Header.Get(intake.HeaderSignature) != intake.Sign(c.WebhookSecret, body) || json.Unmarshal(body, &ev) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		task := asynq.NewTask("standin", []byte(ev.Issue.Key))
		if _, err := client.EnqueueContext(r.Context(), task, asynq.Queue(c.Queue), asynq.TaskID(r.Header.Get(intake.HeaderDeliveryID))); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	<-ctx.Done()
	return hs.Shutdown(context.Background())
}

func asynqConn(url string) (asynq.RedisClientOpt, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return asynq.RedisClientOpt{}, err
	}
	return asynq.RedisClientOpt{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB}, nil
}

func standInWorker(conn asynq.RedisClientOpt, c PipelineConfig) *asynq.Server {
	return asynq.NewServer(conn, asynq.Config{
		Concurrency: c.Concurrency, Queues: map[string]int{c.Queue: 1}, TaskCheckInterval: 20 * time.Millisecond,
		LogLevel: asynq.FatalLevel, ShutdownTimeout: 5 * time.Second,
	})
}

// standInReply is the stand-in worker's one edit of a ticket: a comment and
// the replied label.
func standInReply(ctx context.Context, c PipelineConfig, key string) error {
	body := `{"update":{"comment":[{"add":{"body":"the steps"}}],"labels":[{"add":"triage-replied"}]}}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.JiraBaseURL+"/rest/api/2/issue/"+key, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.JiraEmail, c.JiraAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("edit %s: %s", key, resp.Status)
	}
	return nil
}

// TestStandInWorkerChild is the worker process of the RunQueued tests: the
// stand-in worker on the triage tasks, configured by the environment as
// RunQueued configures `triage worker`, until SIGTERM. Run directly, it
// does nothing.
func TestStandInWorkerChild(t *testing.T) {
	if os.Getenv("BENCH_STANDIN_WORKER") != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	concurrency, _ := strconv.Atoi(os.Getenv("TRIAGE_CONCURRENCY"))
	c := PipelineConfig{
		JiraBaseURL: os.Getenv("JIRA_BASE_URL"), JiraEmail: os.Getenv("JIRA_EMAIL"), JiraAPIToken: os.Getenv("JIRA_API_TOKEN"),
		Queue: os.Getenv("TRIAGE_QUEUE"), Concurrency: concurrency,
	}
	conn, err := asynqConn(os.Getenv("REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	srv := standInWorker(conn, c)
	if err := srv.Start(asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		var p worker.TriagePayload
		if err := json.Unmarshal(task.Payload(), &p); err != nil {
			return err
		}
		return standInReply(ctx, c, p.Issue.Key)
	})); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	srv.Shutdown()
}
