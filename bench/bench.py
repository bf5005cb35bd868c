#!/usr/bin/env python3
"""Tend, PM2 and supervisord side by side: the scenarios of the benchmark issue, one run.

Run through bench/run, which installs the peers and builds Tend and the child program first.
Writes the raw figures to bench/.work/results.json; report.py turns them into
docs/benchmarks.md and the plots in docs/bench/.

Timing: children stamp their own start on CLOCK_MONOTONIC (see child.c), the clock
time.monotonic_ns() reads, so "the child is running" is measured without asking a manager.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from managers import (PM2, RUN_ENV, App, Supervisord, Tend, alive, cpu_ticks,  # noqa: E402
                      kill_pids, ours, dirty_kb, rss_kb, run, threads)

CLK_TCK = os.sysconf("SC_CLK_TCK")
LOG_LINES = 2_000_000
LINE_BYTES = 100

# idle_settle_s + idle_s is at least 60: the first list after the footprint window is the "cold" call.
QUICK = dict(list_reps=8, start_reps=5, idle_s=10, idle_settle_s=50, restart_reps=8, crash_window_s=12,
             log_reps=1, scale_reps=1, hello_reps=10, probe_s=20, probe_settle_s=5, ready_reps=5,
             wrk_s=10, wrk_warm_s=2, reloads=10)
FULL = dict(list_reps=30, start_reps=15, idle_s=30, idle_settle_s=35, restart_reps=20, crash_window_s=150,
            log_reps=3, scale_reps=5, hello_reps=30, probe_s=60, probe_settle_s=10, ready_reps=15,
            wrk_s=30, wrk_warm_s=5, reloads=10, thousand=1000)
# "thousand" runs in the full mode (or when named with --only): a thousand sleepers per manager.
SCENARIOS = ["fleet", "hello", "restart", "crash", "logs", "scale", "probes", "cluster", "thousand", "upgrade"]
WRK_THREADS, WRK_CONNS = 2, 64
CLUSTER_N = 2  # instances, one per core

# The probes' target: a tiny HTTP server, its own process (so its CPU is not the daemon's), that
# answers every request with 200 and closes. asyncio: one thread, no thread per connection.
PROBE_SERVER = r'''
import asyncio, sys
async def serve(reader, writer):
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
        pass  # the tcp probe connects and closes without a request
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()
asyncio.run(main())
'''


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def now_ns() -> int:
    return time.monotonic_ns()


def read_marks(path: str):
    """(starts, ends): lists of (pid, ns) the child appended to its BENCH_MARK file."""
    starts, ends = [], []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 2:
                    starts.append((int(parts[0]), int(parts[1])))
                elif len(parts) == 3 and parts[0] == "end":
                    ends.append((int(parts[1]), int(parts[2])))
    except FileNotFoundError:
        pass
    return starts, ends


def read_ready(path: str):
    """[(pid, ns)]: the "ready pid ns" lines a child appends when it signals readiness."""
    out = []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[0] == "ready":
                    out.append((int(parts[1]), int(parts[2])))
    except FileNotFoundError:
        pass
    return out


def child_cpu_ticks(pid: int) -> int | None:
    """cutime + cstime: the CPU of the children this process has reaped (exec probes, here)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        parts = s[s.rindex(")") + 2:].split()
        return int(parts[13]) + int(parts[14])
    except (OSError, ValueError):
        return None


def wait_until(pred, timeout: float, interval: float = 0.002):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            return None
        time.sleep(interval)


def free_port() -> int:
    """A loopback port free at this moment (listen: refuses port 0, and the references need one too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_ok(port: int) -> bool:
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        c.request("GET", "/")
        r = c.getresponse()
        r.read()
        c.close()
        return r.status == 200
    except (OSError, http.client.HTTPException):
        return False


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * _WRK_UNITS[m.group(2)]


def parse_wrk(text: str) -> dict:
    """wrk --latency's report: requests, rate, latency percentiles (ms) and every kind of failure."""
    req = re.search(r"(\d+) requests in ([\d.]+\w+),", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not req or not rps:
        raise RuntimeError(f"wrk output not understood:\n{text}")
    out = {"requests": int(req.group(1)), "duration_s": _ms(req.group(2)) / 1e3, "rps": float(rps.group(1)),
           "connect": 0, "read": 0, "write": 0, "timeout": 0, "non2xx": 0}
    for q, v in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)\s*$", text, re.M):
        out[f"p{q}_ms"] = _ms(v)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sock:
        out.update(zip(("connect", "read", "write", "timeout"), map(int, sock.groups())))
    non = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if non:
        out["non2xx"] = int(non.group(1))
    out["failed"] = sum(out[k] for k in ("connect", "read", "write", "timeout", "non2xx"))
    return out


def tcp_sockets(pid: int) -> int:
    """Established TCP connections a process holds (its fds whose inode /proc/net/tcp lists as state 01)."""
    est = set()
    try:
        with open(f"/proc/{pid}/net/tcp") as f:
            for line in f.readlines()[1:]:
                parts = line.split()
                if parts[3] == "01":
                    est.add(parts[9])
        n = 0
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            n += link.startswith("socket:[") and link[8:-1] in est
        return n
    except OSError:
        return 0


