using Microsoft.Extensions.Logging;

namespace Tend.Alerts;

internal static partial class AlertLog
{
    [LoggerMessage(7001, LogLevel.Information, "alert rules of {Source}: {Rules} rules, {Channels} channels")]
    public static partial void RulesApplied(ILogger logger, string source, int rules, int channels);

    [LoggerMessage(7002, LogLevel.Warning, "alert {Rule} firing for {Target}: {Description}")]
    public static partial void Firing(ILogger logger, string rule, string target, string description);

    [LoggerMessage(7003, LogLevel.Information, "alert {Rule} resolved for {Target}: {Because}")]
    public static partial void Resolved(ILogger logger, string rule, string target, string because);

    [LoggerMessage(7004, LogLevel.Information, "alert {Rule} ({Target}) delivered to {Channel} (attempt {Attempt})")]
    public static partial void Delivered(ILogger logger, string rule, string target, string channel, int attempt);

    [LoggerMessage(7005, LogLevel.Warning, "alert {Rule} ({Target}) not delivered to {Channel} (attempt {Attempt}), retrying in {Seconds}s: {Error}")]
    public static partial void Retrying(ILogger logger, string rule, string target, string channel, int attempt, double seconds, string error);

    [LoggerMessage(7006, LogLevel.Error, "alert {Rule} ({Target}) undeliverable to {Channel} after {Attempts} attempts, recorded in alerts/undeliverable.jsonl: {Error}")]
    public static partial void GaveUp(ILogger logger, string rule, string target, string channel, int attempts, string error);

    [LoggerMessage(7007, LogLevel.Warning, "alerts: cannot use {Path}: {Error}")]
    public static partial void OutboxUnreadable(ILogger logger, string path, string error);

    [LoggerMessage(7008, LogLevel.Warning, "alerts: evaluating {What} failed: {Error}")]
    public static partial void EvaluationFailed(ILogger logger, string what, string error);
}
