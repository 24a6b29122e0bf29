package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/classifier"
	"github.com/mfatriage/triage/internal/escalation"
	"github.com/mfatriage/triage/internal/jira"
	"github.com/mfatriage/triage/internal/metrics"
	"github.com/mfatriage/triage/internal/redisstore"
	"github.com/mfatriage/triage/templates"
	"github.com/mfatriage/triage/worker"
)

// app holds what the long-running commands share, built from the
// configuration.
type app struct {
	cfg       config
	log       zerolog.Logger
	rdb       redis.UniversalClient
	redisConn asynq.RedisConnOpt
	client    *asynq.Client
	inspector *asynq.Inspector
	store     *redisstore.Store
	esc       *escalation.Store
	jira      *jira.Client
	metrics   *metrics.Metrics
}

// readConfig loads the configuration named by --config (or TRIAGE_CONFIG)
// and the environment.
func readConfig(cmd *cobra.Command) (config, error) {
	path, _ := cmd.Flags().GetString("config")
	if path == "" {
		path = os.Getenv("TRIAGE_CONFIG")
	}
	return loadConfig(path, os.Getenv)
}

func newLogger(w io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// newApp reads the configuration and connects to Redis (and Jira when
// needJira).
func newApp(cmd *cobra.Command, needJira, needWorker bool) (*app, error) {
	cfg, err := readConfig(cmd)
	if err != nil {
		return nil, err
	}
	return appFrom(cfg, cmd.ErrOrStderr(), needJira, needWorker)
}

// appFrom builds the app from a configuration, logging to logw.
func appFrom(cfg config, logw io.Writer, needJira, needWorker bool) (*app, error) {
	if err := cfg.validate(needJira, needWorker); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	var err error
	a := &app{cfg: cfg, log: newLogger(logw, cfg.LogLevel), metrics: metrics.New()}
	if len(cfg.RedisSentinelAddrs) > 0 {
		a.rdb = redis.NewFailoverClient(&redis.FailoverOptions{MasterName: cfg.RedisMasterName, SentinelAddrs: cfg.RedisSentinelAddrs})
		a.redisConn = asynq.RedisFailoverClientOpt{MasterName: cfg.RedisMasterName, SentinelAddrs: cfg.RedisSentinelAddrs}
	} else {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		a.rdb = redis.NewClient(opt)
		a.redisConn = asynq.RedisClientOpt{Addr: opt.Addr, Username: opt.Username, Password: opt.Password, DB: opt.DB, TLSConfig: opt.TLSConfig}
	}
	a.client = asynq.NewClient(a.redisConn)
	a.inspector = asynq.NewInspector(a.redisConn)
	a.store = redisstore.New(a.rdb, redisstore.Config{})
	a.esc = escalation.New(a.rdb, "")
	a.metrics.RegisterEscalations(a.esc.OpenStats)
	a.metrics.RegisterQueues(a.inspector, cfg.Queue)
	if needJira {
		// keep a connection per concurrent task: the default two idle
		// connections per host make every other call open a new one
		base := http.DefaultTransport.(*http.Transport).Clone()
		base.MaxIdleConnsPerHost = max(cfg.Concurrency, 16)
		a.jira, err = jira.New(cfg.jira(), jira.WithLogger(a.log), jira.WithHTTPTransport(a.metrics.JiraTransport(base)))
		if err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *app) Close() {
	a.client.Close()
	a.inspector.Close()
	a.rdb.Close()
}

// handler builds the worker's task handler.
func (a *app) handler() (*worker.TriageHandler, error) {
	clf, err := classifierFrom(a.cfg.RulesPath)
	if err != nil {
		return nil, err
	}
	tmpl, err := templates.Load(a.cfg.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	return worker.NewTriageHandler(a.cfg.worker(), worker.Deps{
		Classifier: clf, Templates: tmpl, Jira: jira.NewTaskTriage(a.jira), States: a.store,
		Escalations: a.esc,
		Followups:   &worker.AsynqFollowups{Client: a.client, Inspector: a.inspector, Queue: a.cfg.Queue},
		Metrics:     a.metrics,
		Logger:      a.log,
	})
}

// classifierFrom builds the classifier from a rules file, or the embedded
// rules when path is empty.
func classifierFrom(path string) (*classifier.Classifier, error) {
	if path == "" {
		return classifier.NewDefault()
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	rs, err := classifier.ParseRules(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("rules file %s: %w", path, err)
	}
	return classifier.New(rs)
}

// asynqServer builds the worker's asynq server and mux.
func (a *app) asynqServer(h *worker.TriageHandler) (*asynq.Server, *asynq.ServeMux) {
	srv := asynq.NewServer(a.redisConn, asynq.Config{
		Concurrency:       a.cfg.Concurrency,
		TaskCheckInterval: a.cfg.TaskCheckInterval,
		Queues:            map[string]int{a.cfg.Queue: 1},
		RetryDelayFunc:    worker.RetryDelay,
		IsFailure:         worker.IsFailure,
		ShutdownTimeout:   a.cfg.ShutdownTimeout,
		Logger:            asynqLogger{a.log},
	})
	mux := asynq.NewServeMux()
	mux.Use(worker.RecoveryMiddleware(a.log), worker.LoggingMiddleware(a.log))
	h.Register(mux)
	return srv, mux
}

// asynqLogger sends asynq's own log lines to zerolog.
type asynqLogger struct{ l zerolog.Logger }

func (l asynqLogger) Debug(args ...any) { l.l.Debug().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.l.Info().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.l.Warn().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.l.Error().Msg(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.l.Fatal().Msg(fmt.Sprint(args...)) }
