#!/usr/bin/env python3
"""Threads and memory of the Tend daemon with N sleeping instances, for two builds side by side in
one run (say, the commit before a change and after it). Each build gets its own TEND_HOME, starts
N instances of /bin/sleep, waits until all are online, lets the daemon settle with nobody asking
anything, then samples its thread count and VmRSS every second. Writes the table between the
engine-footprint markers of docs/benchmarks.md and the raw figures to bench/engine_footprint.json.

    bench/engine_footprint.py --build before=/path/to/publish-dir --build after=/path/to/publish-dir [-n 100]

Each publish dir is what `dotnet publish src/Tend.Cli` produces (the README's install); see
bench/README.md for how to publish an older commit from a git worktree."""
import argparse, json, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
DOC = os.path.join(HERE, "..", "docs", "benchmarks.md")
BEGIN, END = "<!-- engine-footprint:begin -->", "<!-- engine-footprint:end -->"


def status_field(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def measure(name: str, publish: str, n: int, settle: float, window: float) -> dict:
    tend = os.path.join(publish, "tend")
    home = tempfile.mkdtemp(prefix="tend-fp-", dir="/tmp")
    env = dict(os.environ, TEND_HOME=home)
    config = os.path.join(home, "sleepers.yaml")
    with open(config, "w") as f:
        f.write(f"apps:\n  s:\n    run: /bin/sleep 3600\n    instances: {n}\n")
    try:
        started = subprocess.run([tend, "start", config], env=env, capture_output=True, text=True, timeout=120)
        if started.returncode != 0:
            raise RuntimeError(f"{name}: tend start exited {started.returncode}: {started.stderr}")
        deadline = time.monotonic() + 120
        while True:
            rows = json.loads(subprocess.run([tend, "list", "--json"], env=env, check=True, capture_output=True, timeout=60).stdout)
            if sum(1 for r in rows if r["status"] == "online") == n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: {n} instances not online within 120 s")
            time.sleep(0.5)
        pid = json.loads(subprocess.run([tend, "ping", "--json"], env=env, check=True, capture_output=True, timeout=60).stdout)["pid"]
        time.sleep(settle)
        threads, rss = [], []
        start = time.monotonic()
        while time.monotonic() - start < window:
            threads.append(status_field(pid, "Threads"))
            rss.append(status_field(pid, "VmRSS"))
            time.sleep(1.0)
        names = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            key = "tend log (per pipe)" if comm.startswith("tend log") else comm
            names[key] = names.get(key, 0) + 1
        return {"name": name, "instances": n, "threads": max(threads), "rss_kb": max(rss),
                "rss_kb_median": sorted(rss)[len(rss) // 2], "thread_names": names}
    finally:
        subprocess.run([tend, "kill"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)


def write_doc(results: list[dict]) -> None:
    n = results[0]["instances"]
    lines = [BEGIN, "",
             f"Daemon with {n} sleeping instances (`/bin/sleep`), measured by `bench/engine_footprint.py` in one run, "
             "each build published as the README installs it (framework-dependent, ReadyToRun). Threads and VmRSS are "
             "the highest of the sampled seconds after the daemon settled.", "",
             "| build | threads | RSS | threads reading output pipes |", "|---|---|---|---|"]
    for r in results:
        pipes = r["thread_names"].get("tend log (per pipe)", 0)
        lines.append(f"| {r['name']} | {r['threads']} | {r['rss_kb'] / 1024:.1f} MiB | {pipes} |")
    lines += ["", END]
    text = open(DOC).read() if os.path.exists(DOC) else "# Benchmarks\n"
    block = "\n".join(lines)
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Engine footprint: threads and memory with 100 instances\n\n" + block + "\n"
    with open(DOC, "w") as f:
        f.write(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", action="append", required=True, help="NAME=PUBLISH_DIR (give two or more)")
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--settle", type=float, default=15.0)
    ap.add_argument("--window", type=float, default=10.0)
    args = ap.parse_args()
    results = []
    for spec in args.build:
        name, _, path = spec.partition("=")
        print(f"[footprint] {name}: {args.n} instances from {path}", file=sys.stderr)
        results.append(measure(name, os.path.abspath(path), args.n, args.settle, args.window))
        print(f"[footprint] {json.dumps(results[-1])}", file=sys.stderr)
    with open(os.path.join(HERE, "engine_footprint.json"), "w") as f:
        json.dump(results, f, indent=2)
    write_doc(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
