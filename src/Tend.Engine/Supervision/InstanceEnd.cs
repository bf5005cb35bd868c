using Tend.Processes;

namespace Tend.Supervision;

/// <summary>Why an instance's run loop ended for good (until somebody starts it again).</summary>
public enum InstanceEndKind
{
    /// <summary>Stopped because somebody asked: `tend stop`, a shutdown, a signal to `tend run`.</summary>
    Requested,
    /// <summary>The program ended and its restart policy keeps it down (a finished job, restart: never).</summary>
    Finished,
    /// <summary>The crash-loop guard gave up: errored.</summary>
    GaveUp,
    /// <summary>Never started: a dependency cannot reach its condition.</summary>
    Blocked,
    /// <summary>Its supervisor took over: it restarts the instance with its siblings, or has given up itself.</summary>
    TakenOver,
    /// <summary>The run loop failed inside Tend.</summary>
    InternalError,
}

/// <summary>An instance ended: which one, why, and how its last process exited (null if it never ran).</summary>
public sealed record InstanceEnd(string App, int Number, InstanceEndKind Kind, ExitStatus? LastExit, string Reason)
{
    /// <summary>The last exit counts as clean for the app: 0, or a code in its stop_exit_codes.</summary>
    public bool CleanExit { get; init; }

    public string Label => $"{App}#{Number}";
}

/// <summary>
/// The exit status of `tend run`, the only verdict a container runtime or a Kubernetes Job sees.
/// The first instance that ended on its own with a failure decides it: its exit code, or
/// 128 + the signal that killed it (the shell's convention), or 1 when it errored or was blocked
/// without a failing exit of its own. Instances stopped on request (SIGTERM to `tend run`) and
/// jobs that finished with 0 leave it at 0. Pure: fed the ends in the order they happened.
/// </summary>
public sealed class RunVerdict
{
    private readonly Lock _gate = new();

    /// <summary>The instance that decided the verdict, or null while it is 0.</summary>
    public InstanceEnd? Decisive { get { lock (_gate) return _decisive; } }
    private InstanceEnd? _decisive;
    private int _code;

    public int ExitCode { get { lock (_gate) return _code; } }

    public void OnEnded(InstanceEnd end)
    {
        int code = CodeOf(end);
        if (code == 0) return;
        lock (_gate)
        {
            if (_decisive is not null) return;
            _decisive = end;
            _code = code;
        }
    }

    /// <summary>A failure nobody's instance accounts for (a supervisor tree that gave up): 1 unless already decided.</summary>
    public void OnFailure()
    {
        lock (_gate) if (_code == 0) _code = 1;
    }

    public static int CodeOf(InstanceEnd end) => end.Kind switch
    {
        InstanceEndKind.Finished => end.CleanExit ? 0 : Failing(end.LastExit) ?? 0,
        InstanceEndKind.GaveUp or InstanceEndKind.Blocked or InstanceEndKind.InternalError => Failing(end.LastExit) ?? 1,
        _ => 0,
    };

    /// <summary>A failing exit as a shell reports it; null for success or an unknown status.</summary>
    private static int? Failing(ExitStatus? exit) => exit switch
    {
        { Code: int c } when c != 0 => c,
        { Signal: int s } => 128 + s,
        _ => null,
    };
}
