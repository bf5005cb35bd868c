#!/usr/bin/env bash
# What reading .NET runtime counters costs the daemon: N .NET instances (testchild --sleep) under
# one daemon, its CPU time over a window read from /proc/<pid>/stat, its resident memory and
# threads, once with counters off (TEND_DOTNET_COUNTERS=0) and once on (the default 5 s interval).
# Tend only: PM2 and supervisord have nothing comparable to measure side by side.
# Usage: bench/dotnet-counters-cost.sh [instances=10] [seconds=60]
set -euo pipefail
n=${1:-10}
secs=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
tend=$root/src/Tend.Cli/bin/Release/net10.0/tend
child=$root/test/Tend.TestChild/bin/Release/net10.0/testchild
if [[ ! -x $tend || ! -x $child ]]; then dotnet build "$root/Tend.slnx" -c Release >/dev/null; fi
tick=$(getconf CLK_TCK)

measure() { # label, TEND_DOTNET_COUNTERS
  local home pid t0 t1 rss threads
  home=$(mktemp -d /tmp/tend-cost-XXXXXX)
  printf 'apps:\n  app:\n    cmd: %s\n    args: [--sleep]\n    instances: %s\n' "$child" "$n" >"$home/tend.yaml"
  TEND_HOME=$home TEND_HEALTH=127.0.0.1:0 TEND_DOTNET_COUNTERS=$2 "$tend" start "$home/tend.yaml" >/dev/null
  pid=$(cat "$home/daemon.pid")
  sleep 20 # past startup: sockets found, sessions open, the daemon's JIT done
  t0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep "$secs"
  t1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  threads=$(awk '/^Threads/ {print $2}' "/proc/$pid/status")
  awk -v l="$1" -v d=$((t1 - t0)) -v t="$tick" -v s="$secs" -v r="$rss" -v th="$threads" -v n="$n" \
    'BEGIN { printf "%-26s %d instances: daemon CPU %.2f%% of one core over %ds (%d ticks), RSS %.1f MiB, %d threads\n", l, n, d * 100 / t / s, s, d, r / 1024, th }'
  TEND_HOME=$home "$tend" kill >/dev/null
  while [[ -e /proc/$pid ]]; do sleep 0.2; done
  rm -rf "$home" 2>/dev/null || { sleep 1; rm -rf "$home"; }
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "counters off" 0
measure "counters on (every 5 s)" 1
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
