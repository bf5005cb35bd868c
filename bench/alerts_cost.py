#!/usr/bin/env python3
"""The daemon's cost of alerting: CPU and RSS of one tend-daemon running 100 apps (one sleeping
instance each), with no rules, and with three alert rules per app plus one anomaly rule on CPU
over all of them (301 rules; metric rules make the sampler run every second), read from /proc.

    dotnet build Tend.slnx -c Release && bench/alerts_cost.py [--apps 100] [--seconds 60]

Tend-only (PM2 and supervisord have no local alerting to compare with). Prints a markdown table
(docs/benchmarks.md keeps the last one). Everything it starts lives under a fresh TEND_HOME in /tmp
and is stopped with `tend kill` at the end of each mode; the webhook it notifies is a local
receiver on 127.0.0.1 that answers 200.
"""
import argparse, http.server, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEND = os.path.join(REPO, "src", "Tend.Cli", "bin", "Release", "net10.0", "tend")
from cost_common import Receiver, TICK, cpu_ticks, rss_mib  # noqa: E402 (after the path)


def config(apps, rules, port):
    lines = ["apps:"]
    for i in range(apps):
        lines.append(f"  a{i:03d}: {{ cmd: sleep, args: [infinity] }}")
    if rules:
        lines.append("channels:")
        lines.append(f"  hook: {{ webhook: \"http://127.0.0.1:{port}/hook\", secret: bench }}")
        lines.append("alerts:")
        for i in range(apps):
            lines.append(f"  - {{ name: crash-{i:03d}, match: a{i:03d}, on: crash, notify: hook }}")
            lines.append(f"  - {{ name: mem-{i:03d}, match: a{i:03d}, metric: memory, above: 1G, for: 1m, notify: hook }}")
            lines.append(f"  - {{ name: flap-{i:03d}, match: a{i:03d}, metric: restarts, above: 5, window: 10m, notify: hook }}")
        lines.append("  - { name: cpu-anomaly, match: \"*\", anomaly: cpu, notify: hook }")
    return "\n".join(lines) + "\n"


def measure(label, apps, rules, port, seconds, settle):
    home = tempfile.mkdtemp(prefix="tend-alerts-bench-")
    env = dict(os.environ, TEND_HOME=home, TEND_HEALTH="127.0.0.1:0", NO_COLOR="1")
    path = os.path.join(home, "tend.yaml")
    with open(path, "w") as f:
        f.write(config(apps, rules, port))
    try:
        subprocess.run([TEND, "start", path], env=env, check=True, capture_output=True, timeout=180)
        deadline = time.time() + 120
        while time.time() < deadline:
            listed = json.loads(subprocess.run([TEND, "list", "--json"], env=env, capture_output=True, check=True).stdout)
            if sum(1 for i in listed if i["status"] == "online") == apps:
                break
            time.sleep(0.5)
        pid = int(open(os.path.join(home, "daemon.pid")).read().strip())
        # Past the list's 30 s of one-second sampling, so "no rules" is the idle daemon.
        time.sleep(settle)
        before = cpu_ticks(pid)
        time.sleep(seconds)
        used = (cpu_ticks(pid) - before) / TICK
        report = json.loads(subprocess.run([TEND, "alerts", "--json"], env=env, capture_output=True, check=True).stdout)
        return dict(mode=label, cpu_pct=100 * used / seconds, rss=rss_mib(pid), rules=report["rules"], active=len(report["active"]))
    finally:
        subprocess.run([TEND, "kill"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--settle", type=int, default=35)
    args = ap.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    load = os.getloadavg()[0]
    rows = [measure("no rules", args.apps, False, port, args.seconds, args.settle),
            measure("3 rules per app + a CPU anomaly rule", args.apps, True, port, args.seconds, args.settle)]
    server.shutdown()

    print(f"{args.apps} apps (one `sleep` instance each), {args.seconds} s measured after {args.settle} s settling, "
          f"{os.cpu_count()} cores, load {load:.2f}, {time.strftime('%Y-%m-%d')}, JIT Release build\n")
    print("| alerting | rules | daemon CPU | daemon RSS | alerts active | notifications |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['rules']} | {r['cpu_pct']:.2f} % | {r['rss']:.1f} MiB | {r['active']} | {Receiver.count if r['rules'] else 0} |")
    off, on = rows
    print(f"\nAdded: {on['cpu_pct'] - off['cpu_pct']:+.2f} % of one core, {on['rss'] - off['rss']:+.1f} MiB.")


if __name__ == "__main__":
    main()
