using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tend.Config;

namespace Tend.Alerts;

/// <summary>
/// Notifications on their way to channels, kept on disk until delivered (docs/alerts.md#delivery).
/// Each (notification, channel) is one file under <c>alerts/outbox/</c>, written before anything is
/// sent, so a daemon restart or a receiver that is down loses nothing: the loop retries with backoff
/// (1 s, doubling, at most 5 min between attempts) until the channel's <c>give_up_after</c>, then the
/// notification is moved to <c>alerts/undeliverable.jsonl</c> and reported, never dropped silently.
/// Channels are served in parallel, each in order, so one dead receiver does not hold the others up.
/// </summary>
public sealed class AlertOutbox : IAsyncDisposable
{
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);
    private const int KeptUndeliverable = 50;

    private readonly string _dir;
    private readonly string _undeliverablePath;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly AlertChannels _channels;
    private readonly Func<string, ChannelSpec?> _channelNamed;
    private readonly Action<UndeliveredNotification> _gaveUp;
    private readonly Lock _gate = new();
    private readonly List<OutboxItem> _items = [];
    private readonly List<UndeliveredNotification> _undeliverable = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _delivered;
    private long _failed;
    private long _seq;

    public AlertOutbox(string alertsDir, TimeProvider time, ILogger logger, AlertChannels channels,
        Func<string, ChannelSpec?> channelNamed, Action<UndeliveredNotification> gaveUp)
    {
        _dir = Path.Combine(alertsDir, "outbox");
        _undeliverablePath = Path.Combine(alertsDir, "undeliverable.jsonl");
        _time = time;
        _logger = logger;
        _channels = channels;
        _channelNamed = channelNamed;
        _gaveUp = gaveUp;
    }

    /// <summary>Load what a previous run left undelivered, and start delivering.</summary>
    public void Start()
    {
        Directory.CreateDirectory(_dir);
        foreach (string file in Directory.EnumerateFiles(_dir, "*.json").Order(StringComparer.Ordinal))
        {
            try
            {
                if (JsonSerializer.Deserialize(File.ReadAllBytes(file), AlertJsonContext.Default.OutboxItem) is { } item)
                    _items.Add(item with { File = file });
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                AlertLog.OutboxUnreadable(_logger, file, e.Message);
            }
        }
        if (File.Exists(_undeliverablePath))
        {
            foreach (string line in File.ReadLines(_undeliverablePath).TakeLast(KeptUndeliverable))
            {
                try
                {
                    if (JsonSerializer.Deserialize(line, AlertJsonContext.Default.UndeliveredNotification) is { } u) _undeliverable.Add(u);
                }
                catch (JsonException) { }
            }
        }
        _seq = _items.Count;
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Queue <paramref name="n"/> for each channel; written to disk before this returns.</summary>
    public void Enqueue(AlertNotification n, IEnumerable<string> channels)
    {
        DateTimeOffset now = _time.GetUtcNow();
        lock (_gate)
        {
            foreach (string channel in channels)
            {
                long seq = ++_seq;
                string file = Path.Combine(_dir, $"{now.UtcTicks:D19}-{seq:D6}-{channel}.json");
                var item = new OutboxItem(n.Id + "." + channel, channel, n, now, 0, now, null) { File = file };
                Write(item);
                _items.Add(item);
            }
        }
        _wake.Release();
    }

    public OutboxReport Report()
    {
        lock (_gate) return new OutboxReport(_items.Count, Interlocked.Read(ref _delivered), Interlocked.Read(ref _failed), [.. _undeliverable]);
    }

    /// <summary>Notifications waiting, by channel (for /metrics).</summary>
    public IReadOnlyDictionary<string, int> PendingByChannel()
    {
        lock (_gate) return _items.GroupBy(i => i.Channel).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    private async Task LoopAsync()
    {
        CancellationToken ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            DateTimeOffset now = _time.GetUtcNow();
            List<List<OutboxItem>> due;
            DateTimeOffset? next;
            lock (_gate)
            {
                // Per channel, in order: the oldest item (the one being retried) decides when the channel is next served.
                var heads = _items.GroupBy(i => i.Channel).Select(g => g.OrderBy(i => i.File, StringComparer.Ordinal).ToList()).ToList();
                due = [.. heads.Where(g => g[0].NextAttemptAt <= now)];
                next = heads.Count == 0 ? null : heads.Min(g => g[0].NextAttemptAt);
            }
            if (due.Count > 0)
            {
                await Task.WhenAll(due.Select(group => DeliverGroupAsync(group, ct))).ConfigureAwait(false);
                continue;
            }
            TimeSpan wait = next is { } at ? at - now : Timeout.InfiniteTimeSpan;
            if (wait != Timeout.InfiniteTimeSpan && wait < TimeSpan.FromMilliseconds(10)) wait = TimeSpan.FromMilliseconds(10);
            using var woken = CancellationTokenSource.CreateLinkedTokenSource(ct);
            try
            {
                Task delay = Task.Delay(wait, _time, woken.Token);
                Task wake = _wake.WaitAsync(woken.Token);
                await Task.WhenAny(delay, wake).ConfigureAwait(false);
                woken.Cancel();
                await Task.WhenAll(delay, wake).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { }
        }
    }

    private async Task DeliverGroupAsync(List<OutboxItem> items, CancellationToken ct)
    {
        foreach (OutboxItem item in items)
        {
            if (ct.IsCancellationRequested) return;
            ChannelSpec? channel = _channelNamed(item.Channel);
            string? error;
            if (channel is null) error = $"channel {item.Channel} is no longer configured";
            else
            {
                try
                {
                    await _channels.DeliverAsync(channel, item.Notification, ct).ConfigureAwait(false);
                    error = null;
                }
                catch (DeliveryException e) { error = e.Message; }
                catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
                catch (Exception e) { error = e.Message; }
            }
            DateTimeOffset now = _time.GetUtcNow();
            if (error is null)
            {
                Interlocked.Increment(ref _delivered);
                Remove(item);
                AlertLog.Delivered(_logger, item.Notification.Alert.Rule, item.Notification.Alert.Label, item.Channel, item.Attempts + 1);
                continue;
            }
            Interlocked.Increment(ref _failed);
            int attempts = item.Attempts + 1;
            TimeSpan giveUp = channel?.GiveUpAfter ?? TimeSpan.Zero;
            if (now - item.CreatedAt >= giveUp)
            {
                Remove(item);
                AlertSnapshot a = item.Notification.Alert;
                var lost = new UndeliveredNotification(item.Id, item.Channel, a.Fingerprint, a.Rule, a.App,
                    a.State == AlertState.Resolved ? "resolved" : "firing", item.CreatedAt, now, attempts, error);
                RecordUndeliverable(lost);
                AlertLog.GaveUp(_logger, a.Rule, a.Label, item.Channel, attempts, error);
                _gaveUp(lost);
                continue;
            }
            TimeSpan backoff = TimeSpan.FromSeconds(Math.Min(MaxBackoff.TotalSeconds, Math.Pow(2, Math.Min(attempts - 1, 20))));
            OutboxItem retry = item with { Attempts = attempts, NextAttemptAt = now + backoff, LastError = error };
            lock (_gate)
            {
                int at = _items.IndexOf(item);
                if (at >= 0) _items[at] = retry;
            }
            // The retry is kept in memory either way; a file that cannot be rewritten (disk full) keeps
            // the attempt before, and must not end the loop that delivers everything else.
            try { Write(retry); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { AlertLog.OutboxUnreadable(_logger, item.File!, e.Message); }
            AlertLog.Retrying(_logger, item.Notification.Alert.Rule, item.Notification.Alert.Label, item.Channel, attempts, backoff.TotalSeconds, error);
            // In order per channel: the rest waits for this one.
            return;
        }
    }

    private void Remove(OutboxItem item)
    {
        lock (_gate) _items.Remove(item);
        try { File.Delete(item.File!); }
        catch (IOException e) { AlertLog.OutboxUnreadable(_logger, item.File!, e.Message); }
    }

    private void Write(OutboxItem item)
    {
        // A temporary name of its own, so two writers of one item never move each other's file.
        string temp = $"{item.File}.{Guid.NewGuid():N}.tmp";
        File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(item, AlertJsonContext.Default.OutboxItem));
        File.Move(temp, item.File!, overwrite: true);
    }

    private void RecordUndeliverable(UndeliveredNotification lost)
    {
        lock (_gate)
        {
            _undeliverable.Add(lost);
            if (_undeliverable.Count > KeptUndeliverable) _undeliverable.RemoveAt(0);
        }
        try
        {
            File.AppendAllText(_undeliverablePath, JsonSerializer.Serialize(lost, AlertJsonContext.Default.UndeliveredNotification) + "\n");
        }
        catch (IOException e) { AlertLog.OutboxUnreadable(_logger, _undeliverablePath, e.Message); }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }
}

/// <summary>One notification for one channel, as the outbox keeps it on disk.</summary>
public sealed record OutboxItem(string Id, string Channel, AlertNotification Notification, DateTimeOffset CreatedAt, int Attempts, DateTimeOffset NextAttemptAt, string? LastError)
{
    [System.Text.Json.Serialization.JsonIgnore]
    public string? File { get; init; }
}
