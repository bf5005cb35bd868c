#!/usr/bin/env python3
"""The daemon's cost of OTLP export: CPU and RSS of one tend-daemon running N instances, with
export off and on (http/protobuf to a local receiver that answers 200), read from /proc.

    dotnet build Tend.slnx -c Release && bench/otlp_cost.py [--instances 15] [--seconds 60]

Prints a markdown table (docs/metrics.md#otlp-export keeps the last one). Everything it starts
lives under a fresh TEND_HOME in /tmp and is stopped with `tend kill` at the end of each mode.
"""
import argparse, http.server, json, os, shutil, socket, subprocess, sys, tempfile, threading, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEND = os.path.join(REPO, "src", "Tend.Cli", "bin", "Release", "net10.0", "tend")
from cost_common import Receiver, TICK, cpu_ticks, rss_mib  # noqa: E402 (after the path)


def otel_mapped(pid):
    with open(f"/proc/{pid}/maps") as f:
        return len({line.split()[-1] for line in f if "OpenTelemetry" in line})


def measure(label, extra_env, instances, seconds, settle):
    home = tempfile.mkdtemp(prefix="tend-otlp-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env.update(TEND_HOME=home, TEND_HEALTH="127.0.0.1:0", NO_COLOR="1", **extra_env)
    config = os.path.join(home, "tend.yaml")
    with open(config, "w") as f:
        f.write(f"apps:\n  sleeper:\n    cmd: sleep\n    args: [infinity]\n    instances: {instances}\n")
    try:
        subprocess.run([TEND, "start", config], env=env, check=True, capture_output=True, timeout=120)
        deadline = time.time() + 60
        while time.time() < deadline:
            listed = json.loads(subprocess.run([TEND, "list", "--json"], env=env, capture_output=True, check=True).stdout)
            if sum(1 for i in listed if i["status"] == "online") == instances:
                break
            time.sleep(0.5)
        pid = int(open(os.path.join(home, "daemon.pid")).read().strip())
        time.sleep(settle)
        before, requests = cpu_ticks(pid), Receiver.count
        time.sleep(seconds)
        used = (cpu_ticks(pid) - before) / TICK
        return dict(mode=label, cpu_pct=100 * used / seconds, rss=rss_mib(pid), otel_files=otel_mapped(pid),
                    exports=Receiver.count - requests)
    finally:
        subprocess.run([TEND, "kill"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--instances", type=int, default=15)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--settle", type=int, default=10)
    args = ap.parse_args()

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    on = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{port}", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    modes = [
        ("off", {}),
        ("on, every 60 s (default)", on),
        ("on, every 10 s", {**on, "OTEL_METRIC_EXPORT_INTERVAL": "10000"}),
        ("on, every 1 s", {**on, "OTEL_METRIC_EXPORT_INTERVAL": "1000"}),
    ]
    rows = [measure(label, env, args.instances, args.seconds, args.settle) for label, env in modes]
    server.shutdown()

    print(f"{args.instances} instances, {args.seconds} s measured after {args.settle} s settling, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d')}\n")
    print("| export | daemon CPU | daemon RSS | OpenTelemetry files mapped | exports received |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['mode']} | {r['cpu_pct']:.2f} % | {r['rss']:.1f} MiB | {r['otel_files']} | {r['exports']} |")


if __name__ == "__main__":
    main()
