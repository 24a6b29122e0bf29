package main

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"time"

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
	// jiraUp is Jira's health for /readyz, in a process that works
	// tickets; jiraCheckEvery how often it is checked (default 30s).
	jiraUp         *jiraHealth
	jiraCheckEvery time.Duration
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
	a := &app{cfg: cfg, log: newLogger(logw, cfg.LogLevel, cfg.LogFormat), metrics: metrics.New()}
	routeRedisLogs(a.log)
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
	a.store = redisstore.New(a.rdb, redisstore.Config{Prefix: cfg.RedisPrefix, Feedback: redisstore.FeedbackConfig{TTL: cfg.FeedbackTTL}})
	a.esc = escalation.New(a.rdb, cfg.RedisPrefix)
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
	clf, fp, err := classifierFrom(a.cfg.RulesPath, a.cfg.ModelPath, a.cfg.AutoThreshold, a.cfg.FallbackLanguage)
	if err != nil {
		return nil, err
	}
	a.log.Info().Str("rules", fp.rules).Str("rules_sha256", fp.rulesSHA).Str("model", fp.model).Str("model_sha256", fp.modelSHA).
		Float64("auto_threshold", clf.AutoThreshold()).Msg("classifier loaded")
	tmpl, err := templates.Load(a.cfg.TemplatesDir)
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	// what loading left behind (the model's compressed copy, parse trees)
	// goes back to the system before the worker starts
	defer debug.FreeOSMemory()
	return worker.NewTriageHandler(a.cfg.worker(), worker.Deps{
		Classifier: clf, Templates: tmpl, Jira: jira.NewTaskTriage(a.jira), States: a.store,
		Escalations: a.esc,
		Followups:   &worker.AsynqFollowups{Client: a.client, Inspector: a.inspector, Queue: a.cfg.Queue},
		Metrics:     a.metrics,
		Feedback:    a.store,
		Decisions:   a.store,
		Logger:      a.log,
	})
}

// fingerprint names the rules and the model a classifier was built from,
// with their SHA-256, for the startup log: an upgrade that kept an old
// override shows there.
type fingerprint struct {
	rules, rulesSHA, model, modelSHA string
}

// classifierFrom builds the classifier from a rules file and a model file,
// each the embedded one when its path is empty. A threshold, when set,
// replaces the model's auto threshold.
func classifierFrom(rulesPath, modelPath string, threshold *float64, fallback string) (*classifier.Classifier, fingerprint, error) {
	fp := fingerprint{rules: cmp.Or(rulesPath, "embedded"), model: cmp.Or(modelPath, "embedded")}
	rulesData, err := readOr(rulesPath, classifier.DefaultRules)
	if err != nil {
		return nil, fp, fmt.Errorf("read rules: %w", err)
	}
	modelData, err := readOr(modelPath, classifier.DefaultModel)
	if err != nil {
		return nil, fp, fmt.Errorf("read model: %w", err)
	}
	fp.rulesSHA, fp.modelSHA = sha256Hex(rulesData), sha256Hex(modelData)
	rs, err := classifier.ParseRules(bytes.NewReader(rulesData))
	if err != nil {
		return nil, fp, fmt.Errorf("rules file %s: %w", fp.rules, err)
	}
	m, err := classifier.ReadModel(bytes.NewReader(modelData))
	if err != nil {
		return nil, fp, fmt.Errorf("model %s: %w", fp.model, err)
	}
	opts := []classifier.Option{classifier.WithModel(m), classifier.WithFallbackLanguage(fallback)}
	if threshold != nil {
		opts = append(opts, classifier.WithAutoThreshold(*threshold))
	}
	c, err := classifier.New(rs, opts...)
	return c, fp, err
}

// readOr reads a file, or returns the embedded bytes when path is empty.
func readOr(path string, embedded func() []byte) ([]byte, error) {
	if path == "" {
		return embedded(), nil
	}
	return os.ReadFile(path)
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// rulesClassifier is the rules alone, without the model (for training).
func rulesClassifier(path string) (*classifier.Classifier, error) {
	rs, err := rulesFrom(path)
	if err != nil {
		return nil, err
	}
	return classifier.New(rs)
}

// rulesFrom parses a rules file, or the embedded rules when path is empty.
func rulesFrom(path string) (*classifier.Rules, error) {
	data, err := readOr(path, classifier.DefaultRules)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	rs, err := classifier.ParseRules(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("rules file %s: %w", cmp.Or(path, "(embedded)"), err)
	}
	return rs, nil
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
