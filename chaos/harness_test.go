package chaos_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/mfatriage/triage/internal/jira/jiratest"
)

// The fake Jira's bot account and the webhook secret every process shares.
const (
	botEmail      = "bot@chaos.example"
	botToken      = "chaos-token"
	webhookSecret = "chaos-webhook-s3cret"
)

var bot = jiratest.User{AccountID: "chaos-bot", DisplayName: "Triage Bot", EmailAddress: botEmail}

var (
	binDir    string
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildTook time.Duration
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "triage-chaos-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos: temp dir:", err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// triageBinary builds cmd/triage once per test binary run.
func triageBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		start := time.Now()
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		binPath = filepath.Join(binDir, "triage")
		cmd := exec.Command(goBin, "build", "-o", binPath, "github.com/mfatriage/triage/cmd/triage")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/triage: %v\n%s", err, out)
		}
		buildTook = time.Since(start)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// requireRedis fails the test (never skips) when redis-server is missing.
func requireRedis(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (apt-get install redis-server): %v", err)
	}
	return p
}

// ticketCount is CHAOS_TICKETS, else def (the CI size); -short caps it at
// def.
func ticketCount(t *testing.T, def int) int {
	t.Helper()
	n := def
	if v := os.Getenv("CHAOS_TICKETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 10 {
			t.Fatalf("CHAOS_TICKETS=%q: want a whole number of at least 10", v)
		}
	}
	if testing.Short() {
		n = min(n, def)
	}
	return n
}

func numCPU() int { return runtime.NumCPU() }

// cpuTime is the CPU time (user + system) a process has used so far, from
// /proc/<pid>/stat; 0 when it cannot be read.
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// the fields after the command name, which is in parentheses
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * time.Second / 100 // USER_HZ
}

// selfCPU is the test process's own CPU time.
func selfCPU() time.Duration { return cpuTime(os.Getpid()) }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// env is one test's processes, logs and fake Jira.
type env struct {
	t      *testing.T
	dir    string // scratch: Redis data, configs
	logDir string
	bin    string

	mu    sync.Mutex
	procs []*proc
}

func newEnv(t *testing.T) *env {
	t.Helper()
	requireRedis(t)
	e := &env{t: t, dir: t.TempDir(), bin: triageBinary(t)}
	e.logDir = filepath.Join(e.dir, "logs")
	if d := os.Getenv("CHAOS_LOG_DIR"); d != "" {
		e.logDir = filepath.Join(d, t.Name())
		if err := os.RemoveAll(e.logDir); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(e.logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.stopAll)
	return e
}

// proc is a child process in a process group of its own.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// kill SIGKILLs the process group and waits for the process.
func (p *proc) kill() {
	if p.alive() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	<-p.done
}

// stop sends SIGTERM and waits up to d, then kills.
func (p *proc) stop(d time.Duration) {
	if p.alive() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	}
	select {
	case <-p.done:
	case <-time.After(d):
		p.kill()
	}
}