def descendants(pid: int) -> list[int]:
    """pid and every process under it (Node's cluster workers under their primary)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


class Bench:
    def __init__(self, args):
        self.args = args
        self.cfg = QUICK if args.quick else FULL
        self.root = os.path.dirname(os.path.abspath(__file__))
        self.repo = os.path.dirname(self.root)
        self.run_id = args.run_id or uuid.uuid4().hex[:12]
        self.work = os.path.join(self.root, ".work", "run-" + self.run_id)
        os.makedirs(self.work, exist_ok=True)
        self.child = os.path.join(self.root, ".work", "child")
        self.tend_exe = os.path.join(self.root, ".work/tend/tend")  # native (NativeAOT): what ships
        self.tend_jit_exe = os.path.join(self.root, ".work/tend-jit/tend")  # ReadyToRun, fleet only
        self.spawn = os.path.join(self.root, ".work", "spawn")
        self.pm2_exe = os.path.join(self.root, ".work/pm2/node_modules/.bin/pm2")
        self.hello = os.path.join(self.root, ".work/hello/bin/Release/net10.0/hello")
        self.hello_aot = os.path.join(self.root, ".work/hello/aot/hello")
        self.env = dict(os.environ)
        self.env[RUN_ENV] = self.run_id
        self.env.pop("TEND_HOME", None)
        self.env.pop("PM2_HOME", None)
        self.managers = []
        self.exclude = {os.getpid(), os.getppid()}
        self.results = {"mode": "quick" if args.quick else "full", "config": self.cfg, "leftovers": []}
        self._n = 0

    # --- managers ------------------------------------------------------------------------------
    def new(self, kind: str, tag: str):
        self._n += 1
        home = os.path.join(self.work, f"{self._n:02d}-{tag}-{kind}")
        if kind == "tend":
            m = Tend(home, self.env, self.tend_exe)
        elif kind == "tend-jit":
            m = Tend(home, self.env, self.tend_jit_exe, name="tend-jit")
        elif kind == "pm2":
            m = PM2(home, self.env, self.pm2_exe)
        else:
            m = Supervisord(home, self.env)
        self.managers.append(m)
        return m

    def close(self, m, scenario: str):
        """Asks the manager to stop everything, then kills by pid whatever it left behind."""
        try:
            m.shutdown()
        except Exception as e:  # noqa: BLE001 - cleanup goes on regardless
            log(f"{m.name}: shutdown failed: {e}")
        left = wait_until(lambda: not ours(f"BENCH_HOME={m.home}", self.exclude), 5, 0.05)
        if not left:
            pids = ours(f"BENCH_HOME={m.home}", self.exclude)
            if pids:
                log(f"{m.name}: {len(pids)} process(es) still running after its own shutdown: {pids}; killing")
                self.results["leftovers"].append({"manager": m.name, "scenario": scenario, "count": len(pids)})
                kill_pids(pids)
        if m in self.managers:
            self.managers.remove(m)

    def cleanup_all(self):
        for m in list(self.managers):
            self.close(m, "cleanup")
        pids = ours(f"{RUN_ENV}={self.run_id}", self.exclude)
        if pids:
            log(f"final sweep: killing {len(pids)} leftover process(es) {pids}")
            kill_pids(pids)

    def sleepers(self, m, start: int, end: int, mark: str):
        return [App(f"s{i:03d}", [self.child, "sleep"], mark) for i in range(start, end)]

    def wait_online(self, m, names: set[str], timeout=120.0) -> float | None:
        t0 = time.monotonic()
        deadline = t0 + timeout
        while time.monotonic() < deadline:
            st = m.statuses()
            if all(st.get(n) == "online" for n in names):
                return time.monotonic() - t0
            time.sleep(0.05)
        return None

    # --- scenario 1 + 2: CLI latency and daemon footprint, on one fleet per manager --------------
    def fleet(self):
        cfg = self.cfg
        mgrs = [self.new(k, "fleet") for k in ("tend", "tend-jit", "pm2", "supervisord")]
        res_list, res_foot, res_start, res_cold = {}, {}, {}, {}
        have = 0
        for m in mgrs:
            m.start_daemon()
        for n in (0, 20, 100):
            for m in mgrs:
                mark = os.path.join(m.home, "fleet.mark")
                if n > have:
                    m.start_apps(self.sleepers(m, have, n, mark))
                if n:
                    ok = wait_until(lambda: len({p for p, _ in read_marks(mark)[0]}) >= n, 120, 0.05)
                    if not ok or self.wait_online(m, {f"s{i:03d}" for i in range(n)}) is None:
                        raise RuntimeError(f"{m.name}: {n} sleepers not online within 120 s")
            have = n
            time.sleep(1.0)
            # Idle means nobody has asked anything for a while: the starts and the status polls above
            # are over, and so is what they set off (Tend samples every second for 30 s after a
            # list, and its JIT tiers up what the start-up ran). The same quiet spell for all three.
            log(f"footprint with {n} processes: {cfg['idle_settle_s']} s with no command, then sampling all three daemons for {cfg['idle_s']} s")
            time.sleep(cfg["idle_settle_s"])
            foot = self.sample_footprint({m.name: m.daemon_pid() for m in mgrs}, cfg["idle_s"])
            for k, v in foot.items():
                res_foot.setdefault(k, {})[str(n)] = v
            for m in mgrs:
                cmds = m.list_commands()
                cold = True
                for fmt, argv in cmds.items():
                    if argv is None:
                        res_list.setdefault(m.name, {}).setdefault(fmt, {})[str(n)] = None
                        continue
                    # The first command after the quiet spell (at least 60 s with no command) is the
                    # cold call; the first of each format is a warm-up, not counted in the medians.
                    dt, _ = run(argv, m.env, check=True)
                    if cold:
                        res_cold.setdefault(m.name, {})[str(n)] = {"format": fmt, "ms": dt * 1000}
                        cold = False
                    ts = []
                    for _ in range(cfg["list_reps"]):
                        dt, p = run(argv, m.env)
                        if p.returncode not in (0, 3):  # supervisorctl status: 3 = some not running
                            raise RuntimeError(f"{argv} exited {p.returncode}")
                        ts.append(dt * 1000)
                    res_list.setdefault(m.name, {}).setdefault(fmt, {})[str(n)] = ts
                log(f"list latency with {n}: {m.name} done")
            if n == 0:
                for m in mgrs:
                    res_start[m.name] = self.start_one(m)
                    log(f"start of one app: {m.name} done")
                res_start["spawn"] = self.spawn_one()
        for m in mgrs:
            self.close(m, "fleet")
        self.results["list"] = res_list
        self.results["footprint"] = res_foot
        self.results["start"] = res_start
        self.results["cold"] = res_cold

    @staticmethod
    def sample_footprint(pids: dict[str, int], seconds: float) -> dict:
        """RSS and dirty private memory every second and CPU (utime + stime) over the window, of each process, sampled together."""
        t0 = {k: cpu_ticks(p) for k, p in pids.items()}
        c0 = {k: child_cpu_ticks(p) for k, p in pids.items()}
        rss = {k: [] for k in pids}
        dirty = {k: [] for k in pids}
        nthreads = {k: [] for k in pids}
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            for k, p in pids.items():
                rss[k].append(rss_kb(p))
                dirty[k].append(dirty_kb(p))
                nthreads[k].append(threads(p))
            time.sleep(1.0)
        elapsed = time.monotonic() - start
        out = {}
        for k, p in pids.items():
            t1, c1 = cpu_ticks(p), child_cpu_ticks(p)
            out[k] = {"rss_kb": rss[k], "dirty_kb": dirty[k], "threads": nthreads[k],
                      "cpu_s": (t1 - t0[k]) / CLK_TCK, "window_s": elapsed,
                      "cpu_pct": 100.0 * (t1 - t0[k]) / CLK_TCK / elapsed,
                      "children_cpu_s": (c1 - c0[k]) / CLK_TCK}
        return out

    def start_one(self, m):
        ret, running = [], []
        for rep in range(self.cfg["start_reps"] + 1):
            mark = os.path.join(m.home, f"one{rep}.mark")
            app = App(f"one{rep}", [self.child, "sleep"], mark)
            env = dict(m.env, BENCH_MARK=mark)
            argv = m.start_command_argv(app)
            t0 = now_ns()
            _, p = run(argv, env, timeout=60)
            t_ret = now_ns()
            if p.returncode != 0:
                raise RuntimeError(f"{argv}: {p.stderr.decode()[-500:]}")
            got = wait_until(lambda: read_marks(mark)[0], 30, 0.001)
            if not got:
                raise RuntimeError(f"{m.name}: started app never ran")
            if rep > 0:  # the first one warms caches (and supervisord's include) and is not counted
                ret.append((t_ret - t0) / 1e6)
                running.append((got[0][1] - t0) / 1e6)
            m.delete_app(app.name)
        return {"return_ms": ret, "running_ms": running}

    def spawn_one(self):
        """The reference for start_one: a native program that posix_spawns the child and exits."""
        running = []
        for rep in range(self.cfg["start_reps"] + 1):
            mark = os.path.join(self.work, f"spawn{rep}.mark")
            env = dict(self.env, BENCH_MARK=mark)
            t0 = now_ns()
            # Not run(): the child inherits spawn's stdout and would hold run()'s capture pipe open.
            p = subprocess.run([self.spawn, self.child, "sleep"], env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
            if p.returncode != 0:
                raise RuntimeError(f"spawn exited {p.returncode}")
            got = wait_until(lambda: read_marks(mark)[0], 30, 0.001)
            if not got:
                raise RuntimeError("spawn: the child never ran")
            kill_pids([got[0][0]])
            if rep > 0:
                running.append((got[0][1] - t0) / 1e6)
        return {"running_ms": running}

    def hello_world(self):
        for key, exe in (("hello_ms", self.hello), ("hello_aot_ms", self.hello_aot)):
            ts = []
            run([exe], self.env, check=True)
            for _ in range(self.cfg["hello_reps"]):
                dt, _ = run([exe], self.env, check=True)
                ts.append(dt * 1000)
            self.results[key] = ts

    # --- 1,000 sleepers (full runs): start-up, footprint and list latency at scale ---------------
    def thousand(self):
        n = self.cfg.get("thousand", 1000)
        out = {}
        for kind in ("tend", "pm2", "supervisord"):
            m = self.new(kind, "thousand")
            try:
                m.start_daemon()
                mark = os.path.join(m.home, "thousand.mark")
                names = {f"s{i:03d}" for i in range(n)}
                t0 = time.monotonic()
                m.start_apps(self.sleepers(m, 0, n, mark))
                ok = wait_until(lambda: len({p for p, _ in read_marks(mark)[0]}) >= n, 600, 0.05)
                running = time.monotonic() - t0 if ok else None
                online = self.wait_online(m, names, timeout=600) if ok else None
                online = time.monotonic() - t0 if online is not None else None
                log(f"thousand: {m.name}: all running {running} s, all online {online} s")
                if online is None:
                    out[m.name] = {"error": f"not all {n} online within 600 s"}
                    continue
                time.sleep(self.cfg["idle_settle_s"] / 2)
                foot = self.sample_footprint({m.name: m.daemon_pid()}, 10)[m.name]
                lists = {}
                for fmt, argv in m.list_commands().items():
                    if argv is None:
                        continue
                    run(argv, m.env, timeout=120, check=True)
                    ts = []
                    for _ in range(5):
                        dt, p = run(argv, m.env, timeout=120)
                        if p.returncode not in (0, 3):
                            raise RuntimeError(f"{argv} exited {p.returncode}")
                        ts.append(dt * 1000)
                    lists[fmt] = ts
                out[m.name] = {"n": n, "running_s": running, "online_s": online, "footprint": foot, "list_ms": lists}
            finally:
                self.close(m, "thousand")
        self.results["thousand"] = out

    # --- scenario 3: restart latency after SIGKILL -----------------------------------------------
    def restart(self):
        out = {}
        for kind in ("tend", "pm2", "supervisord"):
            m = self.new(kind, "restart")
            try:
                m.start_daemon()
                mark = os.path.join(m.home, "restart.mark")
                m.start_apps([App("victim", [self.child, "sleep"], mark, kind="restart")])
                if not wait_until(lambda: read_marks(mark)[0], 30, 0.005):
                    raise RuntimeError(f"{m.name}: victim never started")
                lat, failed = [], 0
                for _ in range(self.cfg["restart_reps"]):
                    time.sleep(1.15)  # past every manager's default min_uptime/startsecs (1 s)
                    starts = read_marks(mark)[0]
                    pid = starts[-1][0]
                    t_kill = now_ns()
                    os.kill(pid, signal.SIGKILL)
                    new = wait_until(lambda: len(read_marks(mark)[0]) > len(starts) and read_marks(mark)[0][-1], 10, 0.0005)
                    if not new:
                        failed += 1
                        continue
                    lat.append((new[1] - t_kill) / 1e6)
                out[kind] = {"latency_ms": lat, "failed": failed, "pid_reused": 0}
                log(f"restart latency: {kind} done")
            finally:
                self.close(m, "restart")
        self.results["restart"] = out

    # --- scenario 4: crash loop --------------------------------------------------------------------
    def crash(self):
        out = {}
        window = self.cfg["crash_window_s"]
        for kind, variant, appkind in (("tend", "tend", "crash"), ("tend", "tend-nobackoff", "crash-none"),
                                       ("pm2", "pm2", "crash"), ("supervisord", "supervisord", "crash")):
            m = self.new(kind, "crash")
            try:
                m.start_daemon()
                mark = os.path.join(m.home, "crash.mark")
                m.start_apps([App("crasher", [self.child, "crash"], mark, kind=appkind)])
                t0 = time.monotonic()
                first = wait_until(lambda: read_marks(mark)[0], 30, 0.001)
                if not first:
                    raise RuntimeError(f"{m.name}: crasher never started")
                terminal_at, status = None, "?"
                while time.monotonic() - t0 < window:
                    status = m.statuses().get("crasher", "missing")
                    if status in ("errored", "stopped") and terminal_at is None:
                        terminal_at = now_ns()
                        break
                    time.sleep(0.2)
                if terminal_at is not None:
                    time.sleep(1.0)  # would it start again after giving up?
                status = m.statuses().get("crasher", "missing")
                raw_status = status
                if kind == "supervisord":
                    _, p = run(m.ctl("status", "crasher"), m.env)
                    raw_status = (p.stdout.decode().split() + ["?", "?"])[1]
                elif kind == "pm2":
                    raw_status = status
                starts = read_marks(mark)[0]
                t_first = starts[0][1]
                out[variant] = {
                    "starts_total": len(starts),
                    "starts_10s": sum(1 for _, ns in starts if ns - t_first <= 10e9),
                    "last_start_s": (starts[-1][1] - t_first) / 1e9,
                    "gave_up_seen_s": None if terminal_at is None else (terminal_at - t_first) / 1e9,
                    "window_s": window,
                    "final_status": raw_status,
                }
                log(f"crash loop: {variant}: {out[variant]}")
            finally:
                self.close(m, "crash")
        self.results["crash"] = out

    # --- scenario 5: log throughput ------------------------------------------------------------
    def verify_log(self, path: str) -> dict:
        """Counts the payload lines (the last 99 bytes of a line, whatever prefix a manager adds)."""
        seen = bytearray(LOG_LINES)
        bad = 0
        size = os.path.getsize(path) if os.path.exists(path) else 0
        if size:
            with open(path, "rb") as f:
                for line in f:
                    payload = line[-LINE_BYTES:]
                    if len(payload) == LINE_BYTES and payload[10:11] == b" " and payload[:10].isdigit():
                        i = int(payload[:10])
                        if i < LOG_LINES:
                            seen[i] = 1
                            continue
                    bad += 1
        found = sum(seen)
        gaps, i = [], 0  # the first few runs of missing sequence numbers, as [first, last]
        while len(gaps) < 5:
            i = seen.find(0, i)
            if i < 0:
                break
            j = seen.find(1, i)
            j = LOG_LINES if j < 0 else j
            gaps.append([i, j - 1])
            i = j
        return {"lines_found": found, "lines_missing": LOG_LINES - found, "bad_lines": bad, "file_bytes": size,
                "missing_ranges": gaps}

    def wait_log_complete(self, path: str, end_mark: str, timeout: float):
        """(ns the last line appeared or None, ns the file last grew)."""
        last = f"{LOG_LINES - 1:010d} ".encode()
        stable_since, last_size, grew_ns = time.monotonic(), -1, now_ns()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                size = os.path.getsize(path)
                with open(path, "rb") as f:
                    f.seek(max(0, size - 3 * LINE_BYTES))
                    if last in f.read():
                        t = now_ns()
                        return t, t
            except FileNotFoundError:
                size = -1
            # the last line may be lost: give up once the child is done and the file stopped growing
            if size != last_size:
                last_size, stable_since, grew_ns = size, time.monotonic(), now_ns()
            elif read_marks(end_mark)[1] and time.monotonic() - stable_since > 5:
                return None, grew_ns
            time.sleep(0.002)
        return None, grew_ns

    def logs(self):
        out = {}
        bytes_total = LOG_LINES * LINE_BYTES
        for mode in ("line", "block"):
            # the reference: the same child piped straight into cat > file
            for rep in range(self.cfg["log_reps"]):
                path = os.path.join(self.work, f"ref-{mode}.log")
                mark = os.path.join(self.work, f"ref-{mode}-{rep}.mark")
                env = dict(self.env, BENCH_MARK=mark)
                t0 = now_ns()
                subprocess.run(["bash", "-c", f'"$0" spew {LOG_LINES} {mode} | cat > "$1"', self.child, path],
                               env=env, check=True)
                t_done = now_ns()
                starts, ends = read_marks(mark)
                v = self.verify_log(path)
                os.remove(path)
                out.setdefault("pipe", {}).setdefault(mode, []).append({
                    "child_s": (ends[0][1] - starts[0][1]) / 1e9, "complete_s": (t_done - starts[0][1]) / 1e9,
                    "from_command_s": (t_done - t0) / 1e9, "cpu_s": None, **v,
                    "mb_s": bytes_total / 1e6 / ((t_done - starts[0][1]) / 1e9)})
            log(f"log throughput ({mode}): pipe reference done")
            for kind, variant, stamps in (("tend", "tend", True), ("tend", "tend-nots", False),
                                          ("pm2", "pm2", True), ("supervisord", "supervisord", True)):
                m = self.new(kind, f"log-{mode}")
                try:
                    m.start_daemon()
                    for rep in range(self.cfg["log_reps"]):
                        path = os.path.join(m.home, f"spew-{rep}.log")
                        mark = os.path.join(m.home, f"spew-{rep}.mark")
                        app = App(f"spew{rep}", [self.child, "spew", str(LOG_LINES), mode], mark, kind="log",
                                  log_file=path, timestamps=stamps)
                        dpid = m.daemon_pid()
                        c0 = cpu_ticks(dpid)
                        m.start_apps([app])
                        started = wait_until(lambda: read_marks(mark)[0], 30, 0.001)
                        if not started:
                            raise RuntimeError(f"{m.name}: spew never started")
                        t_start = started[0][1]
                        t_complete, t_grew = self.wait_log_complete(path, mark, 300)
                        ends = wait_until(lambda: read_marks(mark)[1], 60, 0.01)
                        c1 = cpu_ticks(dpid)
                        time.sleep(0.5)  # let a manager that lost the tail write what it still has
                        v = self.verify_log(path)
                        r = {"child_s": (ends[0][1] - t_start) / 1e9 if ends else None,
                             "complete_s": None if t_complete is None else (t_complete - t_start) / 1e9,
                             "settled_s": (t_grew - t_start) / 1e9, "cpu_s": (c1 - c0) / CLK_TCK, **v}
                        r["mb_s"] = bytes_total / 1e6 / r["complete_s"] if r["complete_s"] else None
                        out.setdefault(variant, {}).setdefault(mode, []).append(r)
                        m.delete_app(app.name)
                        for f in (path, path + ".err"):
                            if os.path.exists(f):
                                os.remove(f)
                    log(f"log throughput ({mode}): {variant} done: {out[variant][mode][-1]}")
                finally:
                    self.close(m, f"log-{mode}")
        self.results["logs"] = out

    # --- scenario 6: 100 apps from one config ----------------------------------------------------
    def scale(self):
        out = {}
        for rep in range(self.cfg["scale_reps"]):
            for warm in (False, True):
                for kind in ("tend", "pm2", "supervisord"):
                    r = self.scale_one(kind, warm, rep)
                    out.setdefault("warm" if warm else "cold", {}).setdefault(kind, []).append(r)
                    log(f"100 apps ({'warm' if warm else 'cold'}): {kind} rep {rep}: {r}")
        self.results["scale"] = out

    def scale_one(self, kind: str, warm: bool, rep: int, n: int = 100) -> dict:
        """Cold: the one command also starts the daemon (supervisord -c conf for supervisord).
        Warm: the daemon runs already, with no apps."""
        m = self.new(kind, f"scale{rep}{'w' if warm else 'c'}")
        try:
            mark = os.path.join(m.home, "scale.mark")
            apps = self.sleepers(m, 0, n, mark)
            if warm:
                m.start_daemon()
            t0 = now_ns()
            if kind == "supervisord" and not warm:
                m.write_apps(apps)
                m.start_daemon()  # supervisord starts what its config declares
            else:
                m.start_apps(apps)
            t_ret = now_ns()
            if not wait_until(lambda: len({p for p, _ in read_marks(mark)[0]}) >= n, 120, 0.005):
                raise RuntimeError(f"{m.name}: {n} apps not running within 120 s")
            t_running = max(ns for _, ns in read_marks(mark)[0][:n])
            t_online = self.wait_online(m, {a.name for a in apps})
            t_online_ns = None if t_online is None else now_ns()
            return {"return_s": (t_ret - t0) / 1e9, "running_s": (t_running - t0) / 1e9,
                    "online_s": None if t_online_ns is None else (t_online_ns - t0) / 1e9}
        finally:
            self.close(m, "scale")

    # --- scenario 7: probes and readiness --------------------------------------------------------
    def probes(self):
        self.results["probes"] = {"cost": self.probe_cost(), "ready": self.time_to_ready(),
                                  "window_s": self.cfg["probe_s"], "settle_s": self.cfg["probe_settle_s"]}

    def start_probe_server(self):
        p = subprocess.Popen([sys.executable, "-c", PROBE_SERVER], env=self.env, stdout=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)
        port = int(p.stdout.readline())
        return p, port

    def probe_checks(self, m, names) -> dict:
        """name -> (monotonic s, checks, failures): every probe check of the app's instances, plus the
        notify datagrams it accepted (the watchdog pings are its checks)."""
        out = {}
        for name in names:
            _, p = run([m.exe, "describe", "--json", name], m.env, check=True)
            t = time.monotonic()
            d = json.loads(p.stdout)
            checks = fails = 0
            for inst in d["instances"]:
                for pr in inst.get("probes") or []:
                    checks += pr["checks"]
                    fails += pr["failures"]
                if inst.get("notify"):
                    checks += inst["notify"]["accepted"]
            out[name] = (t, checks, fails)
        return out

    def tend_rows(self, m):
        _, p = run([m.exe, "list", "--json"], m.env, check=True)
        return json.loads(p.stdout)

    def probe_cost(self, n: int = 100) -> dict:
        """One daemon per configuration, n sleeping children, idle once all are ready; PM2 and
        supervisord (no probes to configure) with n sleepers sampled in the same window as the baseline."""
        window, settle = self.cfg["probe_s"], self.cfg["probe_settle_s"]
        srv, port = self.start_probe_server()
        out = {}
        try:
            variants = [
                ("none", ["sleep"], []),
                ("http+tcp", ["sleep"], [f'ready: {{ http: "http://127.0.0.1:{port}/", interval: 1s }}',
                                         f'live: {{ tcp: "127.0.0.1:{port}", interval: 1s }}']),
                ("exec", ["sleep"], ['ready: { exec: "true", interval: 1s }']),
                ("notify+watchdog", ["notify", "100", "1000"], ["ready: { notify: true }", "watchdog: 2s"]),
            ]
            for variant, args, yaml in variants:
                mgrs = [self.new("tend", "probes")]
                if variant == "none":
                    mgrs += [self.new(k, "probes") for k in ("pm2", "supervisord")]
                try:
                    names = [f"p{i:03d}" for i in range(n)]
                    for m in mgrs:
                        m.start_daemon()
                        mark = os.path.join(m.home, "probes.mark")
                        m.start_apps([App(nm, [self.child, *args], mark, tend_yaml=yaml) for nm in names])
                        if not wait_until(lambda: len({p for p, _ in read_marks(mark)[0]}) >= n, 120, 0.05) \
                                or self.wait_online(m, set(names)) is None:
                            raise RuntimeError(f"{m.name}: {n} children not online within 120 s")
                    t = mgrs[0]
                    if not wait_until(lambda: all(r["ready"] for r in self.tend_rows(t)), 60, 0.2):
                        raise RuntimeError(f"tend ({variant}): not all {n} ready within 60 s")
                    time.sleep(settle)  # past the first checks' JIT and tier-up
                    c0 = self.probe_checks(t, names)
                    s0 = cpu_ticks(srv.pid)
                    log(f"probes ({variant}): sampling {', '.join(m.name for m in mgrs)} for {window} s")
                    foot = self.sample_footprint({m.name: m.daemon_pid() for m in mgrs}, window)
                    s1 = cpu_ticks(srv.pid)
                    c1 = self.probe_checks(t, names)
                    rows = self.tend_rows(t)
                    rate = sum((c1[k][1] - c0[k][1]) / (c1[k][0] - c0[k][0]) for k in names)
                    per_app = sorted((c1[k][1] - c0[k][1]) / (c1[k][0] - c0[k][0]) for k in names)
                    r = {**foot["tend"], "checks_per_s": rate, "min_app_checks_per_s": per_app[0],
                         "failures": sum(c1[k][2] - c0[k][2] for k in names),
                         "ready_at_end": sum(1 for x in rows if x["ready"]),
                         "restarts": sum(x["restarts"] for x in rows),
                         "server_cpu_s": (s1 - s0) / CLK_TCK}
                    out[variant] = r
                    for m in mgrs[1:]:
                        out[m.name] = foot[m.name]
                    log(f"probes ({variant}): cpu {r['cpu_pct']:.2f} %, {rate:.1f} checks/s, "
                        f"{r['failures']} failures, {r['ready_at_end']} ready, {r['restarts']} restarts")
                finally:
                    for m in mgrs:
                        self.close(m, "probes")
        finally:
            srv.kill()
            srv.wait()
        return out

    def time_to_ready(self, delay_ms: int = 500) -> dict:
        """One app that signals readiness delay_ms after it starts, each manager's way; times from
        the launch of the start command."""
        reps = self.cfg["ready_reps"]
        ready_js = os.path.join(self.root, "ready.js")
        out = {}
        for kind in ("tend", "tend-wait", "pm2", "supervisord"):
            m = self.new("tend" if kind == "tend-wait" else kind, "ready")
            rs = []
            try:
                m.start_daemon()
                for rep in range(reps + 1):
                    mark = os.path.join(m.home, f"r{rep}.mark")
                    name = f"r{rep}"
                    if kind.startswith("tend"):
                        app = App(name, [self.child, "notify", str(delay_ms)], mark, tend_yaml=["ready: { notify: true }"])
                    elif kind == "pm2":
                        app = App(name, [ready_js, str(delay_ms)], mark,
                                  pm2={"interpreter": "node", "wait_ready": True, "listen_timeout": 10000})
                    else:  # no readiness signal: RUNNING once up for startsecs (its default, 1 s)
                        app = App(name, [self.child, "sleep"], mark, supervisord=["startsecs=1"])
                    t0 = now_ns()
                    if kind.startswith("tend"):
                        m._config_n += 1
                        path = os.path.join(m.home, f"ready-{m._config_n}.yaml")
                        with open(path, "w") as fh:
                            fh.write(m._yaml([app]))
                        run([m.exe, "start", path] + (["--wait-ready"] if kind == "tend-wait" else []),
                            m.env, timeout=60, check=True)
                    else:
                        m.start_apps([app])
                    t_ret = now_ns()
                    if kind == "tend":
                        seen = wait_until(lambda: any(r["name"] == name and r["ready"] for r in self.tend_rows(m)),
                                          30, 0.01)
                    else:
                        seen = kind == "tend-wait" or wait_until(lambda: m.statuses().get(name) == "online", 30, 0.01)
                    t_seen = now_ns()
                    if not seen:
                        raise RuntimeError(f"{kind}: {name} not ready/online within 30 s")
                    starts, signalled = read_marks(mark)[0], read_ready(mark)
                    if rep > 0:  # the first one warms caches and is not counted
                        rs.append({"return_ms": (t_ret - t0) / 1e6,
                                   "seen_ms": None if kind == "tend-wait" else (t_seen - t0) / 1e6,
                                   "running_ms": (starts[0][1] - t0) / 1e6 if starts else None,
                                   "signalled_ms": (signalled[0][1] - t0) / 1e6 if signalled else None})
                    m.delete_app(name)
                out[kind] = rs
                log(f"time to ready: {kind}: {rs[-1] if rs else None}")
            finally:
                self.close(m, "ready")
        out["delay_ms"] = delay_ms
        return out

    # --- scenario 8: cluster mode and reloads ----------------------------------------------------
    def cluster(self):
        """The same tiny HTTP app (httpd.c; httpd.js for PM2, whose cluster mode runs Node only) run
        directly and under each manager's cluster mode, CLUSTER_N instances, loaded by wrk; then, for
        the managers, wrk runs through `reloads` back-to-back reloads and every failure is counted."""
        cfg = self.cfg
        httpd = os.path.join(self.root, ".work", "httpd")
        httpd_js = os.path.join(self.root, "httpd.js")
        out = {"throughput": {}, "reloads": {}, "wrk_s": cfg["wrk_s"], "warm_s": cfg["wrk_warm_s"],
               "threads": WRK_THREADS, "connections": WRK_CONNS, "instances": CLUSTER_N, "reloads_n": cfg["reloads"]}
        # The references: no manager. SO_REUSEPORT is what N processes do without anyone's help.
        for variant, argvs in (("direct", [[httpd, "port", "env"]]),
                               ("reuseport", [[httpd, "port", "env", "reuseport"]] * CLUSTER_N),
                               ("node-direct", [["node", httpd_js]]),
                               ("node-cluster", [["node", httpd_js, str(CLUSTER_N)]])):
            port = free_port()
            procs = [subprocess.Popen(argv, env=dict(self.env, PORT=str(port)), stdin=subprocess.DEVNULL)
                     for argv in argvs]
            try:
                if not wait_until(lambda: http_ok(port), 20, 0.05):
                    raise RuntimeError(f"cluster: {variant} never answered on 127.0.0.1:{port}")
                time.sleep(0.3)  # node-cluster: every worker up, not only the first
                out["throughput"][variant] = self.load(port, lambda: [q for p in procs for q in descendants(p.pid)])
                log(f"cluster throughput: {variant}: {self.brief(out['throughput'][variant])}")
            finally:
                for p in procs:
                    p.terminate()
                for p in procs:
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()
        # pm2-close: the same PM2 setup, the app stopping with http.Server.close() (see httpd.js), reloads only.
        for variant in ("tend-socket", "tend-proxy", "pm2-cluster", "pm2-close"):
            m = self.new("pm2" if variant.startswith("pm2") else "tend", "cluster")
            try:
                m.start_daemon()
                port = free_port()
                mark = os.path.join(m.home, "cluster.mark")
                if variant.startswith("tend"):
                    socket_mode = variant == "tend-socket"
                    app = App("web", [httpd, "fd3"] if socket_mode else [httpd, "port", "env"], mark,
                              tend_yaml=[f"instances: {CLUSTER_N}", f'listen: "127.0.0.1:{port}"',
                                         f"listen_mode: {'socket' if socket_mode else 'proxy'}", "ready: { notify: true }"])
                    path = os.path.join(m.home, "cluster.yaml")
                    with open(path, "w") as fh:
                        fh.write(m._yaml([app]))
                    run([m.exe, "start", path, "--wait-ready"], m.env, timeout=60, check=True)
                else:
                    # PM2's God daemon is the cluster primary: it listens on PORT and hands connections
                    # to the workers; a worker is online once it listens (PM2's default for cluster mode).
                    env = {"PORT": str(port), **({"HTTPD_CLOSE": "http"} if variant == "pm2-close" else {})}
                    m.start_apps([App("web", [httpd_js], mark, extra_env=env,
                                      pm2={"exec_mode": "cluster", "instances": CLUSTER_N, "interpreter": "node"})])
                if not wait_until(lambda: len(self.app_pids(m)) == CLUSTER_N and http_ok(port), 30, 0.05):
                    raise RuntimeError(f"cluster: {variant}: {CLUSTER_N} instances not serving within 30 s")
                if variant != "pm2-close":
                    out["throughput"][variant] = self.load(port, lambda: self.app_pids(m), m.daemon_pid())
                    log(f"cluster throughput: {variant}: {self.brief(out['throughput'][variant])}")
                else:
                    self.finish_wrk(self.start_wrk(port, self.cfg["wrk_warm_s"]))
                out["reloads"][variant] = self.reload_under_load(m, port)
                r = out["reloads"][variant]
                log(f"cluster reloads: {variant}: {r['wrk']['failed']} failed of {r['wrk']['requests']} requests, "
                    f"reload median {statistics.median(r['reload_s']):.2f} s, exit codes {sorted(set(r['exit_codes']))}")
            finally:
                self.close(m, "cluster")
        self.results["cluster"] = out

    # --- scenario 10: replacing the manager itself -----------------------------------------------
    UPGRADE_COMMANDS = {"tend": ["daemon", "upgrade"], "pm2": ["update"], "supervisord": ["reload"]}

    def upgrade(self):
        """What the apps see when the manager itself is replaced, as after installing a new version:
        Tend's `tend daemon upgrade`, PM2's `pm2 update` (what PM2 says to run after installing a new
        PM2), supervisord's `supervisorctl reload` (its daemon restarts and re-reads its config; it has
        no command that keeps the programs). Under wrk load on a 2-instance HTTP app (supervisord: one
        instance, it cannot share a port) and with a child writing a numbered line every 5 ms: failed
        requests, app pids that changed, and lines missing from the numbered log."""
        httpd = os.path.join(self.root, ".work", "httpd")
        httpd_js = os.path.join(self.root, "httpd.js")
        out = {}
        for name in ("tend", "pm2", "supervisord"):
            m = self.new(name, "upgrade")
            try:
                m.start_daemon()
                port = free_port()
                mark = os.path.join(m.home, "upgrade.mark")
                tick_log = os.path.join(m.home, "ticker.log")
                ticker = App("ticker", [self.child, "tick", "5"], mark, log_file=tick_log, timestamps=False)
                if name == "tend":
                    web = App("web", [httpd, "fd3"], mark, tend_yaml=[f"instances: {CLUSTER_N}", f'listen: "127.0.0.1:{port}"',
                                                                     "ready: { notify: true }"])
                elif name == "pm2":
                    web = App("web", [httpd_js], mark, extra_env={"PORT": str(port)},
                              pm2={"exec_mode": "cluster", "instances": CLUSTER_N, "interpreter": "node"})
                else:
                    web = App("web", [httpd, "port", "env"], mark, extra_env={"PORT": str(port)})
                m.start_apps([web, ticker])
                if not wait_until(lambda: http_ok(port), 30, 0.05):
                    raise RuntimeError(f"upgrade: {name}: web not serving within 30 s")
                time.sleep(1.0)
                before = self.pids_by_app(m)
                w = self.start_wrk(port, 3600)
                try:
                    time.sleep(1.0)
                    argv = m.ctl(*self.UPGRADE_COMMANDS[name]) if name == "supervisord" else [m.exe, *self.UPGRADE_COMMANDS[name]]
                    dt, p = run(argv, m.env, timeout=300)
                    back = wait_until(lambda: http_ok(port), 60, 0.02)
                    time.sleep(1.5)
                finally:
                    w.send_signal(signal.SIGINT)
                wr = self.finish_wrk(w)
                after = self.pids_by_app(m)
                ticks = self.ticks(tick_log)
                out[name] = {
                    "command": " ".join(argv[-len(self.UPGRADE_COMMANDS[name]):]), "seconds": dt, "exit_code": p.returncode,
                    "serving_after": bool(back), "wrk": wr,
                    "pids_before": before, "pids_after": after,
                    "instances": sum(len(v) for v in before.values()),
                    "restarted": sum(len(set(v) - set(after.get(k, []))) for k, v in before.items()),
                    **ticks,
                }
                r = out[name]
                log(f"upgrade: {name}: {r['restarted']} of {r['instances']} app processes replaced, "
                    f"{wr['failed']} failed of {wr['requests']} requests, ticker runs {r['ticker_runs']}, "
                    f"lines missing {r['ticker_missing']}, {dt:.2f} s")
            finally:
                self.close(m, "upgrade")
        self.results["upgrade"] = out

    @staticmethod
    def ticks(path: str) -> dict:
        """The ticker's numbered lines: how many runs (a restart counts from 1 again), how many numbers
        are missing within a run, and how many lines were written in all."""
        nums = []
        try:
            with open(path, errors="replace") as fh:
                for line in fh:
                    mt = re.search(r"tick (\d+)\s*$", line)
                    if mt:
                        nums.append(int(mt.group(1)))
        except FileNotFoundError:
            pass
        runs, missing = (1 if nums else 0), 0
        for a, b in zip(nums, nums[1:]):
            if b == 1:
                runs += 1
            elif b > a + 1:
                missing += b - a - 1
        return {"ticker_runs": runs, "ticker_missing": missing, "ticker_lines": len(nums)}

    def pids_by_app(self, m) -> dict[str, list[int]]:
        if m.name.startswith("tend"):
            rows = [(r["name"], r["pid"]) for r in self.tend_rows(m) if r["pid"]]
        elif m.name == "pm2":
            _, p = run([m.exe, "jlist"], m.env, check=True)
            rows = [(r["name"], r["pid"]) for r in json.loads(p.stdout) if r["pid"]]
        else:
            _, p = run(m.ctl("status"), m.env)
            rows = []
            for line in p.stdout.decode().splitlines():
                mt = re.search(r"pid (\d+)", line)
                if mt:
                    rows.append((line.split()[0], int(mt.group(1))))
        out: dict[str, list[int]] = {}
        for n, pid in rows:
            out.setdefault(n, []).append(pid)
        return {k: sorted(v) for k, v in out.items()}

    @staticmethod
    def brief(w: dict) -> str:
        return (f"{w['rps']:,.0f} req/s, p99 {w.get('p99_ms', float('nan')):.2f} ms, {w['failed']} failed, "
                f"servers {w['servers_cpu_pct']:.0f} %, manager {w.get('manager_cpu_pct') or 0:.0f} %, "
                f"wrk {w['wrk_cpu_pct']:.0f} % of a core, connections {w['connections_per_process']}")

    def app_pids(self, m) -> list[int]:
        if m.name == "tend":
            return [r["pid"] for r in self.tend_rows(m) if r["name"] == "web" and r["pid"] and r["status"] == "online"]
        _, p = run([m.exe, "jlist"], m.env, check=True)
        return [r["pid"] for r in json.loads(p.stdout) if r["name"] == "web" and r["pid"]
                and r["pm2_env"]["status"] == "online"]

    def start_wrk(self, port: int, seconds: int) -> subprocess.Popen:
        argv = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNS}", f"-d{seconds}s", "--latency", f"http://127.0.0.1:{port}/"]
        return subprocess.Popen(argv, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)

    @staticmethod
    def finish_wrk(p: subprocess.Popen) -> dict:
        """Reads wrk's report and reaps it with its own CPU time (wrk shares the cores with the servers)."""
        text = p.stdout.read().decode(errors="replace")
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        r = parse_wrk(text)
        r["wrk_cpu_s"] = ru.ru_utime + ru.ru_stime
        return r

    def load(self, port: int, pids_fn, daemon_pid: int | None = None) -> dict:
        """A warm-up (JIT, connection pools), then the measured wrk run, with the CPU of the servers,
        of the manager's daemon and of wrk itself over it."""
        self.finish_wrk(self.start_wrk(port, self.cfg["wrk_warm_s"]))
        pids = pids_fn()
        c0 = {p: cpu_ticks(p) or 0 for p in pids}
        d0 = cpu_ticks(daemon_pid) if daemon_pid else None
        wp = self.start_wrk(port, self.cfg["wrk_s"])
        time.sleep(self.cfg["wrk_s"] / 2)
        # How the 64 connections are spread over the server processes (a shared accept queue does not
        # balance long-lived connections; SO_REUSEPORT hashes them): TCP sockets each one holds.
        conns = sorted((tcp_sockets(p) for p in pids), reverse=True)
        w = self.finish_wrk(wp)
        w["connections_per_process"] = conns
        servers = sum((cpu_ticks(p) or c0[p]) - c0[p] for p in pids) / CLK_TCK
        w["servers_cpu_pct"] = 100 * servers / w["duration_s"]
        w["wrk_cpu_pct"] = 100 * w["wrk_cpu_s"] / w["duration_s"]
        w["manager_cpu_pct"] = (100 * (cpu_ticks(daemon_pid) - d0) / CLK_TCK / w["duration_s"]) if daemon_pid else None
        return w

    def reload_under_load(self, m, port: int) -> dict:
        """wrk for the whole of `reloads` back-to-back reloads (`tend reload web`, `pm2 reload web`),
        started 1 s before the first and stopped (SIGINT: it reports) 1 s after the last."""
        before = self.app_pids(m)
        pids = before
        w = self.start_wrk(port, 3600)
        times, codes, replaced, errors = [], [], [], []
        try:
            time.sleep(1.0)
            for _ in range(self.cfg["reloads"]):
                dt, p = run([m.exe, "reload", "web"], m.env, timeout=600)
                times.append(dt)
                codes.append(p.returncode)
                if p.returncode != 0:
                    errors.append((p.stderr or p.stdout).decode(errors="replace").strip()[-500:])
                    log(f"{m.name} reload exited {p.returncode}: {errors[-1]}")
                now = self.app_pids(m)
                replaced.append(len(set(pids) - set(now)))
                pids = now
            time.sleep(1.0)
        finally:
            w.send_signal(signal.SIGINT)
        r = {"wrk": self.finish_wrk(w), "reload_s": times, "exit_codes": codes, "replaced": replaced,
             "errors": errors, "instances_after": len(pids), "all_new": not set(before) & set(pids)}
        if m.name == "tend":
            r["ready_after"] = sum(1 for x in self.tend_rows(m) if x["name"] == "web" and x["ready"])
            r["restarts_after"] = sum(x["restarts"] for x in self.tend_rows(m) if x["name"] == "web")
        else:
            _, p = run([m.exe, "jlist"], m.env, check=True)
            r["restarts_after"] = sum(x["pm2_env"].get("restart_time", 0) for x in json.loads(p.stdout) if x["name"] == "web")
        return r

    # --- environment -----------------------------------------------------------------------------
    def describe(self):
        def cmd(argv):
            try:
                return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      timeout=30).stdout.strip().splitlines()[0]
            except Exception:  # noqa: BLE001
                return "?"
        cpu = "?"
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
        t = Tend(os.path.join(self.work, "version-tend"), self.env, self.tend_exe)
        p = PM2(os.path.join(self.work, "version-pm2"), self.env, self.pm2_exe)
        s = Supervisord(os.path.join(self.work, "version-sup"), self.env)
        self.results["machine"] = {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"), "cpu": cpu, "cores": os.cpu_count(),
            "mem_gib": round(mem_kb / 1024 / 1024, 1), "kernel": platform.release(),
            "os": cmd(["bash", "-c", ". /etc/os-release && echo $PRETTY_NAME"]),
            "loadavg_start": open("/proc/loadavg").read().split()[:3],
        }
        self.results["versions"] = {
            "tend": t.version(), "pm2": p.version(), "node": cmd(["node", "--version"]),
            "supervisord": s.version(), "python3": platform.python_version(),
            "dotnet": cmd(["dotnet", "--version"]), "gcc": cmd(["gcc", "--version"]),
            "gnuplot": cmd(["gnuplot", "--version"]), "wrk": cmd(["bash", "-c", "wrk -v 2>&1 | head -1"]),
        }

    def main(self):
        scenarios = self.args.only.split(",") if self.args.only else \
            [s for s in SCENARIOS if s != "thousand" or not self.args.quick]
        unknown = [s for s in scenarios if s not in SCENARIOS]
        if unknown:
            raise SystemExit(f"bench: unknown scenario(s) {unknown}; known: {','.join(SCENARIOS)}")
        started = time.monotonic()
        self.describe()
        for s in scenarios:
            t = time.monotonic()
            log(f"scenario {s}")
            try:
                {"fleet": self.fleet, "hello": self.hello_world, "restart": self.restart, "crash": self.crash,
                 "logs": self.logs, "scale": self.scale, "probes": self.probes, "cluster": self.cluster,
                 "thousand": self.thousand, "upgrade": self.upgrade}[s]()
            except Exception:  # noqa: BLE001 - one broken scenario must not cost the others
                log(f"scenario {s} failed:\n{traceback.format_exc()}")
                self.results.setdefault("failed_scenarios", []).append(s)
                for m in list(self.managers):
                    self.close(m, s)
            self.results.setdefault("durations_s", {})[s] = round(time.monotonic() - t, 1)
            # Written after every scenario, so a failure late in a long run keeps what came before.
            self.write_results(started)
        log(f"results in {self.write_results(started)} ({self.results['total_s']} s)")

    def write_results(self, started: float) -> str:
        self.results["total_s"] = round(time.monotonic() - started, 1)
        self.results["machine"]["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
        path = self.args.out or os.path.join(self.root, ".work", "results.json")
        with open(path, "w") as f:
            json.dump(self.results, f, indent=1)
        return path


def main():
    ap = argparse.ArgumentParser()
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true")
    g.add_argument("--full", action="store_true")
    ap.add_argument("--only", help="comma-separated: " + ",".join(SCENARIOS))
    ap.add_argument("--out")
    ap.add_argument("--run-id")
    ap.add_argument("--sweep", metavar="RUN_ID", help="only kill the leftovers of that run, by pid")
    args = ap.parse_args()
    if args.sweep:
        pids = ours(f"{RUN_ENV}={args.sweep}", {os.getpid(), os.getppid()})
        if pids:
            print(f"bench: killing {len(pids)} leftover process(es): {pids}")
            kill_pids(pids)
        return 0
    if not args.full:
        args.quick = True

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    b = Bench(args)
    try:
        b.main()
        return 0
    except BaseException:  # noqa: BLE001 - clean up on anything, then report it
        traceback.print_exc()
        return 1
    finally:
        b.cleanup_all()
        if not args.run_id or os.environ.get("BENCH_KEEP_WORK") is None:
            shutil.rmtree(b.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
