#!/usr/bin/env python3
"""Tend.Pool's cost: a trivial task (SHA-256 of a short string) called three ways in one run on this
machine, by bench/pool (poolbench): directly in-process, through a Tend.Pool of worker processes
(one caller waiting for each answer, then 16 callers keeping every worker busy), and in a fresh
process per task (the same program started with --once). Tasks per second, median and p99 latency.

    bench/pool_bench.py [--seconds 5] [--workers 2]

Writes its table into docs/benchmarks.md between the pool-bench markers (bench/report.py keeps that
block when it rewrites the document) and prints it. Everything it starts is its own child and stops
with it; no network traffic.
"""
import argparse, datetime, json, os, subprocess, sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BEGIN, END = "<!-- pool-bench:begin -->", "<!-- pool-bench:end -->"
TITLE = "## Tend.Pool: a task through a pool of worker processes"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    subprocess.run(["dotnet", "build", os.path.join(REPO, "bench", "pool"), "-c", "Release", "-nologo", "-v", "quiet"], check=True)
    exe = os.path.join(REPO, "bench", "pool", "bin", "Release", "net10.0", "poolbench")
    load_before = open("/proc/loadavg").read().split()[:3]
    out = subprocess.run([exe, "--seconds", str(a.seconds), "--workers", str(a.workers)], check=True, capture_output=True, text=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    load_after = open("/proc/loadavg").read().split()[:3]
    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()

    def row(label, key):
        m = r[key]
        return f"| {label} | {m['callers']} | {m['per_second']:,.0f} | {m['p50_ms']:.3f} ms | {m['p99_ms']:.3f} ms | {m['tasks']:,} |"

    direct, pool1, pool16, spawn = r["direct"], r["pool_1"], r["pool_16"], r["spawn_1"]
    lines = [
        BEGIN,
        f"`bench/pool_bench.py --seconds {a.seconds:g} --workers {a.workers}` on {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"commit {rev}, {r['cores']} cores, load average {' '.join(load_before)} / {' '.join(load_after)}. "
        "One trivial task (SHA-256 of a short string) called three ways in one run, each for the same time: "
        "directly in-process, through a Tend.Pool of worker processes (length-prefixed JSON over a socketpair), "
        "and by starting a fresh process per task (the same .NET program with `--once`, its answer read from stdout).",
        "",
        "| how | callers | tasks/s | median | p99 | tasks |",
        "|---|---:|---:|---:|---:|---:|",
        row("direct call, in-process", "direct"),
        row(f"Tend.Pool, {r['workers']} workers, one caller", "pool_1"),
        row(f"Tend.Pool, {r['workers']} workers, 16 callers", "pool_16"),
        row("a process per task", "spawn_1"),
        "",
        f"Through the pool a task costs about {pool1['p50_ms'] * 1000:,.0f} µs more than a direct call (median, one caller): two "
        "frames over a unix socket, a JSON body each way, and a wake-up on each side. With callers enough to keep both workers "
        f"busy the pool runs {pool16['per_second']:,.0f} tasks a second, {pool16['per_second'] / spawn['per_second']:,.0f}× a process per task "
        f"({spawn['per_second']:,.1f}/s: a .NET process start is about {spawn['p50_ms']:,.0f} ms here). The pool is for work "
        "worth isolating (native code, leaks, stuck threads, memory growth), not for calls this small: a direct call is "
        f"{direct['per_second'] / pool16['per_second']:,.0f}× faster still.",
        END,
    ]
    block = "\n".join(lines)
    dst = os.path.join(REPO, "docs", "benchmarks.md")
    text = open(dst).read()
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + f"\n\n{TITLE}\n\n{block}\n"
    open(dst, "w").write(text)
    print(block)


if __name__ == "__main__":
    sys.exit(main())
