# triage — make targets. `make help` lists them.
GO        ?= go
PKGS      ?= ./...
# make test leaves the chaos package (minutes of process kills) to make chaos-ci
TEST_PKGS ?= $(shell $(GO) list $(PKGS) | grep -v '/chaos$$')
TEST_REDIS_URL ?= redis://127.0.0.1:6379/14
export TEST_REDIS_URL
# the tests that measure allocations, which the race detector would distort,
# and those that train (minutes under it, so left out of its build),
# run without it, in the packages that have them only
RACEFREE_TESTS := Allocs|EmbeddedModel|UnscoredSets
RACEFREE_PKGS  ?= $(sort $(dir $(shell grep -rlE '^func Test[A-Za-z0-9_]*($(RACEFREE_TESTS))' --include='*_test.go' . | grep -v '^./chaos/')))

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/triage
	$(GO) build -o bin/triage ./cmd/triage

.PHONY: test
test: ## Run every test with the race detector, then the allocation tests without it (installs chromium and redis-server when missing; starts a throwaway Redis if none answers)
	./scripts/deps.sh
	./scripts/with-redis.sh $(GO) test -race -count=1 $(TEST_PKGS)
	$(GO) test -count=1 -run '$(RACEFREE_TESTS)' $(RACEFREE_PKGS)

.PHONY: bench
bench: ## Run the benchmarks, each beside its baseline
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

.PHONY: bench-pipeline
bench-pipeline: build ## Pipeline vs raw asynq: an unthrottled run, then a 200 tickets/s latency run (BENCH_FLAGS adds flags)
	./scripts/with-redis.sh bin/triage bench --tickets $${BENCH_TICKETS:-10000} $(BENCH_FLAGS)
	./scripts/with-redis.sh bin/triage bench --tickets 4000 --rate 200 $(BENCH_FLAGS)

.PHONY: attack-memory
attack-memory: build ## 1,000 concurrent slow 1 MiB uploads (unsigned, then forged) against `triage serve` on 127.0.0.1; prints the peak RSS, fails over 128 MiB or if /healthz stops answering (ATTACK_FLAGS adds flags)
	./scripts/with-redis.sh $(GO) run ./scripts/attackmem --bin bin/triage $(ATTACK_FLAGS)

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 20s)
	./scripts/fuzz.sh $${FUZZTIME:-20s}

.PHONY: eval
eval: ## Score the classifier on the dev corpus and the project's own labeled tickets
	$(GO) run ./cmd/triage eval --corpus ../shared/corpus/dev.jsonl
	$(GO) run ./cmd/triage eval --corpus testdata/corpus/handwritten.jsonl
	$(GO) run ./cmd/triage eval --corpus testdata/corpus/languages.jsonl

MODEL_CORPORA := $(sort $(wildcard testdata/corpus/*.jsonl)) ../shared/corpus/dev.jsonl

.PHONY: model
model: ## Rebuild the embedded model (classifier/model.bin.gz) from the labeled corpora; deterministic
	$(GO) run ./cmd/triage train $(addprefix --corpus ,$(MODEL_CORPORA)) --replays testdata/model/rules-firstrun.jsonl --out classifier/model.bin.gz

.PHONY: rules-lint
rules-lint: ## List the rules' phrases that match no labeled ticket, or only one
	$(GO) run ./cmd/triage rules lint $(addprefix --corpus ,$(MODEL_CORPORA))

.PHONY: lint
lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

.PHONY: chaos
chaos: ## Chaos test, full size (CHAOS_TICKETS, default 2000): worker SIGKILLs, a Redis restart, Jira faults; ends with the chaos: line
	@log=$$(mktemp); \
	{ CHAOS_TICKETS=$${CHAOS_TICKETS:-2000} $(GO) test -v -count=1 -timeout 10m -run '^TestChaos$$' ./chaos; echo $$? > $$log.rc; } 2>&1 | tee $$log; \
	rc=$$(cat $$log.rc); grep -h '^chaos: ' $$log | tail -1; rm -f $$log $$log.rc; exit $$rc

.PHONY: chaos-ci
chaos-ci: ## Every chaos/ test at full size (CHAOS_TICKETS, default 2000; ~3.5 min): chaos, three workers, Sentinel failover, crash between Jira and Redis
	@log=$$(mktemp); \
	{ CHAOS_TICKETS=$${CHAOS_TICKETS:-2000} $(GO) test -v -count=1 -timeout 12m ./chaos; echo $$? > $$log.rc; } 2>&1 | tee $$log; \
	rc=$$(cat $$log.rc); grep -hE '^(chaos|scale|failover|crash-between-jira-and-redis): ' $$log; rm -f $$log $$log.rc; exit $$rc

.PHONY: failover
failover: ## Redis Sentinel failover test (CHAOS_TICKETS, default 2000): master, replica, 3 sentinels, the master SIGKILLed mid-run; ends with the failover: line
	@log=$$(mktemp); \
	{ CHAOS_TICKETS=$${CHAOS_TICKETS:-2000} $(GO) test -v -count=1 -timeout 10m -run '^TestSentinelFailover$$' ./chaos; echo $$? > $$log.rc; } 2>&1 | tee $$log; \
	rc=$$(cat $$log.rc); grep -h '^failover: ' $$log | tail -1; rm -f $$log $$log.rc; exit $$rc
