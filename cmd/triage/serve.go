package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"
	"github.com/spf13/cobra"

	"github.com/mfatriage/triage/internal/admin"
	"github.com/mfatriage/triage/internal/intake"
)

// intakeHandler builds the webhook intake.
func (a *app) intakeHandler() (*intake.Handler, error) {
	return intake.NewHandler(intake.Config{
		Secret: a.cfg.WebhookSecret, BotAccountID: a.cfg.BotAccountID, Queue: a.cfg.Queue, Logger: a.log, MaxAge: a.cfg.WebhookMaxAge,
	}, a.client, a.store, intake.PingFunc(func(ctx context.Context) error { return a.rdb.Ping(ctx).Err() }))
}

// pollers builds the poller and the reconciler when TRIAGE_JQL is set.
// cursor is the poller's cursor, one per Jira site (under its prefix).
func (a *app) cursor() *intake.RedisCursor {
	return intake.NewRedisCursor(a.rdb, a.cfg.RedisPrefix+"poll:cursor")
}

func (a *app) pollers() (*intake.Poller, *intake.Reconciler, error) {
	if a.cfg.JQL == "" {
		return nil, nil, nil
	}
	pc := intake.PollerConfig{JQL: a.cfg.JQL, Queue: a.cfg.Queue, Logger: a.log}
	if a.cfg.JiraTimeZone != "" {
		loc, err := time.LoadLocation(a.cfg.JiraTimeZone)
		if err != nil {
			return nil, nil, fmt.Errorf("TRIAGE_JIRA_TIMEZONE: %w", err)
		}
		pc.Location = loc
	}
	p, err := intake.NewPoller(pc, a.jira, a.cursor(), a.client)
	if err != nil {
		return nil, nil, err
	}
	r, err := intake.NewReconciler(intake.ReconcilerConfig{JQL: a.cfg.JQL, Queue: a.cfg.Queue, Window: a.cfg.ReconcileWindow, Logger: a.log}, a.jira, a.store, a.client)
	if err != nil {
		return nil, nil, err
	}
	return p, r, nil
}

// workerServer builds the asynq server with every task type registered.
func (a *app) workerServer() (*asynq.Server, *asynq.ServeMux, error) {
	h, err := a.handler()
	if err != nil {
		return nil, nil, err
	}
	srv, mux := a.asynqServer(h)
	p, r, err := a.pollers()
	if err != nil {
		return nil, nil, err
	}
	if p != nil {
		mux.Handle(intake.TypePoll, p)
		mux.Handle(intake.TypeReconcile, r)
	}
	return srv, mux, nil
}

// scheduler builds the scheduler of the poll and reconcile tasks; nil
// when TRIAGE_JQL is empty.
func (a *app) scheduler() (*intake.Scheduler, error) {
	if a.cfg.JQL == "" {
		return nil, nil
	}
	return intake.NewScheduler(intake.SchedulerConfig{
		PollInterval: a.cfg.PollInterval, ReconcileInterval: a.cfg.ReconcileInterval, Queue: a.cfg.Queue, Logger: a.log,
	}, a.client)
}

// adminHandler builds the admin page and JSON API; nil when no admin
// credential is configured (the page never runs open).
func (a *app) adminHandler() (http.Handler, error) {
	if a.cfg.AdminToken == "" {
		a.log.Warn().Msg("TRIAGE_ADMIN_TOKEN is not set: the admin page and API are off")
		return nil, nil
	}
	svc, err := a.service()
	if err != nil {
		return nil, err
	}
	return admin.New(admin.Config{Token: a.cfg.AdminToken, Secure: a.cfg.AdminSecure, Logger: a.log, JiraBaseURL: a.cfg.JiraBaseURL, Revocations: a.store, Decisions: a.store, TrustedProxies: a.cfg.TrustedProxies}, svc)
}

// maxHeaderBytes bounds a request's headers on the public listener (Jira's
// come to a few KiB); net/http's default is 1 MiB per connection.
const maxHeaderBytes = 64 << 10

// serve runs the roles asked for until ctx ends, then shuts down in order:
// stop intake, stop scheduling, drain the worker, close. The admin page
// is served beside the intake when an admin credential is configured.
func serve(ctx context.Context, a *app, ln net.Listener, runIntake, runWorker bool) error {
	return serveRoles(ctx, a, ln, runIntake, runWorker, runIntake)
}

