#!/bin/sh
# Prints the time every second, and a line on stderr every tenth second.
n=0
while true; do
  n=$((n + 1))
  echo "$GREETING: tick $n at $(date +%T)"
  [ $((n % 10)) -eq 0 ] && echo "tick $n is a multiple of ten" >&2
  sleep 1
done
