using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Tend.Io;
using Tend.Isolation;

namespace Tend.Processes;

// Starting a child with posix_spawn.
//
// Never fork() from a managed process: the child would be a copy of a multi-threaded runtime
// with only the forking thread alive, where any lock held by another thread (allocator, GC,
// loader) stays held forever. posix_spawn in glibc uses clone(CLONE_VM|CLONE_VFORK) and runs only
// async-signal-safe code in the child before exec, and it reports a failed exec through its return
// value, so "not found"/"permission denied" surface here as errors rather than as a child that
// exits with 127.
//
// What the child gets:
//  - a new session (POSIX_SPAWN_SETSID), so it leads its own process group and has no controlling
//    terminal: stopping can signal the whole group, and a Ctrl-C on the daemon's terminal does not
//    reach it;
//  - every signal at its default disposition and none blocked: the runtime ignores SIGPIPE,
//    threads may block signals, and a child inherits ignored and blocked signals across exec;
//  - stdin from /dev/null, stdout/stderr on pipes (or /dev/null);
//  - no other descriptor: pipes are created O_CLOEXEC, and closefrom(3) also closes anything else
//    some library opened without O_CLOEXEC;
//  - or, with socket activation, the listening sockets at fds 3, 4, … (closefrom(3 + n) then);
//  - and, when asked for, one end of a socketpair right after them, named by a variable: Node's IPC
//    channel (NODE_CHANNEL_FD, as child_process.fork() sets it up) or a Tend.Pool worker's channel.
//
// Socket activation and LISTEN_PID. sd_listen_fds() and Kestrel's UseSystemd() only take the fds if
// LISTEN_PID is the pid of the process reading it (so a grandchild that inherited the variables does not
// take fds that are not its own). posix_spawn tells us the pid only after the exec, and nothing can
// change the environment of a process after its exec. So such a child is started as
//     /bin/sh -c 'exec /usr/bin/env -i -- "LISTEN_PID=$$" "$@"' tend-listen NAME=value… program args…
// The shell learns its own pid ($$), and two execs keep it: sh → env → the program. Why env(1) and not
// just `LISTEN_PID=$$ exec "$0" "$@"`: a shell rewrites the environment it passes on (dash adds PWD and
// drops variables whose names are not shell identifiers, such as "a.b"), while env -i builds it from its
// arguments verbatim, so the program sees exactly the requested environment plus the three LISTEN_
// variables. env's execvp searches the child's PATH and passes argv[0] as given, like a direct spawn.
// The program is looked up here first, as always, so a missing one is still a SpawnException and not a
// child that exits with 127. Without listening sockets nothing of this happens.
//
// The same prelude joins the instance's cgroups (`echo 0 >cgroup.procs`) before the program runs.
// When /bin/sh is dash and every variable is one dash passes on untouched (a shell identifier, and
// not IFS, OPTIND or PPID, which it resets), the shell execs the program itself: PWD, which dash
// rewrites to the directory it runs in, is set back to the requested value (or unset when none was
// requested) first. That saves the env(1) exec, a third of the prelude's cost; any other shell, or
// any other variable, takes env -i as above.
public sealed partial class ChildProcess
{
    private const string DefaultPath = "/usr/local/bin:/usr/bin:/bin";
    private const int OutputPipeSize = 1 << 20;

    /// <summary>Starts the program described by <paramref name="request"/>.</summary>
    /// <param name="timeProvider">Clock for the kill timeout of <see cref="StopAsync"/>; the system clock if null.</param>
    /// <exception cref="SpawnException">The program or working directory is missing, not executable, or
    /// the system refused to start it.</exception>
    public static unsafe ChildProcess Start(SpawnRequest request, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!Path.IsPathFullyQualified(request.WorkingDirectory))
            throw new ArgumentException($"working directory '{request.WorkingDirectory}' is not an absolute path", nameof(request));
        if (!Directory.Exists(request.WorkingDirectory))
            throw new SpawnException(request.FileName, Interop.Sys.ENOENT, $"working directory '{request.WorkingDirectory}'");
        if (FdBudget.Problem() is { } fds) throw new SpawnException(request.FileName, Interop.Sys.EMFILE, fds);

