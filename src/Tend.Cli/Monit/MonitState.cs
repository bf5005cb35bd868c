using System.Collections.Immutable;
using Tend.Api;
using Tend.Cli.Rendering;

namespace Tend.Cli.Monit;

internal enum NoticeKind { Info, Success, Error }

/// <summary>The one line about the last action: "restarting web…", the daemon's answer, or the error.</summary>
internal sealed record MonitNotice(string Text, NoticeKind Kind);

/// <summary>
/// Everything the monit screen shows, as one immutable value: the loop (<see cref="MonitSession"/>)
/// folds inputs into it with the With… methods, and the renderer (<see cref="MonitScreen"/>) draws
/// it. Neither side does I/O on the other's behalf, so both can be tested alone.
///
/// The selection is held by instance name ("web#1"), not by row index, so it stays on the same
/// instance when the list changes order or grows; when that instance goes away, the row at the
/// same position is selected instead. Actions and the log tail are about the selected row's app.
/// </summary>
internal sealed record MonitState
{
    /// <summary>Samples kept per instance: a minute at the daemon's 1 s sampling.</summary>
    public const int HistoryLength = 60;

    /// <summary>Log lines kept for the selected app; the screen shows the newest that fit.</summary>
    public const int LogCapacity = 500;

    public required string Home { get; init; }

    public TimeZoneInfo Zone { get; init; } = TimeZoneInfo.Utc;

    public DateTimeOffset Now { get; init; }

    public ImmutableArray<InstanceInfo> Rows { get; init; } = [];

    public ImmutableDictionary<string, InstanceHistory> History { get; init; } = ImmutableDictionary<string, InstanceHistory>.Empty;

    public string? SelectedKey { get; init; }

    /// <summary>The app whose lines <see cref="Log"/> holds.</summary>
    public string? LogApp { get; init; }

    public ImmutableList<LogLineDto> Log { get; init; } = [];

    /// <summary>Why the log stream is not being followed right now (it ended, the app is unknown), or null.</summary>
    public string? LogProblem { get; init; }

    public MonitNotice? Notice { get; init; }

    /// <summary>Set while the daemon cannot be reached: the rows shown are the last ones it sent.</summary>
    public string? DaemonError { get; init; }

    public int SelectedIndex => IndexOf(Rows, SelectedKey);

    public InstanceInfo? Selected => SelectedIndex is int i and >= 0 ? Rows[i] : null;

    public string? SelectedApp => Selected?.Name;

    public static string KeyOf(InstanceInfo row) => Format.InstanceName(row.Name, row.Instance);

    public InstanceHistory HistoryOf(InstanceInfo row) =>
        History.TryGetValue(KeyOf(row), out InstanceHistory? history) ? history : InstanceHistory.Empty;

    /// <summary>A fresh list from the daemon: one more sample per instance, the selection kept.</summary>
    public MonitState WithList(IReadOnlyList<InstanceInfo> rows, DateTimeOffset now)
    {
        ImmutableDictionary<string, InstanceHistory>.Builder history = ImmutableDictionary.CreateBuilder<string, InstanceHistory>();
        foreach (InstanceInfo row in rows)
        {
            string key = KeyOf(row);
            history[key] = HistoryOf(row).Append(row.CpuPercent, row.MemoryBytes, HistoryLength);
        }

        ImmutableArray<InstanceInfo> next = [.. rows];
        string? selected = SelectedKey;
        if (IndexOf(next, selected) < 0)
        {
            // The selected instance went away (deleted, scaled down): stay at the same position.
            int at = Math.Clamp(SelectedIndex < 0 ? 0 : SelectedIndex, 0, Math.Max(0, next.Length - 1));
            selected = next.Length == 0 ? null : KeyOf(next[at]);
        }
        return this with { Rows = next, History = history.ToImmutable(), SelectedKey = selected, DaemonError = null, Now = now };
    }

    public MonitState WithDaemonError(string error, DateTimeOffset now) => this with { DaemonError = error, Now = now };

    /// <summary>Up (-1) or down (+1), stopping at the ends; int.MinValue / MaxValue for first and last.</summary>
    public MonitState MoveSelection(int delta)
    {
        if (Rows.Length == 0) return this;
        long target = (long)Math.Max(0, SelectedIndex) + delta;
        int index = (int)Math.Clamp(target, 0, Rows.Length - 1);
        return this with { SelectedKey = KeyOf(Rows[index]) };
    }

    /// <summary>Following starts (again) for <paramref name="app"/>: its past lines arrive anew.</summary>
    public MonitState WithLogFollowing(string? app) => this with { LogApp = app, Log = [], LogProblem = null };

    public MonitState WithLogLine(LogLineDto line)
    {
        ImmutableList<LogLineDto> log = Log.Add(line);
        if (log.Count > LogCapacity) log = log.RemoveRange(0, log.Count - LogCapacity);
        return this with { Log = log };
    }

    public MonitState WithLogProblem(string problem) => this with { LogProblem = problem };

    public MonitState WithNotice(string text, NoticeKind kind) => this with { Notice = new MonitNotice(text, kind) };

    private static int IndexOf(ImmutableArray<InstanceInfo> rows, string? key)
    {
        if (key is null) return -1;
        for (int i = 0; i < rows.Length; i++)
        {
            if (KeyOf(rows[i]) == key) return i;
        }
        return -1;
    }
}
