using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Tend.Api;

namespace Tend.Cli.Monit;

/// <summary>
/// The `tend monit` loop. Producers post <see cref="MonitInput"/>s to one channel — a thread that
/// reads keys, a poller that fetches /v1/list every second, a follower of /v1/logs for the
/// selected app, the actions (restart, stop, reload) as they finish, SIGWINCH — and a single
/// reader folds them into the <see cref="MonitState"/> and draws it. Only the reader touches the
/// state, so nothing is locked.
///
/// Why poll the list instead of reading /v1/events: the table shows cpu and memory, which are
/// samples, not events, so a poll is needed anyway, and a 1 s poll (the daemon's own sampling
/// interval) also picks up every status change in time for a person watching.
///
/// The daemon going away is a state, not an error: the title turns red, the last rows stay, and
/// the poll goes on until the daemon answers again (monit never starts one itself after the first
/// request, so `tend kill` is not undone by an open monit).
/// </summary>
internal sealed class MonitSession
{
    private const int PastLogLines = 100;
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromSeconds(1);
    // Enough for a person, and it keeps a spewing app from costing a frame per line.
    private static readonly TimeSpan s_frameInterval = TimeSpan.FromMilliseconds(50);

    private readonly CliContext _context;
    private readonly TimeProvider _time;
    private readonly Channel<MonitInput> _inputs = Channel.CreateUnbounded<MonitInput>(new UnboundedChannelOptions { SingleReader = true });
    private readonly DaemonClient _client;
    private MonitState _state;

    private CancellationTokenSource? _logCts;
    private int _logGeneration;
    private bool _logRunning;
    private bool _polledSinceLogEnded;

    private MonitSession(CliContext context, TimeProvider time, MonitState initial)
    {
        _context = context;
        _time = time;
        _state = initial;
        _client = context.CreateClient(autoStart: false);
    }

    public static async Task<int> RunAsync(CliContext context, TimeProvider time, CancellationToken ct)
    {
        // The first request may start the daemon, like every command; its errors (a TEND_HOME too
        // long for a socket, a daemon from another version) are printed before the screen opens.
        InstanceInfo[] rows;
        using (DaemonClient first = context.CreateClient(autoStart: true))
            rows = await first.GetAsync(ApiRoutes.List, TendJsonContext.Default.InstanceInfoArray, ct).ConfigureAwait(false);

        var initial = new MonitState { Home = context.Home, Zone = context.TimeZone }.WithList(rows, time.GetUtcNow());
        var session = new MonitSession(context, time, initial);
        using (session._client)
            await session.RunLoopAsync(ct).ConfigureAwait(false);
        return 0;
    }

