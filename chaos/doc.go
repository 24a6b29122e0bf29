// Package chaos holds the proof, under faults and load, that triage writes
// to Jira exactly once: tests that run the real `triage` binary as separate
// OS processes (one intake, several workers) against redis-servers they
// start themselves and a fake Jira served from the test process, then break
// things and count what ended up in Jira.
//
//   - TestChaos: 2 worker processes SIGKILLed every 1–2 s and restarted,
//     Redis (append-only file, fsync always) killed and restarted once, the
//     fake Jira answering ~10 % 5xx, ~5 % 429 with Retry-After, some writes
//     applied and then answered 504, some slow calls; 20 % of the webhooks
//     delivered twice or more, some late. At the end, after the
//     reconciliation sweep: 0 lost, 0 duplicate comments, 0 duplicate
//     escalations. `make chaos` runs it at full size (2,000 tickets) and
//     ends with the line
//     `chaos: tickets=… lost=… duplicate_comments=… duplicate_escalations=…
//     worker_kills=… redis_restarts=… jira_faults=… duplicate_webhooks=…`.
//   - TestThreeWorkers: the same outcome with 3 worker processes on one
//     Redis, and the throughput of 3 processes against 1 on the same
//     tickets.
//   - TestSentinelFailover (`make failover`): a master, a replica and 3
//     sentinels; the master is SIGKILLed mid-run, the workers
//     (REDIS_SENTINEL_ADDRS) carry on, the reconciliation sweep recovers
//     what the failover lost.
//   - TestCrashBetweenJiraAndRedis: a worker SIGKILLed between its Jira
//     write and its Redis save (the fake Jira holds the answer to widen
//     that window), then the ticket's webhook task as a first attempt:
//     one reply, not two.
//
// The size of TestChaos and TestSentinelFailover is CHAOS_TICKETS (default
// 300, also under -short; `make chaos`, `make failover` and `make chaos-ci`,
// which CI runs, set 2,000); TestThreeWorkers's is
// CHAOS_SCALE_TICKETS (default 1,000 per run); CHAOS_KILL_FOR overrides how
// long TestChaos kills workers. The tests need redis-server (Debian's
// redis-server package) and fail, never skip, without it. They build
// cmd/triage once per run. CHAOS_LOG_DIR keeps the processes' logs (one
// directory per test) for reading after the run.
//
// Timing: asynq re-runs a task whose process died only once its lease (30 s)
// is 30 s past expiry and a recoverer pass (at every worker start, then each
// minute) has seen it, after the retry delay (15–45 s on the first retry):
// up to ~3 minutes after the kill. TestChaos therefore stops killing well
// before its deadline and waits on the outcome (polling the fake Jira and
// the queue), not on sleeps; in the last 40 s it runs the retry-scheduled
// tasks at once so that nothing is left to write after the count.
package chaos
