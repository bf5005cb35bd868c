namespace Tend.Supervision;

/// <summary>
/// One instance's environment, as `tend env` shows it (PM2's env): what its process was started with,
/// read from the process itself, or, with no process running, what its next start will get.
/// </summary>
/// <param name="Pid">The process the environment was read from; null when it is the next start's.</param>
public sealed record InstanceEnvironmentView(string Name, int Number, int Id, int? Pid, IReadOnlyDictionary<string, string> Env);
