using System.Runtime.InteropServices;
using Tend.Isolation;

namespace Tend.Processes;

/// <summary>Everything needed to start one child process.</summary>
/// <param name="FileName">A path (contains '/'; relative paths are taken from <paramref name="WorkingDirectory"/>)
/// or a bare command name searched on the child's PATH.</param>
/// <param name="Arguments">argv[1..]; argv[0] is <paramref name="FileName"/> as given.</param>
/// <param name="WorkingDirectory">Absolute path of the child's working directory.</param>
/// <param name="Environment">The complete environment of the child: nothing is inherited from the daemon.</param>
public sealed record SpawnRequest(
    string FileName,
    IReadOnlyList<string> Arguments,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment)
{
    /// <summary>True: stdout and stderr on two separate pipes (<see cref="ChildProcess.StandardOutput"/>,
    /// <see cref="ChildProcess.StandardError"/>). False: both go to /dev/null. stdin is always /dev/null.</summary>
    public bool RedirectOutput { get; init; } = true;

    /// <summary>Listening sockets handed over by socket activation, as systemd does it: the first at fd 3,
    /// the next at fd 4, …, with <c>LISTEN_FDS</c>, <c>LISTEN_FDNAMES</c> and <c>LISTEN_PID</c> (the child's
    /// own pid) set in its environment, replacing any values <see cref="Environment"/> has for them.
    /// The handles stay owned by the caller; the child gets copies.</summary>
    public IReadOnlyList<ListenFd> ListenFds { get; init; } = [];

    /// <summary>
    /// A private channel to the child: one end of a unix stream socketpair at the descriptor after the
    /// listening sockets (fd 3 without any), named in its environment by <see cref="SpawnChannel.FdVariable"/>
    /// (plus <see cref="SpawnChannel.Variables"/>), replacing any values <see cref="Environment"/> has for
    /// them. The other end is <see cref="ChildProcess.Channel"/>. <see cref="SpawnChannel.Node"/> is
    /// Node.js's IPC channel as child_process.fork() makes it; Tend.Pool's workers get one of their own.
    /// </summary>
    public SpawnChannel? Channel { get; init; }

    /// <summary>The descriptor the child finds <see cref="Channel"/> at.</summary>
    public int ChannelFd => 3 + ListenFds.Count;

    /// <summary>User, groups, umask, rlimits, no_new_privs and capabilities to put the child into
    /// before its program starts; null runs it as the daemon runs.</summary>
    public ProcessIsolation? Isolation { get; init; }

    /// <summary>The cgroup the child joins before its program starts (prepared by the caller). Then
    /// killing and "is it gone" cover every process it ever starts, not just its process group.</summary>
    public InstanceCgroup? Cgroup { get; init; }

    /// <summary>
    /// Without a cgroup: environment entries ("TEND_APP=web") that mark the instance's processes.
    /// A process that left the group and lost its parent is re-parented to the daemon (a subreaper);
    /// one carrying all of these is killed with the instance.
    /// </summary>
    public IReadOnlyList<string> EscapeMarkers { get; init; } = [];

    /// <summary>True when the child needs the spawn prelude (see ChildProcess): a shell that learns its
    /// own pid, joins cgroups and sets the umask, then env, prlimit and setpriv.</summary>
    internal bool NeedsPrelude => ListenFds.Count > 0 || Isolation is not null || Cgroup is not null;
}

/// <summary>How a child finds its end of <see cref="SpawnRequest.Channel"/>.</summary>
/// <param name="FdVariable">The environment variable that names the descriptor number.</param>
/// <param name="Variables">Further variables the protocol wants beside it.</param>
public sealed record SpawnChannel(string FdVariable, IReadOnlyDictionary<string, string> Variables)
{
    /// <summary>Node.js's IPC channel: Node then gives the app process.send() and process.on('message').</summary>
    public static SpawnChannel Node { get; } = new("NODE_CHANNEL_FD",
        new Dictionary<string, string>(StringComparer.Ordinal) { ["NODE_CHANNEL_SERIALIZATION_MODE"] = "json" });

    /// <summary>A channel named by one variable and nothing else.</summary>
    public static SpawnChannel Named(string fdVariable) => new(fdVariable, new Dictionary<string, string>(StringComparer.Ordinal));
}

/// <summary>One descriptor passed by socket activation.</summary>
/// <param name="Handle">The open descriptor (a listening socket); not consumed.</param>
/// <param name="Name">Its entry in <c>LISTEN_FDNAMES</c>: 1–255 characters, no ':' and no control characters.</param>
public sealed record ListenFd(SafeHandle Handle, string Name)
{
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 255 && !name.Any(c => c == ':' || char.IsControl(c));
}