// start runs a command with its output appended to logName in the log
// dir, or fails the test.
func (e *env) start(name, logName string, extraEnv []string, path string, args ...string) *proc {
	e.t.Helper()
	p, err := e.spawn(name, logName, extraEnv, path, args...)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// spawn is start returning the error; safe from any goroutine.
func (e *env) spawn(name, logName string, extraEnv []string, path string, args ...string) (*proc, error) {
	f, err := os.OpenFile(filepath.Join(e.logDir, logName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = e.dir
	cmd.Env = append(baseEnv(), extraEnv...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	e.mu.Lock()
	e.procs = append(e.procs, p)
	e.mu.Unlock()
	return p, nil
}

// baseEnv is the test's environment without any triage, Redis or Jira
// setting that could leak into the children.
func baseEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "TRIAGE_") || strings.HasPrefix(k, "REDIS_") || strings.HasPrefix(k, "JIRA_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// stopAll kills every process still running (t.Cleanup).
func (e *env) stopAll() {
	e.mu.Lock()
	procs := append([]*proc(nil), e.procs...)
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() { defer wg.Done(); p.kill() }()
	}
	wg.Wait()
}

// ---- Redis ----

type redisOpts struct {
	port    int
	dataDir string
	extra   []string
	log     string
}

// startRedis starts a redis-server with the append-only file on (fsync
// always, no RDB snapshots) and waits until it answers PING.
func (e *env) startRedis(name string, o redisOpts) *proc {
	e.t.Helper()
	requireRedis(e.t)
	p, err := e.spawnRedis(name, o)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// queueRedis is a redis-server of a test's own (append-only file on) with
// the clients the tests read and drive the queue through.
type queueRedis struct {
	proc   *proc
	opts   redisOpts
	addr   string
	rdb    *redis.Client
	insp   *asynq.Inspector
	client *asynq.Client
}

// startQueueRedis starts a redis-server on a free port under the test's
// directory and opens its clients, closed when the test ends.
func (e *env) startQueueRedis() *queueRedis {
	e.t.Helper()
	q := &queueRedis{opts: redisOpts{port: freePort(e.t), dataDir: filepath.Join(e.dir, "redis")}}
	q.proc = e.startRedis("redis", q.opts)
	q.addr = "127.0.0.1:" + strconv.Itoa(q.opts.port)
	q.rdb = redis.NewClient(&redis.Options{Addr: q.addr})
	e.t.Cleanup(func() { q.rdb.Close() })
	conn := asynq.RedisClientOpt{Addr: q.addr}
	q.insp = asynq.NewInspector(conn)
	e.t.Cleanup(func() { q.insp.Close() })
	q.client = asynq.NewClient(conn)
	e.t.Cleanup(func() { q.client.Close() })
	return q
}

// spawnRedis is startRedis returning the error; safe from any goroutine.
func (e *env) spawnRedis(name string, o redisOpts) (*proc, error) {
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		return nil, err
	}
	args := []string{
		"--port", strconv.Itoa(o.port), "--bind", "127.0.0.1", "--dir", o.dataDir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--daemonize", "no", "--protected-mode", "no", "--maxmemory-policy", "noeviction",
	}
	args = append(args, o.extra...)
	log := o.log
	if log == "" {
		log = name + ".log"
	}
	p, err := e.spawn(name, log, nil, "redis-server", args...)
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(o.port)
	if err := waitRedis(addr, 20*time.Second, p); err != nil {
		return nil, fmt.Errorf("%s on %s: %v", name, addr, err)
	}
	return p, nil
}

// waitRedis waits until the server answers PING (not LOADING).
func waitRedis(addr string, d time.Duration, p *proc) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 500 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(d)
	var err error
	for time.Now().Before(deadline) {
		if p != nil && !p.alive() {
			return fmt.Errorf("exited: %v", p.err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no PONG within %v: %v", d, err)
}

// ---- triage processes ----

// triageConfig is the environment of every triage process of a test.
type triageConfig struct {
	redisURL  string   // REDIS_URL, or
	sentinels []string // REDIS_SENTINEL_ADDRS with masterName
	master    string
	jiraURL   string
	queue     string
	// concurrency is TRIAGE_CONCURRENCY when set (default 10)
	concurrency int
}

func (c triageConfig) env(listen string) []string {
	env := []string{
		"JIRA_BASE_URL=" + c.jiraURL, "JIRA_EMAIL=" + botEmail, "JIRA_API_TOKEN=" + botToken,
		"TRIAGE_BOT_ACCOUNT_ID=" + bot.AccountID, "JIRA_WEBHOOK_SECRET=" + webhookSecret,
		"TRIAGE_QUEUE=" + c.queue, "TRIAGE_LISTEN=" + listen, "TRIAGE_LOG_LEVEL=info",
		// one site per Redis here: the keys the checks read, as an
		// upgraded deployment that kept its keys has them
		"TRIAGE_REDIS_PREFIX=triage:",
		"TRIAGE_SHUTDOWN_TIMEOUT=5s",
	}
	if c.concurrency > 0 {
		env = append(env, "TRIAGE_CONCURRENCY="+strconv.Itoa(c.concurrency))
	}
	if len(c.sentinels) > 0 {
		env = append(env, "REDIS_SENTINEL_ADDRS="+strings.Join(c.sentinels, ","), "REDIS_MASTER_NAME="+c.master)
	} else {
		env = append(env, "REDIS_URL="+c.redisURL)
	}
	return env
}

// startIntake runs `triage intake` and waits for /healthz.
func (e *env) startIntake(c triageConfig) (*proc, string) {
	e.t.Helper()
	port := freePort(e.t)
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	p := e.start("intake", "intake.log", c.env("127.0.0.1:"+strconv.Itoa(port)), e.bin, "intake")
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, url
			}
		}
		if !p.alive() || time.Now().After(deadline) {
			e.t.Fatalf("triage intake did not come up on %s: %v\n%s", url, err, e.tail("intake.log", 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// workerSlot is one worker process that the test may kill and restart.
type workerSlot struct {
	e    *env
	n    int
	cfg  triageConfig
	mu   sync.Mutex
	cur  *proc
	runs int
}

func (e *env) startWorker(n int, c triageConfig) *workerSlot {
	e.t.Helper()
	w := &workerSlot{e: e, n: n, cfg: c}
	if err := w.restart(); err != nil {
		e.t.Fatal(err)
	}
	return w
}

func (w *workerSlot) logName() string { return fmt.Sprintf("worker-%d.log", w.n) }

// restart starts the worker (again); TRIAGE_LISTEN :0 picks a free port.
func (w *workerSlot) restart() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.runs++
	p, err := w.e.spawn(fmt.Sprintf("worker-%d#%d", w.n, w.runs), w.logName(), w.cfg.env("127.0.0.1:0"), w.e.bin, "worker")
	if err != nil {
		return err
	}
	w.cur = p
	return nil
}

// kill SIGKILLs the running worker process.
func (w *workerSlot) kill() {
	w.mu.Lock()
	p := w.cur
	w.mu.Unlock()
	p.kill()
}

func (w *workerSlot) alive() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur.alive()
}

// tail returns the last n lines of a log.
func (e *env) tail(logName string, n int) string {
	data, _ := os.ReadFile(filepath.Join(e.logDir, logName))
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// scanLogs calls fn with each line of the logs whose name starts with
// prefix, until fn returns false.
func (e *env) scanLogs(prefix string, fn func(log, line string) bool) {
	entries, _ := os.ReadDir(e.logDir)
	for _, en := range entries {
		if !strings.HasPrefix(en.Name(), prefix) {
			continue
		}
		f, err := os.Open(filepath.Join(e.logDir, en.Name()))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if !fn(en.Name(), sc.Text()) {
				f.Close()
				return
			}
		}
		f.Close()
	}
}

// grepLogs returns the log lines (of every log) that contain s, at most max.
func (e *env) grepLogs(s string, max int) []string {
	var out []string
	e.scanLogs("", func(log, line string) bool {
		if strings.Contains(line, s) {
			out = append(out, log+": "+line)
		}
		return len(out) < max
	})
	return out
}

// countLogs counts the log lines of logs whose name starts with prefix that
// contain s.
func (e *env) countLogs(prefix, s string) int {
	n := 0
	e.scanLogs(prefix, func(_, line string) bool {
		if strings.Contains(line, s) {
			n++
		}
		return true
	})
	return n
}

// ---- the fake Jira ----

// fakeJira is jiratest's fake served on a loopback listener, with two
// faults of its own on top of the fake's: writes that Jira applies but
// answers 504 (a proxy timing out), and slow calls.
type fakeJira struct {
	*jiratest.Server
	url string

	mu            sync.Mutex
	rng           *rand.Rand
	ambiguousRate float64 // of writes to issues
	slowRate      float64 // of all calls
	slowMin       time.Duration
	slowMax       time.Duration

	ambiguous atomic.Int64
	slow      atomic.Int64

	// hold, when set, applies a PUT to that issue, then holds the answer
	// until the client goes away (or holdFor passes), after signalling
	// held
	hold    string
	holdFor time.Duration
	held    chan struct{}
}

// holdWrites makes the next successful PUT to key be applied and its answer
// held back; the returned channel is closed once Jira applied it.
func (f *fakeJira) holdWrites(key string, d time.Duration) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold, f.holdFor, f.held = key, d, make(chan struct{})
	return f.held
}

func startFakeJira(t *testing.T, seed uint64, users ...jiratest.User) *fakeJira {
	t.Helper()
	f := &fakeJira{
		Server: jiratest.NewHandler(jiratest.WithBasicAuth(botEmail, botToken, bot), jiratest.WithUsers(users...), jiratest.WithSeed(seed)),
		rng:    rand.New(rand.NewPCG(seed, seed+1)),
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	f.url = "http://" + ln.Addr().String()
	return f
}

// setChaos sets the fake's own faults (the jiratest faults are SetFaults).
func (f *fakeJira) setChaos(ambiguousRate, slowRate float64, slowMin, slowMax time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ambiguousRate, f.slowRate, f.slowMin, f.slowMax = ambiguousRate, slowRate, slowMin, slowMax
}

func (f *fakeJira) draw() (ambiguous bool, slow time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ambiguous = f.ambiguousRate > 0 && f.rng.Float64() < f.ambiguousRate
	if f.slowRate > 0 && f.rng.Float64() < f.slowRate {
		slow = f.slowMin + time.Duration(f.rng.Int64N(int64(f.slowMax-f.slowMin)+1))
	}
	return ambiguous, slow
}

func (f *fakeJira) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	hold := f.hold != "" && r.Method == http.MethodPut && r.URL.Path == "/rest/api/2/issue/"+f.hold
	holdFor, held := f.holdFor, f.held
	if hold {
		f.hold = ""
	}
	f.mu.Unlock()
	if hold {
		rec := httptest.NewRecorder()
		f.Server.ServeHTTP(rec, r)
		close(held)
		select {
		case <-time.After(holdFor):
		case <-r.Context().Done():
			return
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, rec.Body)
		return
	}
	ambiguous, slow := f.draw()
	if slow > 0 {
		f.slow.Add(1)
		select {
		case <-time.After(slow):
		case <-r.Context().Done():
			return
		}
	}
	isWrite := r.Method == http.MethodPut || r.Method == http.MethodPost
	if !ambiguous || !isWrite || !strings.HasPrefix(r.URL.Path, "/rest/api/2/issue/") {
		f.Server.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	f.Server.ServeHTTP(rec, r)
	if rec.Code >= 300 {
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = io.Copy(w, rec.Body)
		return
	}
	// Jira did the write; the client never hears of it.
	f.ambiguous.Add(1)
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusGatewayTimeout)
	_, _ = io.WriteString(w, "<html><body><h1>504 Gateway Time-out</h1></body></html>\n")
}

// faultCounts counts the injected faults: the fake's (from its call log) and
// the wrapper's.
type faultCounts struct {
	serverErrors, rateLimits, ambiguous, slow int
}

func (c faultCounts) total() int { return c.serverErrors + c.rateLimits + c.ambiguous }

func (f *fakeJira) faults() faultCounts {
	var c faultCounts
	for _, call := range f.Calls() {
		switch call.Fault {
		case "":
		case "rate-limit", "issue-write-limit":
			c.rateLimits++
		default:
			c.serverErrors++
		}
	}
	c.ambiguous = int(f.ambiguous.Load())
	c.slow = int(f.slow.Load())
	return c
}

// callLog describes the fake's calls on one issue, for a failure message.
func (f *fakeJira) callLog(key string) string {
	var b strings.Builder
	for _, c := range f.Calls() {
		if c.Issue != key {
			continue
		}
		fmt.Fprintf(&b, "    %s %-4s %s?%s -> %d", c.Time.Format("15:04:05.000"), c.Method, c.Path, c.Query, c.Status)
		if c.Fault != "" {
			fmt.Fprintf(&b, " (fault %s)", c.Fault)
		}
		if c.Write {
			b.WriteString(" WRITE")
		}
		if c.Method != http.MethodGet && len(c.Body) > 0 {
			body := string(c.Body)
			if len(body) > 160 {
				body = body[:160] + "…"
			}
			fmt.Fprintf(&b, " %s", strings.ReplaceAll(body, "\n", `\n`))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
