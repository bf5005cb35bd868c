using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>
/// The event stream through the real daemon: `tend events` (NDJSON underneath) and GET /events
/// (server-sent events) over the unix socket, on real processes killed for real.
/// </summary>
public sealed class EventsTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    private async Task<List<TendEvent>> EventsAsync(params string[] extra)
    {
        CliResult r = await _home.OkAsync(["events", "--json", "--no-follow", .. extra]);
        return [.. r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => JsonSerializer.Deserialize(l, TendJsonContext.Default.TendEvent)!)];
    }

    private async Task<(int Old, int New)> StartAndKillAsync()
    {
        string config = _home.WriteConfig($"""
            apps:
              web:
                cmd: {TendHome.Child}
                args: [--sleep]
            """);
        await _home.OkAsync("start", config);
        int old = (await _home.ListAsync()).Single().Pid!.Value;
        ProcFs.Kill(old, 9);
        InstanceInfo[] after = await _home.WaitForAsync(l => l.Single().Pid is int p && p != old && l.Single().Status == "online", "web restarted with a new pid");
        return (old, after.Single().Pid!.Value);
    }

    [Fact]
    public async Task Events_InstanceKilled_ExitedThenRestartScheduled()
    {
        var (old, fresh) = await StartAndKillAsync();

        List<TendEvent> events = await EventsAsync();
        var web = events.Where(e => e.App == "web" && e.Instance == 0).ToList();
        int started = web.FindIndex(e => e.Type == "started" && e.Pid == old);
        int exited = web.FindIndex(e => e.Type == "exited" && e.Pid == old);
        int scheduled = web.FindIndex(e => e.Type == "restart_scheduled");
        int restarted = web.FindIndex(e => e.Type == "started" && e.Pid == fresh);
        string all = string.Join("\n", events.Select(e => $"{e.Seq} {e.Type} {e.Pid} {e.Message}"));
        Assert.True(started >= 0 && started < exited && exited < scheduled && scheduled < restarted, all);

        TendEvent exit = web[exited];
        Assert.Equal("SIGKILL", exit.Data!["signal"]);
        Assert.False(exit.Data.ContainsKey("exit_code"));
        Assert.StartsWith("killed by SIGKILL after ", exit.Message);
        Assert.Equal("killed by SIGKILL", web[scheduled].Data!["cause"]);
        Assert.Equal("1", web[scheduled].Data!["restart"]);

        // Numbered 1, 2, 3... in the order they happened.
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.Seq));
    }

    [Fact]
    public async Task Events_ReconnectAfterSeq_YieldsOnlyLaterEvents()
    {
        var (old, _) = await StartAndKillAsync();
        List<TendEvent> all = await EventsAsync();
        long exitedSeq = all.Single(e => e.Type == "exited" && e.Pid == old).Seq;

        List<TendEvent> later = await EventsAsync("--after", exitedSeq.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(all.Where(e => e.Seq > exitedSeq).Select(e => e.Seq), later.Select(e => e.Seq));
        Assert.Equal("restart_scheduled", later[0].Type);
    }

    [Fact]
    public async Task Events_NotifyReady_StartedOnlineThenReady_FollowedLive_CtrlCExitsZero()
    {
        using Process follower = _home.StartCli("events", "--json");
        try
        {
            follower.StandardInput.Close();
            Task<string> stderr = follower.StandardError.ReadToEndAsync();
            using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
            var seen = new List<TendEvent>();
            async Task ReadUntilAsync(Func<TendEvent, bool> done)
            {
                while (!seen.Any(done))
                {
                    string? line = await follower.StandardOutput.ReadLineAsync(deadline.Token);
                    if (line is null) Assert.Fail($"tend events ended early: {string.Join("\n", seen)}\n{await stderr}");
                    seen.Add(JsonSerializer.Deserialize(line, TendJsonContext.Default.TendEvent)!);
                }
            }

            // Once the follower prints the marker's start (replayed or live), it is connected:
            // everything of web that follows happens while it listens.
            await _home.OkAsync("start", _home.WriteConfig($"""
                apps:
                  marker:
                    cmd: {TendHome.Child}
                    args: [--sleep]
                """, "marker.yaml"));
            await ReadUntilAsync(e => e.App == "marker" && e.Type == "started");

            string config = _home.WriteConfig($"""
                apps:
                  web:
                    cmd: {TendHome.Child}
                    args: [--notify-ready-after, "500", --sleep]
                    ready: {"{"} notify: true {"}"}
                """);
            await _home.OkAsync("start", config);
            await ReadUntilAsync(e => e.App == "web" && e.Type == "ready");

            var types = seen.Where(e => e.App == "web").Select(e => e.Type).ToList();
            Assert.Equal(["app_added", "started", "online", "ready"], types);
            Assert.Equal("false", seen.Single(e => e.App == "web" && e.Type == "online").Data!["ready"]);
            Assert.Equal("READY=1", seen.Single(e => e.App == "web" && e.Type == "ready").Data!["why"]);
            int pid = (await _home.ListAsync()).Single(i => i.Name == "web").Pid!.Value;
            Assert.All(seen.Where(e => e.App == "web" && e.Type is "started" or "online" or "ready"), e => Assert.Equal(pid, e.Pid));

            ProcFs.Kill(follower.Id, 2); // Ctrl-C
            await follower.WaitForExitAsync(deadline.Token);
            Assert.Equal(0, follower.ExitCode);
        }
        finally
        {
            if (!follower.HasExited) follower.Kill();
        }
    }

    [Fact]
    public async Task Events_Sse_FramesWithIdAndType_HonoursLastEventId()
    {
        var (old, fresh) = await StartAndKillAsync();
        List<TendEvent> all = await EventsAsync();
        long exitedSeq = all.Single(e => e.Type == "exited" && e.Pid == old).Seq;

        using HttpClient client = _home.ApiClient();
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://tend/events");
        request.Headers.Add("Last-Event-ID", exitedSeq.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using HttpResponseMessage response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token), Encoding.UTF8);
        var frames = new List<(long Id, string Type, TendEvent Data)>();
        long newest = all[^1].Seq;
        while (frames.Count == 0 || frames[^1].Id < newest)
        {
            var fields = new Dictionary<string, string>();
            string? line;
            while ((line = await reader.ReadLineAsync(deadline.Token)) is { Length: > 0 })
            {
                if (line.StartsWith(':')) continue; // keep-alive comment
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                fields[line[..colon]] = line[(colon + 1)..].TrimStart(' ');
            }
            Assert.NotNull(line);
            if (fields.Count == 0) continue;
            TendEvent data = JsonSerializer.Deserialize(fields["data"], TendJsonContext.Default.TendEvent)!;
            frames.Add((long.Parse(fields["id"], System.Globalization.CultureInfo.InvariantCulture), fields["event"], data));
        }

        Assert.Equal(all.Where(e => e.Seq > exitedSeq).Select(e => e.Seq), frames.Select(f => f.Id));
        Assert.All(frames, f => Assert.Equal(f.Id, f.Data.Seq));
        Assert.All(frames, f => Assert.Equal(f.Type, f.Data.Type));
        Assert.Equal("restart_scheduled", frames[0].Type);
        Assert.Contains(frames, f => f.Type == "started" && f.Data.Pid == fresh);
    }

    [Fact]
    public async Task Events_SseAndNdjson_BadAfter_Is400()
    {
        await _home.OkAsync("ping");
        using HttpClient client = _home.ApiClient();
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);

        using HttpResponseMessage sse = await client.GetAsync("http://tend/events?after=abc", deadline.Token);
        Assert.Equal(400, (int)sse.StatusCode);

        CliResult cli = await _home.RunAsync("events", "--after", "-3");
        Assert.Equal(2, cli.ExitCode);
        Assert.Contains("--after", cli.Stderr);
    }
}
