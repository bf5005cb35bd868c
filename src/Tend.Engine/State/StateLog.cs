using Microsoft.Extensions.Logging;

namespace Tend.State;

/// <summary>What state persistence tells the daemon log (event ids 3xxx, shared with the supervisor's restore messages).</summary>
internal static partial class StateLog
{
    [LoggerMessage(3003, LogLevel.Error, "saving state to {Path} failed: {Error}")]
    public static partial void SaveFailed(ILogger logger, string path, string error);
}
