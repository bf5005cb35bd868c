"""The three process managers behind one small interface, each in its own home.

Every manager gets a fresh directory under the run's work dir: TEND_HOME for Tend, PM2_HOME
for PM2, a supervisord.conf with its own unix socket, pidfile and log dir for supervisord.
Every process the bench starts carries BENCH_RUN_ID in its environment (the managers pass
their environment on to the children), so cleanup can find each leftover by pid and check it
is ours before it sends a signal; nothing is ever killed by name.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from dataclasses import dataclass, field

RUN_ENV = "BENCH_RUN_ID"


@dataclass
class App:
    """One app in the managers' own terms. `kind` picks restart settings per scenario."""

    name: str
    argv: list[str]
    mark: str  # BENCH_MARK file the child appends its starts to
    kind: str = "sleep"  # sleep | restart | crash | crash-none | log
    log_file: str | None = None
    timestamps: bool = True  # Tend only: the log pump's timestamp prefix (its default is on)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Manager-specific settings with no common meaning (probes, readiness), in each one's terms:
    tend_yaml: list[str] = field(default_factory=list)  # lines under the app, e.g. "ready: { notify: true }"
    pm2: dict = field(default_factory=dict)  # keys merged into the PM2 app, e.g. {"wait_ready": True}
    supervisord: list[str] = field(default_factory=list)  # lines added to [program:x], e.g. "startsecs=1"


def run(argv, env, timeout=60.0, check=False):
    """Runs a command, returns (seconds, CompletedProcess). Output is captured, as a script would."""
    t0 = time.perf_counter()
    p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    dt = time.perf_counter() - t0
    if check and p.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} exited {p.returncode}: {p.stderr.decode(errors='replace')[-2000:]}"
                           f"{p.stdout.decode(errors='replace')[-2000:]}")
    return dt, p


