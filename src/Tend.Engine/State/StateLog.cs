using Microsoft.Extensions.Logging;

namespace Tend.State;

/// <summary>What state persistence tells the daemon log (event ids 3xxx, shared with the supervisor's restore messages).</summary>
internal static partial class StateLog
{
    [LoggerMessage(3003, LogLevel.Error, "saving state to {Path} failed: {Error}")]
    public static partial void SaveFailed(ILogger logger, string path, string error);

    [LoggerMessage(3004, LogLevel.Warning, "not writing an empty list over {Path}, which declares {What}: only `tend delete` empties it")]
    public static partial void EmptyKept(ILogger logger, string path, string what);
}
