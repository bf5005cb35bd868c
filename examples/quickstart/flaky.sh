#!/bin/sh
# Works for a few seconds, then crashes about one time in three.
echo "flaky#$TEND_INSTANCE up (pid $$)"
while true; do
  sleep 2
  r=$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')
  if [ "$r" -lt 85 ]; then
    echo "flaky#$TEND_INSTANCE: something broke, exiting 1" >&2
    exit 1
  fi
  echo "flaky#$TEND_INSTANCE: still fine"
done
