#!/usr/bin/env bash
# deps.sh: make sure what the tests need is installed, before they start.
#
#   redis-server  the tests' Redis when none answers (scripts/with-redis.sh
#                 starts one), and the chaos tests start their own
#   chromium      Debian's package at /usr/bin/chromium: the admin page's
#                 browser test drives it (chromedp)
#
# `make test` and `.ci/run` both run it. What is missing is installed with
# apt-get when this runs as root (or with a sudo that asks no password);
# otherwise it stops at once with the one line to run. Nothing is skipped.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
chromium=${CHROMIUM:-/usr/bin/chromium} # where the browser test looks; tests of this script move it
[ -x "$chromium" ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo -n"
  else
    echo "the tests need ${missing[*]}: run \`sudo apt-get install -y ${missing[*]}\` (Debian/Ubuntu; elsewhere your package manager), then run the tests again" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "the tests need ${missing[*]}, and this machine has no apt-get: install them with your package manager (chromium at /usr/bin/chromium), then run the tests again" >&2
  exit 1
fi
echo "== installing ${missing[*]} (apt-get; once per machine)" >&2
$sudo apt-get update -qq
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
