#!/usr/bin/env python3
"""What an open web dashboard costs the daemon: CPU and RSS of one tend-daemon with N sleeping
apps, first with nobody looking, then with the dashboard open in headless Chromium (Debian's
/usr/bin/chromium), each over the same window after the same quiet spell, read from /proc.

    dotnet build Tend.slnx -c Release && bench/dashboard_cost.py [--apps 100] [--seconds 60]

Tend only: PM2's dashboard is its paid cloud service, supervisord's web page does not update by
itself. Prints a markdown table (bench/notes.md keeps the last one). Everything runs under a
fresh TEND_HOME in /tmp, stopped with `tend kill` at the end.
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from managers import cpu_ticks, rss_kb  # noqa: E402  (the bench's own /proc readers)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEND = os.path.join(REPO, "src", "Tend.Cli", "bin", "Release", "net10.0", "tend")
TICK = os.sysconf("SC_CLK_TCK")


def window(pid, seconds):
    t0, start = cpu_ticks(pid), time.monotonic()
    rss = []
    while time.monotonic() - start < seconds:
        rss.append(rss_kb(pid))
        time.sleep(1)
    elapsed = time.monotonic() - start
    return 100.0 * (cpu_ticks(pid) - t0) / TICK / elapsed, sorted(rss)[len(rss) // 2] / 1024


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--apps", type=int, default=100)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--settle", type=int, default=40)
    a = ap.parse_args()
    home = tempfile.mkdtemp(prefix="tend-dash-cost-")
    env = dict(os.environ, TEND_HOME=home, TEND_HEALTH="127.0.0.1:0")
    browser = None
    try:
        cfg = os.path.join(home, "tend.yaml")
        with open(cfg, "w") as f:
            f.write("apps:\n")
            for i in range(a.apps):
                f.write(f"  s{i:03d}:\n    cmd: /bin/sleep\n    args: [\"100000\"]\n")
        subprocess.run([TEND, "start", cfg], env=env, check=True, stdout=subprocess.DEVNULL)
        ping = json.loads(subprocess.run([TEND, "ping", "--json"], env=env, check=True, capture_output=True).stdout)
        url = ping["health_url"].rstrip("/") + "/"
        with open(os.path.join(home, "daemon.pid")) as f:
            pid = int(f.read())
        time.sleep(a.settle)
        idle = window(pid, a.seconds)
        profile = os.path.join(home, "chromium")
        browser = subprocess.Popen(["/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                    f"--user-data-dir={profile}", "--remote-debugging-port=0", url],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(a.settle)
        open_ = window(pid, a.seconds)
        print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
        print(f"| {a.apps} apps, {a.seconds} s window | daemon CPU | daemon RSS |")
        print("|---|---:|---:|")
        print(f"| nobody looking | {idle[0]:.2f} % | {idle[1]:.0f} MiB |")
        print(f"| dashboard open in Chromium | {open_[0]:.2f} % | {open_[1]:.0f} MiB |")
    finally:
        if browser is not None:
            os.killpg(browser.pid, signal.SIGKILL)
            browser.wait()
        subprocess.run([TEND, "kill"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