def read_pidfile(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def proc_start_time(pid: int) -> int | None:
    """Field 22 of /proc/pid/stat: with the pid, it names one process (pids get reused)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return int(s[s.rindex(")") + 2:].split()[19])
    except (OSError, ValueError):
        return None


def cpu_ticks(pid: int) -> int | None:
    """utime + stime of every thread of the process, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        parts = s[s.rindex(")") + 2:].split()
        return int(parts[11]) + int(parts[12])
    except (OSError, ValueError):
        return None


def rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def dirty_kb(pid: int) -> int | None:
    """Memory the process has written to (Private_Dirty in smaps_rollup): its heap, stacks, JIT-compiled
    code. RSS also counts clean pages of the files it maps (runtime, libraries), which the kernel can
    drop and read again and which other processes mapping the same files share."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def threads(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return s[s.rindex(")") + 2] != "Z"
    except OSError:
        return False


def ours(needle_text: str, exclude: set[int]) -> list[int]:
    """Live processes whose environment holds this exact NAME=value (all of them started by us)."""
    needle = needle_text.encode()
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        if pid in exclude:
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read()
        except OSError:
            continue
        if needle in env.split(b"\0") and alive(pid):
            found.append(pid)
    return found


def kill_pids(pids, sig=signal.SIGKILL):
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


class Manager:
    name = "?"
    label = "?"

    def __init__(self, home: str, env: dict[str, str]):
        self.home = home
        os.makedirs(home, exist_ok=True)
        self.env = dict(env)
        self.env["BENCH_HOME"] = home  # inherited by the daemon and its children: finds leftovers

    # --- lifecycle -------------------------------------------------------------------------
    def start_daemon(self) -> None:
        raise NotImplementedError

    def start_apps(self, apps: list[App]) -> float:
        """Starts apps (a first batch or more); returns the seconds the command took."""
        raise NotImplementedError

    def delete_app(self, name: str) -> None:
        raise NotImplementedError

    def shutdown(self) -> None:
        raise NotImplementedError

    def daemon_pid(self) -> int | None:
        raise NotImplementedError

    # --- reading ---------------------------------------------------------------------------
    def list_commands(self) -> dict[str, list[str] | None]:
        """{'json': argv or None when unsupported, 'table': argv}."""
        raise NotImplementedError

    def statuses(self) -> dict[str, str]:
        """name -> status, normalised to online | errored | stopped | starting | other text."""
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError


# --------------------------------------------------------------------------------------------
class Tend(Manager):
    name = "tend"
    label = "Tend"

    def __init__(self, home, env, exe, name="tend"):
        super().__init__(home, env)
        self.exe = exe
        self.name = name  # "tend-jit": the same manager from the ReadyToRun build
        self.env["TEND_HOME"] = home
        # The health listener stays on, as by default, but on a free port: the bench runs several
        # daemons at once and the default 127.0.0.1:8363 may be taken by a Tend outside the bench.
        self.env["TEND_HEALTH"] = "127.0.0.1:0"
        self._config_n = 0

    def _yaml(self, apps: list[App]) -> str:
        lines = ["apps:"]
        for a in apps:
            lines.append(f"  {a.name}:")
            lines.append(f"    cmd: {json.dumps(a.argv[0])}")
            lines.append(f"    args: {json.dumps(a.argv[1:])}")
            env = {"BENCH_MARK": a.mark, **a.extra_env}
            lines.append(f"    env: {json.dumps(env)}")
            if a.kind == "restart":
                lines.append("    backoff: none")
                lines.append("    restart_delay: 0")
            elif a.kind == "crash-none":
                lines.append("    backoff: none")
            elif a.kind == "log":
                lines.append("    restart: never")
            if a.log_file:
                # No rotation inside the measured 200 MB; timestamps stay on (the default).
                ts = "" if a.timestamps else ", timestamps: false"
                lines.append(f"    log: {{ out_file: {json.dumps(a.log_file)}, max_size: 4G{ts} }}")
            lines += [f"    {x}" for x in a.tend_yaml]
        return "\n".join(lines) + "\n"

    def start_daemon(self):
        run([self.exe, "list", "--json"], self.env, check=True)  # starts it on first use

    def start_apps(self, apps):
        self._config_n += 1
        path = os.path.join(self.home, f"apps-{self._config_n}.yaml")
        with open(path, "w") as f:
            f.write(self._yaml(apps))
        dt, _ = run([self.exe, "start", path], self.env, timeout=120, check=True)
        return dt

    def start_command_argv(self, app: App) -> list[str]:
        return [self.exe, "start", "-n", app.name, *app.argv[:1], "--", *app.argv[1:]]

    def delete_app(self, name):
        run([self.exe, "delete", name], self.env, timeout=60, check=True)

    def shutdown(self):
        if os.path.exists(os.path.join(self.home, "tend.sock")):
            run([self.exe, "kill"], self.env, timeout=60)

    def daemon_pid(self):
        pid = read_pidfile(os.path.join(self.home, "daemon.pid"))
        return pid if alive(pid) else None

    def list_commands(self):
        return {"json": [self.exe, "list", "--json"], "table": [self.exe, "list"]}

    def statuses(self):
        _, p = run([self.exe, "list", "--json"], self.env, check=True)
        out = {}
        for row in json.loads(p.stdout):
            out[row["name"]] = row["status"]
        return out

    def version(self):
        _, p = run([self.exe, "--version"], self.env)
        return p.stdout.decode().strip().splitlines()[0] if p.stdout else "?"


# --------------------------------------------------------------------------------------------
class PM2(Manager):
    name = "pm2"
    label = "PM2"

    def __init__(self, home, env, exe):
        super().__init__(home, env)
        self.exe = exe
        self.env["PM2_HOME"] = home
        self._config_n = 0

    def _app(self, a: App) -> dict:
        d = {"name": a.name, "script": a.argv[0], "args": a.argv[1:], "interpreter": "none",
             "env": {"BENCH_MARK": a.mark, **a.extra_env}}
        if a.kind == "log":
            d["autorestart"] = False
        if a.log_file:
            d["out_file"] = a.log_file
            d["error_file"] = a.log_file + ".err"
            d["merge_logs"] = True
        d.update(a.pm2)
        return d

    def start_daemon(self):
        run([self.exe, "ping"], self.env, check=True)

    def start_apps(self, apps):
        self._config_n += 1
        path = os.path.join(self.home, f"apps-{self._config_n}.json")
        with open(path, "w") as f:
            json.dump({"apps": [self._app(a) for a in apps]}, f)
        dt, _ = run([self.exe, "start", path], self.env, timeout=180, check=True)
        return dt

    def start_command_argv(self, app: App) -> list[str]:
        return [self.exe, "start", app.argv[0], "--name", app.name, "--interpreter", "none", "--", *app.argv[1:]]

    def delete_app(self, name):
        run([self.exe, "delete", name], self.env, timeout=60, check=True)

    def shutdown(self):
        if self.daemon_pid():
            run([self.exe, "kill"], self.env, timeout=60)

    def daemon_pid(self):
        pid = read_pidfile(os.path.join(self.home, "pm2.pid"))
        return pid if alive(pid) else None

    def list_commands(self):
        return {"json": [self.exe, "jlist"], "table": [self.exe, "list"]}

    def statuses(self):
        _, p = run([self.exe, "jlist"], self.env, check=True)
        out = {}
        for row in json.loads(p.stdout):
            out[row["name"]] = row["pm2_env"]["status"]
        return out

    def version(self):
        # Read from its package.json: `pm2 -v` would start a daemon, like every pm2 command.
        pkg = os.path.join(os.path.dirname(os.path.realpath(self.exe)), "..", "package.json")
        with open(pkg) as f:
            return "pm2 " + json.load(f)["version"]


# --------------------------------------------------------------------------------------------
class Supervisord(Manager):
    name = "supervisord"
    label = "supervisord"

    def __init__(self, home, env):
        super().__init__(home, env)
        self.conf = os.path.join(home, "supervisord.conf")
        self.confd = os.path.join(home, "conf.d")
        os.makedirs(self.confd, exist_ok=True)
        os.makedirs(os.path.join(home, "logs"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(f"""[unix_http_server]
file={home}/supervisor.sock
chmod=0700

[supervisord]
logfile={home}/supervisord.log
pidfile={home}/supervisord.pid
childlogdir={home}/logs
directory={home}
user=root

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://{home}/supervisor.sock

[include]
files = {self.confd}/*.conf
""")

    def ctl(self, *args):
        return ["supervisorctl", "-c", self.conf, *args]

    def program(self, a: App) -> str:
        env = {"BENCH_MARK": a.mark, **a.extra_env}
        envs = ",".join(f'{k}="{v}"' for k, v in env.items())
        lines = [f"[program:{a.name}]", f"command={shlex.join(a.argv)}", f"environment={envs}",
                 "autostart=true", "stopsignal=TERM", "stopwaitsecs=5"]
        if a.kind in ("sleep", "restart"):
            lines.append("autorestart=true")
        elif a.kind == "log":
            # startsecs=0: a child that is done within a second is not a failed start.
            lines += ["autorestart=false", "startsecs=0"]
        # crash: the defaults (autorestart=unexpected, startsecs=1, startretries=3)
        if a.log_file:
            lines += [f"stdout_logfile={a.log_file}", "stdout_logfile_maxbytes=0",
                      f"stderr_logfile={a.log_file}.err", "stderr_logfile_maxbytes=0"]
        else:
            lines += [f"stdout_logfile={self.home}/logs/{a.name}.out", f"stderr_logfile={self.home}/logs/{a.name}.err"]
        lines += a.supervisord
        return "\n".join(lines) + "\n"

    def write_apps(self, apps):
        for a in apps:
            with open(os.path.join(self.confd, f"{a.name}.conf"), "w") as f:
                f.write(self.program(a))

    def start_daemon(self):
        run(["supervisord", "-c", self.conf], self.env, check=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            _, p = run(self.ctl("pid"), self.env)
            if p.returncode == 0 and p.stdout.strip().isdigit():
                return
            time.sleep(0.05)
        raise RuntimeError("supervisord did not answer within 20 s")

    def start_apps(self, apps):
        self.write_apps(apps)
        dt, _ = run(self.ctl("update"), self.env, timeout=180, check=True)
        return dt

    def start_command_argv(self, app: App) -> list[str]:
        self.write_apps([app])  # supervisord starts only what its config declares
        return self.ctl("update")

    def delete_app(self, name):
        try:
            os.remove(os.path.join(self.confd, f"{name}.conf"))
        except FileNotFoundError:
            pass
        run(self.ctl("update"), self.env, timeout=60, check=True)

    def shutdown(self):
        pid = self.daemon_pid()
        if pid:
            run(self.ctl("shutdown"), self.env, timeout=60)
            deadline = time.monotonic() + 30
            while alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)

    def daemon_pid(self):
        pid = read_pidfile(os.path.join(self.home, "supervisord.pid"))
        return pid if alive(pid) else None

    def list_commands(self):
        return {"json": None, "table": self.ctl("status")}

    def statuses(self):
        _, p = run(self.ctl("status"), self.env)
        out = {}
        for line in p.stdout.decode().splitlines():
            parts = line.split()
            if len(parts) >= 2:
                st = parts[1]
                out[parts[0]] = {"RUNNING": "online", "FATAL": "errored", "STOPPED": "stopped",
                                 "EXITED": "stopped", "STARTING": "starting",
                                 "BACKOFF": "waiting"}.get(st, st.lower())
        return out

    def version(self):
        _, p = run(["supervisord", "--version"], self.env)
        return "supervisord " + p.stdout.decode().strip()