// serveRoles builds every role first, so that one that cannot be built
// starts nothing, then starts them; whatever started is stopped on the way
// out, whichever way that is.
func serveRoles(ctx context.Context, a *app, ln net.Listener, runIntake, runWorker, runAdmin bool) error {
	var (
		wsrv    *asynq.Server
		wmux    *asynq.ServeMux
		sched   *intake.Scheduler
		httpSrv *http.Server
		err     error
	)
	if err := a.cfg.validateServing(runIntake, runAdmin); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if runWorker {
		if wsrv, wmux, err = a.workerServer(); err != nil {
			return err
		}
		// every worker schedules; task ids per time bucket keep the
		// replicas from doubling the polls
		if sched, err = a.scheduler(); err != nil {
			return err
		}
		if a.jira != nil {
			if a.jiraUp, err = newJiraHealth(a.cfg, cmp.Or(a.jiraCheckEvery, defaultJiraCheckEvery), a.log); err != nil {
				return err
			}
		}
	}
	if ln != nil {
		h, err := a.httpHandler(runIntake, runAdmin)
		if err != nil {
			return err
		}
		httpSrv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, MaxHeaderBytes: maxHeaderBytes}
	}

	// The deferred stops run in the reverse order: intake, scheduler,
	// then the worker drains.
	defer func() { a.log.Info().Msg("stopped") }()
	stopMetrics, err := a.serveMetricsApart()
	if err != nil {
		return err
	}
	defer stopMetrics()
	if a.jiraUp != nil {
		jctx, stopJira := context.WithCancel(ctx)
		defer stopJira()
		go a.jiraUp.run(jctx)
	}
	if wsrv != nil {
		if err := wsrv.Start(wmux); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		defer wsrv.Shutdown() // waits for running tasks up to the shutdown timeout
		a.log.Info().Str("queue", a.cfg.Queue).Int("concurrency", a.cfg.Concurrency).Str("mode", a.cfg.worker().Mode).Msg("worker started")
	}
	if sched != nil {
		schedCtx, stopSched := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			sched.Run(schedCtx)
		}()
		defer func() {
			stopSched()
			<-done
		}()
	}
	errc := make(chan error, 1)
	if httpSrv != nil {
		go func() { errc <- httpSrv.Serve(ln) }()
		defer func() {
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = httpSrv.Shutdown(sctx)
		}()
		a.log.Info().Str("listen", ln.Addr().String()).Bool("intake", runIntake).Msg("listening")
	}
	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			runErr = fmt.Errorf("serve on %s: %w", ln.Addr(), err)
		}
	}
	a.log.Info().Msg("shutting down")
	return runErr
}

// httpHandler builds what the listener serves: /metrics, the intake (or a
// bare /healthz without it) and the admin page when asked for.
func (a *app) httpHandler(runIntake, runAdmin bool) (http.Handler, error) {
	mux := http.NewServeMux()
	if !a.metricsApart() {
		mux.Handle("/metrics", a.metricsHandler())
	}
	if runIntake {
		h, err := a.intakeHandler()
		if err != nil {
			return nil, err
		}
		mux.Handle(intake.WebhookPath, h)
		mux.Handle(intake.HealthPath, h)
		mux.Handle(intake.ReadyPath, a.readyz(h))
	} else {
		mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	}
	if runAdmin {
		h, err := a.adminHandler()
		if err != nil {
			return nil, fmt.Errorf("admin page: %w", err)
		}
		if h != nil {
			mux.Handle("/", h)
		}
	}
	return mux, nil
}

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run intake, worker and scheduler in one process",
		Long: `serve runs the webhook intake (POST /webhooks/jira, /healthz, /readyz), the
worker, and — with TRIAGE_JQL and the intervals set — the poll and
reconciliation scheduler, until SIGINT or SIGTERM.` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRoles(cmd, true, true) },
	}
}

func newAdminCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "admin",
		Short: "Run the admin page and JSON API alone (needs TRIAGE_ADMIN_TOKEN)",
		Long: `admin serves the escalation queue to admins on TRIAGE_LISTEN: the page (log
in with TRIAGE_ADMIN_TOKEN) and the JSON API under /api/escalations (bearer
TRIAGE_ADMIN_TOKEN). Without a token it refuses to start rather than run
open.` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := newApp(cmd, true, false)
			if err != nil {
				return err
			}
			defer a.Close()
			if a.cfg.AdminToken == "" {
				return errors.New("the admin page needs TRIAGE_ADMIN_TOKEN; it does not run open")
			}
			ln, err := net.Listen("tcp", a.cfg.Listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", a.cfg.Listen, err)
			}
			return serveRoles(cmd.Context(), a, ln, false, false, true)
		},
	}
}

func newIntakeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "intake",
		Short: "Run the webhook intake alone",
		Long: `intake serves the webhook intake (POST /webhooks/jira, /healthz, /readyz)
and, with TRIAGE_ADMIN_TOKEN, the admin page, until SIGINT or SIGTERM.` + envHelp(),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRoles(cmd, true, false) },
	}
}

func runRoles(cmd *cobra.Command, runIntake, runWorker bool) error {
	if runWorker {
		workerGC(os.Getenv)
	}
	a, err := newApp(cmd, runWorker, runWorker)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.cfg.Listen, err)
	}
	return serve(cmd.Context(), a, ln, runIntake, runWorker)
}

// workerGCPercent is the worker's garbage-collection target when GOGC is
// not set: the heap may grow by half its live size between collections,
// not by all of it. The live heap is mostly the model and the rules, so
// Go's default of 100 would let a draining worker's memory grow by their
// size again. Measured with bench --queued 10000: a peak of 51 MiB instead
// of 60-61, at the same drain rate.
const workerGCPercent = 50

// workerGC sets workerGCPercent unless the operator set GOGC (which Go
// itself has applied then). It reports whether it set it.
func workerGC(getenv func(string) string) bool {
	if getenv("GOGC") != "" {
		return false
	}
	debug.SetGCPercent(workerGCPercent)
	return true
}

func newPollCmd() *cobra.Command {
	var reconcile bool
	cmd := &cobra.Command{
		Use:   "poll",
		Short: "Poll Jira once with TRIAGE_JQL and enqueue what changed (and reconcile with --reconcile)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := newApp(cmd, true, false)
			if err != nil {
				return err
			}
			defer a.Close()
			p, r, err := a.pollers()
			if err != nil {
				return err
			}
			if p == nil {
				return errors.New("TRIAGE_JQL is empty: say which tickets to poll, e.g. project = HD")
			}
			n, err := p.Poll(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "poll: %d tickets enqueued\n", n)
			if reconcile {
				n, err := r.Sweep(cmd.Context())
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "reconcile: %d tickets enqueued again\n", n)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&reconcile, "reconcile", false, "also run the reconciliation sweep")
	return cmd
}
