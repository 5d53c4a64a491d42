#!/usr/bin/env bash
# Quickstart timings: a cold run on a fresh home (including starting the
# embedded server) and a fully cached resubmit, and their ratio.
#
#   bench/rerun.sh            # builds bin/ first
set -euo pipefail
cd "$(dirname "$0")/.."
make build # the project's build settings, so bin/'s plugin digests match make's
home=$(mktemp -d)
trap 'pid=$(sed -n "s/.*\"pid\": \([0-9]*\).*/\1/p" "$home/server.json" 2>/dev/null); [ -n "$pid" ] && kill "$pid"; rm -rf "$home"' EXIT

now() { date +%s.%N; }
t0=$(now)
bin/dag submit examples/quickstart/study.yaml --wait --home "$home" >/dev/null 2>"$home/cold.log"
t1=$(now)
bin/dag submit examples/quickstart/study.yaml --wait --home "$home" >/dev/null 2>"$home/warm.log"
t2=$(now)
grep '^run ' "$home/cold.log" "$home/warm.log" | sed 's/^[^:]*://'
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN {
  cold = b - a; warm = c - b
  printf "cold run (fresh home, server start included): %.2f s\n", cold
  printf "fully cached resubmit:                         %.2f s\n", warm
  printf "ratio cached/cold:                             %.3f (target < 0.10)\n", warm / cold
}'
