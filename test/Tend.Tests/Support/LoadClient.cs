using System.Net;

namespace Tend.Tests.Support;

/// <summary>Clients that GET in a loop until stopped; every exception or non-200 is a failure.
/// With <c>keepAlive: false</c> each request is a connection of its own, as a curl loop makes them.</summary>
public sealed class LoadClient : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _clients;
    private long _succeeded, _failed;

    public LoadClient(string url, int clients, bool keepAlive = true)
    {
        _clients = [.. Enumerable.Range(0, clients).Select(_ => Task.Run(() => RunAsync(url, keepAlive)))];
    }

    public long Succeeded => Interlocked.Read(ref _succeeded);
    public long Failed => Interlocked.Read(ref _failed);
    public List<string> Errors { get; } = [];

    private async Task RunAsync(string url, bool keepAlive)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(15) };
        http.DefaultRequestHeaders.ConnectionClose = !keepAlive;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                using HttpResponseMessage response = await http.GetAsync(url, _stop.Token);
                if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref _succeeded);
                else Fail($"HTTP {(int)response.StatusCode}");
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested) { return; }
            catch (Exception ex) { Fail(ex.GetType().Name + ": " + ex.Message + (ex.InnerException is { } inner ? " (" + inner.Message + ")" : "")); }
        }
    }

    private void Fail(string error)
    {
        Interlocked.Increment(ref _failed);
        lock (Errors) Errors.Add(error);
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_clients).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(Failed == 0, "failed requests: " + string.Join("; ", Errors.Take(5)));
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
