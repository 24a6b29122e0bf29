#!/usr/bin/env bash
# with-redis.sh CMD...: run CMD with a Redis answering at $TEST_REDIS_URL.
# If nothing answers there, start a throwaway redis-server for the run (when
# one is installed), or stop with a one-line instruction. Never skip.
set -euo pipefail
url=${TEST_REDIS_URL:-redis://127.0.0.1:6379/14}
hostport=${url#redis://}
hostport=${hostport%%/*}
hostport=${hostport##*@}
host=${hostport%%:*}
port=${hostport##*:}
[ "$port" = "$host" ] && port=6379

ping() { (exec 3<>"/dev/tcp/$host/$port" && printf 'PING\r\n' >&3 && timeout 2 head -c 5 <&3 | grep -q PONG) 2>/dev/null; }

started=""
if ! ping; then
  if ! command -v redis-server >/dev/null 2>&1; then
    echo "no Redis answers at $url and redis-server is not installed: install it (apt-get install redis-server) or set TEST_REDIS_URL" >&2
    exit 1
  fi
  echo "no Redis at $url: starting a throwaway redis-server on $host:$port for this run" >&2
  redis-server --daemonize yes --bind "$host" --port "$port" --save "" --appendonly no \
    --pidfile "/tmp/triage-test-redis-$port.pid" --logfile "/tmp/triage-test-redis-$port.log" >/dev/null
  started=yes
  for _ in $(seq 1 50); do ping && break; sleep 0.1; done
  ping || { echo "redis-server did not start on $host:$port (see /tmp/triage-test-redis-$port.log)" >&2; exit 1; }
fi
stop() { [ -n "$started" ] && kill "$(cat "/tmp/triage-test-redis-$port.pid")" 2>/dev/null || true; }
trap stop EXIT
"$@"
