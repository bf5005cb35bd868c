namespace Tend.Supervision;

/// <summary>Who of an instance gets a signal.</summary>
public enum SignalScope
{
    /// <summary>The main process only, as systemd's `kill` and `ExecReload` do: a master that forks
    /// workers (gunicorn, nginx, PostgreSQL) decides itself what its workers get.</summary>
    Main,
    /// <summary>Every process of the instance's process group.</summary>
    Group,
}
