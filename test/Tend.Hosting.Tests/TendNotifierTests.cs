using Tend.Hosting.Tests.Support;
using Tend.Tests.Support;

namespace Tend.Hosting.Tests;

public sealed class TendNotifierTests
{
    [Fact]
    public async Task Ready_ToBoundSocket_SendsReady()
    {
        using var listener = NotifySocketListener.BindPath();
        using var notifier = new TendNotifier(listener.Address);

        notifier.Ready();

        Assert.Equal("READY=1", await listener.ReceiveAsync());
        Assert.True(notifier.IsEnabled);
        Assert.Equal(0, notifier.FailedSends);
    }

    [Fact]
    public async Task Notify_RawState_IsSentAsOneDatagram()
    {
        using var listener = NotifySocketListener.BindPath();
        using var notifier = new TendNotifier(listener.Address);

        notifier.Notify("READY=1\nSTATUS=warm");

        Assert.Equal("READY=1\nSTATUS=warm", await listener.ReceiveAsync());
    }

    [Fact]
    public async Task StoppingReloadingWatchdog_SendTheirAssignments()
    {
        using var listener = NotifySocketListener.BindPath();
        using var notifier = new TendNotifier(listener.Address);

        notifier.Stopping();
        notifier.Reloading();
        notifier.Watchdog();

        Assert.Equal("STOPPING=1", await listener.ReceiveAsync());
        Assert.Matches(@"^RELOADING=1\nMONOTONIC_USEC=[0-9]+$", await listener.ReceiveAsync());
        Assert.Equal("WATCHDOG=1", await listener.ReceiveAsync());
    }

    [Fact]
    public async Task SetStatus_SendsStatus()
    {
        using var listener = NotifySocketListener.BindPath();
        using var notifier = new TendNotifier(listener.Address);

        notifier.SetStatus("serving on :5080");

        Assert.Equal("STATUS=serving on :5080", await listener.ReceiveAsync());
    }

    [Fact]
    public async Task SetStatus_WithLineBreaks_SendsOneLine()
    {
        using var listener = NotifySocketListener.BindPath();
        using var notifier = new TendNotifier(listener.Address);

        notifier.SetStatus("a\nREADY=1\r\nc");

        Assert.Equal("STATUS=a READY=1 c", await listener.ReceiveAsync());
    }

    [Fact]
    public async Task Ready_ToAbstractSocket_SendsReady()
    {
        using var listener = NotifySocketListener.BindAbstract();
        using var notifier = new TendNotifier(listener.Address);

        notifier.Ready();

        Assert.StartsWith("@", listener.Address);
        Assert.Equal("READY=1", await listener.ReceiveAsync());
        Assert.Equal(0, notifier.FailedSends);
    }

    [Fact]
    public void Ready_ToMissingSocket_DoesNotThrowAndCountsTheFailure()
    {
        using var notifier = new TendNotifier("/tmp/tend-h-missing-" + Guid.NewGuid().ToString("N")[..8] + "/notify.sock");

        notifier.Ready();
        notifier.Watchdog();

        Assert.True(notifier.IsEnabled);
        Assert.Equal(2, notifier.FailedSends);
    }

    [Fact]
    public void Ready_ToPathTooLongForSunPath_DoesNotThrowAndCountsTheFailure()
    {
        using var notifier = new TendNotifier("/tmp/" + new string('x', 200));

        notifier.Ready();

        Assert.Equal(1, notifier.FailedSends);
    }

    [Fact]
    public async Task Ready_AfterTheManagerRebindsItsSocket_IsDeliveredAgain()
    {
        using var home = NotifySocketListener.BindPath();
        var address = Path.Combine(Path.GetDirectoryName(home.Address)!, "again.sock");
        using var notifier = new TendNotifier(address);
        notifier.Ready(); // nobody bound there yet: the manager is "away"
        Assert.Equal(1, notifier.FailedSends);

        using var manager = NotifySocketListener.BindAt(address);
        notifier.Ready();

        Assert.Equal("READY=1", await manager.ReceiveAsync());
        Assert.Equal(1, notifier.FailedSends);
    }

    [Fact]
    public void DisabledNotifier_IsANoOp()
    {
        using var notifier = TendNotifier.Disabled();

        notifier.Ready();
        notifier.SetStatus("x");
        notifier.Notify("WATCHDOG=1");
        notifier.Stopping();

        Assert.False(notifier.IsEnabled);
        Assert.Equal(0, notifier.FailedSends);
    }

    [Fact]
    public async Task Notify_FromManyThreads_EveryMessageArrivesWholeOrIsCounted()
    {
        using var listener = NotifySocketListener.BindPath();
        using var notifier = new TendNotifier(listener.Address);
        const int threads = 4, perThread = 50;
        var received = new List<string>();
        var reader = Task.Run(async () =>
        {
            // Re-check every half second: a send that failed never arrives, it is only counted.
            while (received.Count + notifier.FailedSends < threads * perThread)
            {
                try { received.Add(await listener.ReceiveAsync(TimeSpan.FromMilliseconds(500))); }
                catch (TimeoutException) { }
            }
        });

        await Task.WhenAll(Enumerable.Range(0, threads).Select(t => Task.Run(() =>
        {
            for (var i = 0; i < perThread; i++) notifier.Notify($"STATUS=t{t}-{i}\nX=1");
        })));
        await reader.WaitAsync(Eventually.DefaultTimeout);

        Assert.Equal(threads * perThread, received.Count + notifier.FailedSends);
        Assert.All(received, m => Assert.Matches(@"^STATUS=t[0-9]-[0-9]+\nX=1$", m));
    }
}