        string path = ResolveExecutable(request);
        int listenCount = request.ListenFds.Count;
        if (request.Channel is { } named)
        {
            var withChannel = new Dictionary<string, string>(request.Environment, StringComparer.Ordinal);
            foreach (var (name, value) in named.Variables) withChannel[name] = value;
            withChannel[named.FdVariable] = request.ChannelFd.ToString(System.Globalization.CultureInfo.InvariantCulture);
            request = request with { Environment = withChannel };
        }
        int passedCount = listenCount + (request.Channel is null ? 0 : 1);
        NativeStringArray argv, envp;
        if (!request.NeedsPrelude)
        {
            argv = new NativeStringArray([request.FileName, .. request.Arguments]);
            envp = new NativeStringArray(request.Environment.Select(FormatVariable));
        }
        else
        {
            (path, string[] wrapped, string[] environment) = Prelude(request, path);
            argv = new NativeStringArray(wrapped);
            envp = new NativeStringArray(environment);
        }
        using var argvOwner = argv;
        using var envpOwner = envp;
        using var nativePath = new NativeStringArray([path, request.WorkingDirectory, "/dev/null"]);

        int* stdoutPipe = stackalloc int[2] { -1, -1 };
        int* stderrPipe = stackalloc int[2] { -1, -1 };
        int* channel = stackalloc int[2] { -1, -1 };
        int* listenCopies = stackalloc int[listenCount];
        new Span<int>(listenCopies, listenCount).Fill(-1);
        void* attr = NativeMemory.AllocZeroed(Interop.Sys.SpawnAttrSize);
        void* actions = NativeMemory.AllocZeroed(Interop.Sys.SpawnFileActionsSize);
        void* sigset = NativeMemory.AllocZeroed(Interop.Sys.SigSetSize);
        bool attrReady = false, actionsReady = false;
        try
        {
            if (request.RedirectOutput)
            {
                if (Interop.Sys.Pipe2(stdoutPipe, Interop.Sys.O_CLOEXEC) != 0 ||
                    Interop.Sys.Pipe2(stderrPipe, Interop.Sys.O_CLOEXEC) != 0)
                {
                    throw new SpawnException(request.FileName, Marshal.GetLastPInvokeError(), "pipe2");
                }
                // A 1 MiB pipe instead of 64 KiB: a child writing one short line per write(2) then
                // wakes the log pump far less often, and a burst never blocks the child while the
                // pump is busy. Best effort: the size may be capped by /proc/sys/fs/pipe-max-size.
                _ = Interop.Sys.Fcntl(stdoutPipe[0], Interop.Sys.F_SETPIPE_SZ, OutputPipeSize);
                _ = Interop.Sys.Fcntl(stderrPipe[0], Interop.Sys.F_SETPIPE_SZ, OutputPipeSize);
            }

            DuplicateListenFds(request, listenCopies);
            if (request.Channel is not null)
            {
                if (Interop.Sys.SocketPair(Interop.Sys.AF_UNIX, Interop.Sys.SOCK_STREAM | Interop.Sys.SOCK_CLOEXEC, 0, channel) != 0)
                    throw new SpawnException(request.FileName, Marshal.GetLastPInvokeError(), "socketpair");
                // Above every target, like the listen copies, so a dup2 into place overwrites nothing still needed.
                int high = Interop.Sys.Fcntl(channel[1], Interop.Sys.F_DUPFD_CLOEXEC, 3 + passedCount);
                if (high < 0) throw new SpawnException(request.FileName, Marshal.GetLastPInvokeError(), "fcntl(F_DUPFD_CLOEXEC)");
                Interop.Sys.Close(channel[1]);
                channel[1] = high;
            }

            Check(request, Interop.Sys.PosixSpawnAttrInit(attr), "posix_spawnattr_init");
            attrReady = true;
            Check(request, Interop.Sys.PosixSpawnAttrSetFlags(attr,
                Interop.Sys.POSIX_SPAWN_SETSID | Interop.Sys.POSIX_SPAWN_SETSIGDEF | Interop.Sys.POSIX_SPAWN_SETSIGMASK),
                "posix_spawnattr_setflags");
            // Not sigfillset: it leaves out glibc's internal signals 32 and 33, which posix_spawn then
            // sets to SIG_IGN in the child, and an exec'd program keeps them ignored. All 64 bits, set by
            // hand, give every signal its default (the kernel refuses SIGKILL/SIGSTOP; glibc ignores that).
            new Span<byte>(sigset, 8).Fill(0xFF);
            Check(request, Interop.Sys.PosixSpawnAttrSetSigDefault(attr, sigset), "posix_spawnattr_setsigdefault");
            Interop.Sys.SigEmptySet(sigset);
            Check(request, Interop.Sys.PosixSpawnAttrSetSigMask(attr, sigset), "posix_spawnattr_setsigmask");

            Check(request, Interop.Sys.PosixSpawnFileActionsInit(actions), "posix_spawn_file_actions_init");
            actionsReady = true;
            byte* devNull = nativePath[2];
            Check(request, Interop.Sys.PosixSpawnFileActionsAddOpen(actions, 0, devNull, Interop.Sys.O_RDONLY, 0), "addopen");
            if (request.RedirectOutput)
            {
                // dup2 clears FD_CLOEXEC on the copy, so fds 1 and 2 survive the exec while the
                // original pipe ends (O_CLOEXEC, and >= 3 anyway) do not.
                Check(request, Interop.Sys.PosixSpawnFileActionsAddDup2(actions, stdoutPipe[1], 1), "adddup2");
                Check(request, Interop.Sys.PosixSpawnFileActionsAddDup2(actions, stderrPipe[1], 2), "adddup2");
            }
            else
            {
                Check(request, Interop.Sys.PosixSpawnFileActionsAddOpen(actions, 1, devNull, Interop.Sys.O_WRONLY, 0), "addopen");
                Check(request, Interop.Sys.PosixSpawnFileActionsAddOpen(actions, 2, devNull, Interop.Sys.O_WRONLY, 0), "addopen");
            }
            for (int i = 0; i < listenCount; i++)
            {
                // The copies are all >= 3 + n, so no dup2 here overwrites a source a later one still
                // needs, and source != target, so dup2 really clears FD_CLOEXEC on fd 3 + i.
                Check(request, Interop.Sys.PosixSpawnFileActionsAddDup2(actions, listenCopies[i], 3 + i), "adddup2");
            }
            if (request.Channel is not null)
                Check(request, Interop.Sys.PosixSpawnFileActionsAddDup2(actions, channel[1], request.ChannelFd), "adddup2");
            Check(request, Interop.Sys.PosixSpawnFileActionsAddChdir(actions, nativePath[1]), "addchdir");
            Check(request, Interop.Sys.PosixSpawnFileActionsAddCloseFrom(actions, 3 + passedCount), "addclosefrom");

            ChildProcess child;
            ReapLock.EnterReadLock();
            try
            {
                int pid;
                int error = Interop.Sys.PosixSpawn(&pid, nativePath[0], actions, attr, argv.Pointer, envp.Pointer);
                if (error != 0)
                {
                    // The file was there a moment ago, so ENOENT now most likely means a missing #!
                    // interpreter (or a working directory removed meanwhile).
                    string? detail = error == Interop.Sys.ENOENT ? "missing interpreter or working directory?" : null;
                    throw new SpawnException(request.FileName, error, detail);
                }
                int fd = Interop.Sys.PidFdOpen(pid);
                if (fd < 0)
                {
                    // Still unreaped (nobody reaps unknown children while we hold the lock), so the
                    // bare pid is safe to use here.
                    int errno = Marshal.GetLastPInvokeError();
                    Interop.Sys.Kill(-pid, Signals.SIGKILL);
                    Interop.Sys.Kill(pid, Signals.SIGKILL);
                    Interop.Sys.WaitPid(pid, null, 0);
                    throw new SpawnException(request.FileName, errno, "pidfd_open");
                }

                child = new ChildProcess(pid, new SafeFdHandle(fd), isOurChild: true, timeProvider ?? TimeProvider.System,
                    OpenReadEnd(stdoutPipe[0]), OpenReadEnd(stderrPipe[0]))
                {
                    Cgroup = request.Cgroup,
                    EscapeMarkers = request.EscapeMarkers,
                    // Unreaped until the watcher sees it, so its /proc entry exists even if it exited.
                    StartTime = ProcStat.ReadStartTime(pid) ?? 0,
                    Channel = channel[0] >= 0 ? new System.Net.Sockets.SafeSocketHandle(channel[0], ownsHandle: true) : null,
                };
                stdoutPipe[0] = stderrPipe[0] = channel[0] = -1; // owned by the streams now
                s_live[pid] = child;
            }
            finally
            {
                ReapLock.ExitReadLock();
            }

            int watchErrno = ChildWatcher.Watch(child._pidFd, child.OnExited);
            if (watchErrno != 0)
            {
                // Without the watcher nobody would ever reap it: kill and reap it here.
                child.KillGroupLeftovers();
                child.Reap();
                s_live.TryRemove(new KeyValuePair<int, ChildProcess>(child.Pid, child));
                child._pidFd.Dispose();
                child.StandardOutput?.Dispose();
                child.StandardError?.Dispose();
                child.Channel?.Dispose();
                throw new SpawnException(request.FileName, watchErrno, "epoll_ctl");
            }
            return child;
        }
        finally
        {
            // The write ends belong to the child now (or to nobody if the spawn failed); keeping them
            // open here would keep the readers from ever seeing end-of-file.
            CloseIfOpen(stdoutPipe[1]);
            CloseIfOpen(stderrPipe[1]);
            // Still set only if no ChildProcess took them over.
            CloseIfOpen(stdoutPipe[0]);
            CloseIfOpen(stderrPipe[0]);
            CloseIfOpen(channel[0]);
            CloseIfOpen(channel[1]);
            for (int i = 0; i < listenCount; i++) CloseIfOpen(listenCopies[i]);
            if (actionsReady) Interop.Sys.PosixSpawnFileActionsDestroy(actions);
            if (attrReady) Interop.Sys.PosixSpawnAttrDestroy(attr);
            NativeMemory.Free(sigset);
            NativeMemory.Free(actions);
            NativeMemory.Free(attr);
        }
    }

    /// <summary>
    /// Finds the file to execute. A name with a '/' is a path (relative to the working directory);
    /// a bare name is searched on the child's PATH (or the daemon's when the child has none), like
    /// execvp: the first executable regular file wins, and EACCES is reported over ENOENT if a
    /// candidate existed but could not be executed.
    /// </summary>
    private static string ResolveExecutable(SpawnRequest request)
    {
        string name = request.FileName;
        if (name.Length == 0 || name.Contains('\0'))
            throw new SpawnException(name, Interop.Sys.ENOENT);

        if (name.Contains('/'))
        {
            string full = Path.Combine(request.WorkingDirectory, name);
            int errno = CheckExecutable(full);
            if (errno != 0) throw new SpawnException(name, errno);
            return full;
        }

        string searchPath = request.Environment.TryGetValue("PATH", out var childPath) ? childPath
            : Environment.GetEnvironmentVariable("PATH") ?? DefaultPath;
        int firstError = Interop.Sys.ENOENT;
        foreach (string dir in searchPath.Split(':'))
        {
            // An empty entry means the current directory, which for the child is its working directory.
            string candidate = Path.Combine(request.WorkingDirectory, dir.Length == 0 ? "." : dir, name);
            int errno = CheckExecutable(candidate);
            if (errno == 0) return candidate;
            if (errno == Interop.Sys.EACCES) firstError = Interop.Sys.EACCES;
        }
        throw new SpawnException(name, firstError, "searched PATH");
    }

    /// <summary>
    /// The prelude that runs before the program (see the top of this file): /bin/sh sets the umask,
    /// writes itself into the instance's cgroups and learns its own pid for LISTEN_PID, then execs
    /// env -i (the exact environment), prlimit (resource limits, set while still root) and setpriv
    /// (groups, user, no_new_privs, capabilities), which execs the program. Every step is an exec,
    /// so the pid we hold is the program's from the first to the last. Returns the file to execute
    /// (the shell), its argv and its environment (empty when env -i builds the program's).
    /// </summary>
    private static (string Path, string[] Argv, string[] Environment) Prelude(SpawnRequest request, string resolved)
    {
        const string Shell = "/bin/sh";
        string env = File.Exists("/usr/bin/env") ? "/usr/bin/env" : "/bin/env";
        foreach (string helper in new[] { Shell, env })
        {
            int errno = CheckExecutable(helper);
            if (errno != 0) throw new SpawnException(request.FileName, errno, $"{helper} is needed to start the program");
        }
        ProcessIsolation? isolation = request.Isolation;

        // env searches the PATH of the environment it builds, which is the child's. Without a PATH
        // there, ResolveExecutable searched the daemon's, so hand env the file it found instead.
        string program = request.FileName.Contains('/') || request.Environment.ContainsKey("PATH") ? request.FileName : resolved;
        // env would take a word with '=' for one more variable.
        if (program.Contains('='))
            throw new SpawnException(request.FileName, Interop.Sys.EINVAL, "a program whose name contains '=' cannot be started through env(1)");

        var variables = new List<KeyValuePair<string, string>>();
        foreach (var variable in request.Environment)
        {
            if (request.ListenFds.Count > 0 && variable.Key is "LISTEN_PID" or "LISTEN_FDS" or "LISTEN_FDNAMES") continue;
            variables.Add(variable);
        }
        if (request.ListenFds.Count > 0)
        {
            variables.Add(new("LISTEN_FDS", request.ListenFds.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            variables.Add(new("LISTEN_FDNAMES", string.Join(':', request.ListenFds.Select(fd => fd.Name))));
        }
        bool shellPassesThem = s_shellIsDash && variables.All(v => DashPassesOn(v.Key));
        string? pwd = variables.FirstOrDefault(v => v.Key == "PWD").Value;

        var script = new StringBuilder();
        if (isolation?.Umask is int umask) script.Append("umask ").Append(Convert.ToString(umask, 8).PadLeft(4, '0')).Append(" && ");
        foreach (string procs in request.Cgroup?.ProcsFiles ?? [])
            script.Append("echo 0 >").Append(ShellQuote(procs)).Append(" && ");
        if (shellPassesThem)
        {
            script.Append(pwd is null ? "unset PWD && " : "PWD=$1 && shift && ");
            if (request.ListenFds.Count > 0) script.Append("export LISTEN_PID=$$ && ");
            script.Append("exec ");
        }
        else
        {
            script.Append("exec ").Append(env).Append(" -i -- ");
            if (request.ListenFds.Count > 0) script.Append("\"LISTEN_PID=$$\" ");
        }
        script.Append("\"$@\" || { echo \"tend-exec: could not set the umask or join the instance's cgroup\" >&2; exit 126; }");

        var argv = new List<string> { Shell, "-c", script.ToString(), "tend-exec" };
        string[] environment = [];
        if (shellPassesThem)
        {
            environment = [.. variables.Select(FormatVariable)];
            if (pwd is not null) argv.Add(pwd);
        }
        else
        {
            argv.AddRange(variables.Select(FormatVariable));
        }
        if (isolation is { Limits.Count: > 0 })
        {
            argv.Add(Helper(request, "prlimit", "to set resource limits (limits:)"));
            foreach (ResourceLimit limit in isolation.Limits)
            {
                if (!ResourceLimit.Names.Contains(limit.Name))
                    throw new ArgumentException($"'{limit.Name}' is not a resource limit", nameof(request));
                argv.Add($"--{limit.Name}={LimitValue(limit.Soft)}:{LimitValue(limit.Hard)}");
            }
            argv.Add("--");
        }
        if (isolation is { ChangesCredentials: true })
        {
            argv.Add(Helper(request, "setpriv", "to switch user, groups or capabilities"));
            if (isolation.Gid is uint gid) argv.Add(FormattableString.Invariant($"--regid={gid}"));
            if (isolation.Uid is uint uid) argv.Add(FormattableString.Invariant($"--reuid={uid}"));
            if (isolation.Groups is { } groups)
                argv.Add(groups.Count == 0 ? "--clear-groups" : "--groups=" + string.Join(',', groups.Select(g => g.ToString(System.Globalization.CultureInfo.InvariantCulture))));
            else if (isolation.Uid is not null || isolation.Gid is not null)
                argv.Add("--keep-groups");
            if (isolation.NoNewPrivileges) argv.Add("--nnp");
            if (isolation.Capabilities is { } caps)
            {
                foreach (string cap in caps)
                {
                    if (!Capabilities.Names.Contains(cap)) throw new ArgumentException($"'{cap}' is not a capability", nameof(request));
                }
                string set = string.Concat(caps.Select(c => ",+" + c));
                argv.Add("--inh-caps=-all" + set);
                argv.Add("--ambient-caps=-all" + set);
                argv.Add("--bounding-set=-all" + set);
            }
            argv.Add("--");
        }
        argv.Add(program);
        argv.AddRange(request.Arguments);
        return (Shell, argv.ToArray(), environment);
    }

    /// <summary>Whether /bin/sh is dash, which passes its environment on as it found it but for the names <see cref="DashPassesOn"/> excludes.</summary>
    private static readonly bool s_shellIsDash = IsDash("/bin/sh");

    private static bool IsDash(string shell)
    {
        try
        {
            string target = File.ResolveLinkTarget(shell, returnFinalTarget: true)?.FullName ?? shell;
            return Path.GetFileName(target) == "dash";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>A name dash imports and exports unchanged: a shell identifier other than IFS, OPTIND and
    /// PPID (which it resets); PWD it rewrites, and the prelude sets it back.</summary>
    private static bool DashPassesOn(string name)
    {
        if (name.Length == 0 || name is "IFS" or "OPTIND" or "PPID" || char.IsAsciiDigit(name[0])) return false;
        foreach (char c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_') return false;
        }
        return true;
    }

    /// <summary>A util-linux helper of the prelude, by absolute path (env -i leaves no PATH to search).</summary>
    private static string Helper(SpawnRequest request, string name, string purpose) =>
        HostSupport.FindTool(name) ?? throw new SpawnException(request.FileName, Interop.Sys.ENOENT, $"{name} (util-linux) is needed {purpose}");

    private static string LimitValue(ulong value) =>
        value == ResourceLimit.Infinity ? "unlimited" : value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A word for sh: single quotes, with each ' written as '\''.</summary>
    private static string ShellQuote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Copies each listening socket to a descriptor >= 3 + n, close-on-exec, for the file
    /// actions to dup2 into place. Close-on-exec keeps the copies out of any other child spawned
    /// meanwhile by another thread.</summary>
    private static unsafe void DuplicateListenFds(SpawnRequest request, int* copies)
    {
        int count = request.ListenFds.Count;
        for (int i = 0; i < count; i++)
        {
            ListenFd listen = request.ListenFds[i] ?? throw new ArgumentException("a listen fd is null", nameof(request));
            if (!ListenFd.IsValidName(listen.Name))
                throw new ArgumentException($"'{listen.Name}' is not a valid LISTEN_FDNAMES entry (1-255 characters, no ':')", nameof(request));
            bool added = false;
            try
            {
                listen.Handle.DangerousAddRef(ref added);
                int fd = (int)listen.Handle.DangerousGetHandle();
                copies[i] = Interop.Sys.Fcntl(fd, Interop.Sys.F_DUPFD_CLOEXEC, 3 + count);
                if (copies[i] < 0) throw new SpawnException(request.FileName, Marshal.GetLastPInvokeError(), "fcntl(F_DUPFD_CLOEXEC)");
            }
            catch (ObjectDisposedException)
            {
                throw new ArgumentException($"listen fd '{listen.Name}' is closed", nameof(request));
            }
            finally
            {
                if (added) listen.Handle.DangerousRelease();
            }
        }
    }

    private static int CheckExecutable(string path)
    {
        if (Directory.Exists(path)) return Interop.Sys.EACCES; // what execve says for a directory
        if (!File.Exists(path)) return Interop.Sys.ENOENT;
        return Interop.Sys.Access(path, Interop.Sys.X_OK) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    private static string FormatVariable(KeyValuePair<string, string> variable)
    {
        if (variable.Key.Length == 0 || variable.Key.Contains('='))
            throw new ArgumentException($"invalid environment variable name '{variable.Key}'");
        return variable.Key + "=" + variable.Value;
    }

    private static void Check(SpawnRequest request, int error, string call)
    {
        if (error != 0) throw new SpawnException(request.FileName, error, call);
    }

    /// <summary>The read end, made non-blocking: it is read when epoll says so, never by a thread that waits.
    /// Only this end: the child's end stays blocking, as every program expects its stdout to be.</summary>
    private static SafeFdHandle? OpenReadEnd(int fd)
    {
        if (fd < 0) return null;
        int flags = Interop.Sys.Fcntl(fd, Interop.Sys.F_GETFL, 0);
        if (flags >= 0) _ = Interop.Sys.Fcntl(fd, Interop.Sys.F_SETFL, flags | Interop.Sys.O_NONBLOCK);
        return new SafeFdHandle(fd);
    }

    private static void CloseIfOpen(int fd)
    {
        if (fd >= 0) Interop.Sys.Close(fd);
    }

    /// <summary>A NULL-terminated array of NUL-terminated UTF-8 strings in native memory, as argv and
    /// envp want them.</summary>
    private sealed unsafe class NativeStringArray : IDisposable
    {
        private readonly byte** _array;
        private readonly int _count;

        public NativeStringArray(IEnumerable<string> strings)
        {
            string[] items = strings.ToArray();
            foreach (string item in items)
            {
                if (item.Contains('\0')) throw new ArgumentException("strings passed to a process may not contain NUL characters");
            }
            _array = (byte**)NativeMemory.AllocZeroed((nuint)(items.Length + 1), (nuint)sizeof(byte*));
            foreach (string item in items)
            {
                int length = Encoding.UTF8.GetByteCount(item);
                byte* bytes = (byte*)NativeMemory.Alloc((nuint)length + 1);
                Encoding.UTF8.GetBytes(item, new Span<byte>(bytes, length));
                bytes[length] = 0;
                _array[_count++] = bytes;
            }
        }

        public byte** Pointer => _array;

        public byte* this[int index] => _array[index];

        public void Dispose()
        {
            for (int i = 0; i < _count; i++) NativeMemory.Free(_array[i]);
            NativeMemory.Free(_array);
        }
    }
}