    private async Task RunLoopAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        using MonitTerminal terminal = MonitTerminal.Open();
        using PosixSignalRegistration resize = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, _ => _inputs.Writer.TryWrite(new Redraw()));
        StartKeyReader();
        Task poller = PollListAsync(stop.Token);
        try
        {
            FollowSelectedApp();
            while (true)
            {
                terminal.Draw(Frame(out int width, out int height), width, height);
                await Task.Delay(s_frameInterval, _time, stop.Token).ConfigureAwait(false);
                await _inputs.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false);
                while (_inputs.Reader.TryRead(out MonitInput? input))
                {
                    if (!Apply(input)) return;
                }
                FollowSelectedApp();
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            _logCts?.Cancel();
            await poller.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private string Frame(out int width, out int height)
    {
        (width, height) = MonitTerminal.Size;
        return MonitScreen.Render(_state, width, height, _context.Color);
    }

    /// <summary>Folds one input into the state; false when it is time to quit.</summary>
    private bool Apply(MonitInput input)
    {
        switch (input)
        {
            case KeyInput key:
                return OnKey(MonitKeys.Map(key.Key));
            case ListInput list:
                _state = _state.WithList(list.Rows, _time.GetUtcNow());
                _polledSinceLogEnded = true;
                break;
            case ListFailed failed:
                _state = _state.WithDaemonError(failed.Error, _time.GetUtcNow());
                break;
            case LogInput log when log.Generation == _logGeneration:
                _state = _state.WithLogLine(log.Line);
                break;
            case LogEnded ended when ended.Generation == _logGeneration:
                _logRunning = false;
                _polledSinceLogEnded = false;
                _state = _state.WithLogProblem(ended.Error ?? "the log stream ended");
                break;
            case ActionDone done:
                _state = _state.WithNotice(done.Notice.Text, done.Notice.Kind);
                break;
            case InputClosed:
                return false;
        }
        return true;
    }

    private bool OnKey(MonitKey key)
    {
        switch (key)
        {
            case MonitKey.Quit: return false;
            case MonitKey.Up: _state = _state.MoveSelection(-1); break;
            case MonitKey.Down: _state = _state.MoveSelection(1); break;
            case MonitKey.First: _state = _state.MoveSelection(int.MinValue); break;
            case MonitKey.Last: _state = _state.MoveSelection(int.MaxValue); break;
            case MonitKey.Restart: StartAction("restart", "restarting", ApiRoutes.Restart); break;
            case MonitKey.Stop: StartAction("stop", "stopping", ApiRoutes.Stop); break;
            case MonitKey.Reload: StartAction("reload", "reloading", ApiRoutes.Reload); break;
        }
        return true;
    }

    /// <summary>
    /// Sends the action for the selected app without waiting: a stop waits out kill_timeout and a
    /// reload waits for readiness, and the screen must stay live meanwhile. The outcome comes
    /// back as an <see cref="ActionDone"/>.
    /// </summary>
    private void StartAction(string verb, string doing, string route)
    {
        if (_state.SelectedApp is not { } app)
        {
            _state = _state.WithNotice($"nothing to {verb}: no app selected", NoticeKind.Error);
            return;
        }
        _state = _state.WithNotice($"{doing} {app}…", NoticeKind.Info);
        _ = Task.Run(async () =>
        {
            MonitNotice notice;
            try
            {
                ActionResult result = route == ApiRoutes.Reload
                    ? await _client.PostAsync(route, new ReloadRequest(app, null, false, null),
                        TendJsonContext.Default.ReloadRequest, TendJsonContext.Default.ActionResult, CancellationToken.None).ConfigureAwait(false)
                    : await _client.PostAsync(route, new TargetRequest(app),
                        TendJsonContext.Default.TargetRequest, TendJsonContext.Default.ActionResult, CancellationToken.None).ConfigureAwait(false);
                notice = new MonitNotice(At() + result.Message, NoticeKind.Success);
            }
            catch (CliException ex)
            {
                notice = new MonitNotice($"{At()}{verb} {app} failed: {ex.Message}", NoticeKind.Error);
            }
            _inputs.Writer.TryWrite(new ActionDone(notice));
        });
    }

    private string At() =>
        TimeZoneInfo.ConvertTime(_time.GetUtcNow(), _context.TimeZone).ToString("HH:mm:ss ", CultureInfo.InvariantCulture);

    /// <summary>
    /// Follows the selected app's log: starts when the selection moves to another app, and again
    /// after the stream ended once the daemon answers a poll (it was restarted, or came back) —
    /// at most once a poll, so a stream the daemon keeps refusing is not asked for in a loop.
    /// </summary>
    private void FollowSelectedApp()
    {
        string? app = _state.SelectedApp;
        bool reachable = _state.DaemonError is null;
        if (app == _state.LogApp && (app is null || _logRunning || !reachable || !_polledSinceLogEnded)) return;

        _logCts?.Cancel();
        _logCts?.Dispose();
        _logCts = null;
        int generation = ++_logGeneration;
        _state = _state.WithLogFollowing(app);
        _logRunning = app is not null && reachable;
        if (!_logRunning)
        {
            if (app is not null) _state = _state.WithLogProblem("waiting for the daemon");
            return;
        }

        var cts = new CancellationTokenSource();
        _logCts = cts;
        string path = string.Create(CultureInfo.InvariantCulture,
            $"{ApiRoutes.Logs}?target={Uri.EscapeDataString(app!)}&lines={PastLogLines}&follow=true&stream=both");
        _ = Task.Run(async () =>
        {
            string? error = null;
            try
            {
                await NdjsonStream.FollowAsync(_client, path, TendJsonContext.Default.LogLineDto, "log line", "log",
                    (_, line) => _inputs.Writer.TryWrite(new LogInput(generation, line)), cts.Token).ConfigureAwait(false);
            }
            catch (CliException ex)
            {
                error = ex.Message;
            }
            if (!cts.IsCancellationRequested) _inputs.Writer.TryWrite(new LogEnded(generation, error));
        });
    }

    private async Task PollListAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(s_pollInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                MonitInput result;
                try
                {
                    result = new ListInput(await _client.GetAsync(ApiRoutes.List, TendJsonContext.Default.InstanceInfoArray, ct).ConfigureAwait(false));
                }
                catch (CliException ex)
                {
                    result = new ListFailed(ex.Message);
                }
                _inputs.Writer.TryWrite(result);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // monit is quitting.
        }
    }

    /// <summary>
    /// Console.ReadKey blocks, so keys are read on a thread of their own. It is a background
    /// thread left blocked in the read when monit quits; the process ends right after.
    /// </summary>
    private void StartKeyReader()
    {
        var thread = new Thread(() =>
        {
            try
            {
                while (true) _inputs.Writer.TryWrite(new KeyInput(Console.ReadKey(intercept: true)));
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException)
            {
                // The terminal closed: nothing can be read or shown any more.
                _inputs.Writer.TryWrite(new InputClosed());
            }
        })
        {
            IsBackground = true,
            Name = "tend monit keys",
        };
        thread.Start();
    }

    private abstract record MonitInput;
    private sealed record KeyInput(ConsoleKeyInfo Key) : MonitInput;
    private sealed record ListInput(InstanceInfo[] Rows) : MonitInput;
    private sealed record ListFailed(string Error) : MonitInput;
    private sealed record LogInput(int Generation, LogLineDto Line) : MonitInput;
    private sealed record LogEnded(int Generation, string? Error) : MonitInput;
    private sealed record ActionDone(MonitNotice Notice) : MonitInput;
    private sealed record Redraw : MonitInput;
    private sealed record InputClosed : MonitInput;
}
