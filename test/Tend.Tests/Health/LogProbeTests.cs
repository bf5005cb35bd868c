using Tend.Health;

namespace Tend.Tests.Health;

public sealed class LogProbeTests
{
    private static ProbeResult Check(LogProbe probe)
    {
        var task = probe.CheckAsync(CancellationToken.None);
        Assert.True(task.IsCompleted);
        return task.Result;
    }

    [Fact]
    public void Log_Sticky_PassesFromTheFirstMatchOn()
    {
        var probe = new LogProbe(@"listening on :\d+", sticky: true);

        Assert.Equal((false, "no match yet"), (Check(probe).Success, Check(probe).Detail));
        probe.OnLine("starting up");
        Assert.False(Check(probe).Success);

        probe.OnLine("listening on :8080");
        probe.OnLine("listening on :9090");
        var first = Check(probe);
        probe.OnLine("something else");
        var later = Check(probe);

        Assert.Equal((true, "matched: listening on :8080"), (first.Success, first.Detail));
        Assert.Equal((true, "matched: listening on :8080"), (later.Success, later.Detail));
    }

    [Fact]
    public void Log_NotSticky_PassesOnlyIfAMatchArrivedSinceTheLastCheck()
    {
        var probe = new LogProbe("heartbeat", sticky: false);

        Assert.Equal("no match yet", Check(probe).Detail);
        probe.OnLine("heartbeat 1");
        var beat = Check(probe);
        var silent = Check(probe);
        probe.OnLine("unrelated");
        var stillSilent = Check(probe);
        probe.OnLine("heartbeat 2");
        var again = Check(probe);

        Assert.Equal((true, "matched: heartbeat 1"), (beat.Success, beat.Detail));
        Assert.Equal((false, "no match since the last check"), (silent.Success, silent.Detail));
        Assert.False(stillSilent.Success);
        Assert.Equal((true, "matched: heartbeat 2"), (again.Success, again.Detail));
    }

    [Fact]
    public void Log_LongLine_IsTruncatedInDetail()
    {
        var probe = new LogProbe("ready", sticky: true);

        probe.OnLine("ready " + new string('x', 500));

        string detail = Check(probe).Detail;
        Assert.StartsWith("matched: ready xxx", detail, StringComparison.Ordinal);
        Assert.Equal("matched: ".Length + 120, detail.Length);
    }

    [Fact]
    public void Log_Pattern_IsCultureInvariantAndCaseSensitive()
    {
        var probe = new LogProbe("READY", sticky: true);

        probe.OnLine("ready");
        Assert.False(Check(probe).Success);
        probe.OnLine("READY");
        Assert.True(Check(probe).Success);
    }

    [Fact]
    public void Log_CatastrophicPattern_TimesOutInsteadOfStalling()
    {
        var probe = new LogProbe("^(a+)+$", sticky: true);

        probe.OnLine(new string('a', 40) + "!");

        Assert.False(Check(probe).Success);
    }

    [Fact]
    public async Task Log_LinesFromManyThreads_AreAllSeen()
    {
        var probe = new LogProbe("^beat$", sticky: false);
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 10_000; i++) probe.OnLine(i % 100 == 0 ? "beat" : "noise");
        })).ToArray();
        var checker = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await probe.CheckAsync(CancellationToken.None);
                await Task.Yield();
            }
        });

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30));
        await stop.CancelAsync();
        await checker.WaitAsync(TimeSpan.FromSeconds(30));
        probe.OnLine("beat");

        Assert.True(Check(probe).Success);
        Assert.False(Check(probe).Success);
    }

    [Fact]
    public void Log_InvalidPattern_Throws() =>
        Assert.ThrowsAny<ArgumentException>(() => new LogProbe("(unclosed", sticky: true));
}
