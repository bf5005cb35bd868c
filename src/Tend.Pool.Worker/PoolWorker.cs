using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Tend.Pool.Worker;

/// <summary>What a worker does besides answering tasks.</summary>
public sealed class PoolWorkerOptions
{
    /// <summary>Runs once before the worker tells the pool it is ready (load models, fill caches, JIT
    /// the hot path). The pool's StartTimeout covers it.</summary>
    public Func<CancellationToken, ValueTask>? WarmUp { get; init; }

    /// <summary>How bodies are read and written; the pool must use the same. Default: <see cref="JsonSerializerOptions.Web"/>.</summary>
    public JsonSerializerOptions? Json { get; init; }
}

/// <summary>
/// The worker side of a Tend.Pool: call <see cref="RunAsync{TRequest,TResult}(Func{TRequest,CancellationToken,ValueTask{TResult}},PoolWorkerOptions?)"/>
/// from Main. It answers tasks (several at once if the pool sends them), pings (from the reading loop,
/// so a long task never looks like a hung worker), cancellations (the handler's token) and a stop
/// request (no new tasks, finish the running ones, return). It returns at once when the channel
/// closes (the pool is gone: nothing is left to answer to), and SIGTERM counts as a stop request.
/// Standard output and error stay the program's own: the pool hands them to the app's logger.
/// </summary>
public static class PoolWorker
{
    /// <summary>True when this process was started by a pool (its channel is named in the environment).</summary>
    public static bool IsPoolWorker => Environment.GetEnvironmentVariable(PoolFrames.FdVariable) is not null;

    /// <summary>This worker's number in its pool, or -1 outside a pool.</summary>
    public static int WorkerId =>
        int.TryParse(Environment.GetEnvironmentVariable(PoolFrames.WorkerVariable), NumberStyles.None, CultureInfo.InvariantCulture, out int id) ? id : -1;

    /// <summary>Serves tasks of <typeparamref name="TRequest"/> with <paramref name="handler"/> until the pool stops this worker.</summary>
    [RequiresUnreferencedCode("Reflection-based JSON; use the JsonTypeInfo overload when trimming.")]
    [RequiresDynamicCode("Reflection-based JSON; use the JsonTypeInfo overload for NativeAOT.")]
    public static Task RunAsync<TRequest, TResult>(Func<TRequest, CancellationToken, ValueTask<TResult>> handler, PoolWorkerOptions? options = null)
    {
        JsonSerializerOptions json = options?.Json ?? JsonSerializerOptions.Web;
        return RunAsync(handler,
            (JsonTypeInfo<TRequest>)json.GetTypeInfo(typeof(TRequest)),
            (JsonTypeInfo<TResult>)json.GetTypeInfo(typeof(TResult)), options);
    }

    /// <summary>The same, with source-generated JSON metadata (trimming and NativeAOT safe).</summary>
    public static Task RunAsync<TRequest, TResult>(Func<TRequest, CancellationToken, ValueTask<TResult>> handler,
        JsonTypeInfo<TRequest> request, JsonTypeInfo<TResult> result, PoolWorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return ServeAsync(async (body, ct) =>
        {
            TRequest input = body.Deserialize(request)!;
            TResult output = await handler(input, ct).ConfigureAwait(false);
            return JsonSerializer.SerializeToUtf8Bytes(output, result);
        }, options);
    }

    private static async Task ServeAsync(Func<JsonElement, CancellationToken, ValueTask<byte[]>> handle, PoolWorkerOptions? options)
    {
        string fdText = Environment.GetEnvironmentVariable(PoolFrames.FdVariable)
            ?? throw new InvalidOperationException($"not started by a Tend.Pool: {PoolFrames.FdVariable} is not set");
        if (!int.TryParse(fdText, NumberStyles.None, CultureInfo.InvariantCulture, out int fd) || fd < 3)
            throw new InvalidOperationException($"{PoolFrames.FdVariable}={fdText} is not a descriptor number");
        // Not passed on to what this worker starts: a grandchild must not write into the pool's channel.
        Environment.SetEnvironmentVariable(PoolFrames.FdVariable, null);

        var socket = new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        using var writeLock = new SemaphoreSlim(1, 1);
        var running = new ConcurrentDictionary<long, (CancellationTokenSource Cancel, Task Work)>();
        using var stop = new CancellationTokenSource();
        using var gone = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true; // a graceful stop, not the runtime's default exit
            Cancel(stop);
        });

        async Task SendAsync(byte[] frame)
        {
            await writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                await stream.WriteAsync(frame, gone.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                Cancel(gone); // the pool is gone; nobody reads answers any more
            }
            finally
            {
                writeLock.Release();
            }
        }

        async Task RunTaskAsync(long id, JsonDocument message, CancellationTokenSource cancel, Task recorded)
        {
            await recorded.ConfigureAwait(false);
            byte[] frame;
            try
            {
                using (message)
                {
                    JsonElement body = message.RootElement.TryGetProperty("body", out JsonElement b) ? b : default;
                    byte[] answer = await handle(body, cancel.Token).ConfigureAwait(false);
                    frame = PoolFrames.Envelope("result", id, answer);
                }
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                frame = PoolFrames.Envelope("error", id, errorType: "cancelled", errorMessage: "the task was cancelled");
            }
            catch (Exception e)
            {
                frame = PoolFrames.Envelope("error", id, errorType: PoolFrames.Describe(e), errorMessage: e.Message);
            }
            await SendAsync(frame).ConfigureAwait(false);
            if (running.TryRemove(id, out var entry)) entry.Cancel.Dispose();
        }

        if (options?.WarmUp is { } warmUp) await warmUp(stop.Token).ConfigureAwait(false);
        await SendAsync(PoolFrames.Envelope("ready", null)).ConfigureAwait(false);

        Task reading = Task.Run(async () =>
        {
            try
            {
                while (await PoolFrames.ReadAsync(stream, gone.Token).ConfigureAwait(false) is { } message)
                {
                    long id = PoolFrames.IdOf(message);
                    switch (PoolFrames.TypeOf(message))
                    {
                        case "task" when !stop.IsCancellationRequested:
                            // Recorded before it may run, so its own removal at the end always finds it.
                            var cancel = new CancellationTokenSource();
                            var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                            running[id] = (cancel, RunTaskAsync(id, message, cancel, recorded.Task));
                            recorded.SetResult();
                            continue; // the task owns the message now
                        case "task":
                            await SendAsync(PoolFrames.Envelope("error", id, errorType: "stopping", errorMessage: "the worker is stopping")).ConfigureAwait(false);
                            break;
                        case "cancel":
                            if (running.TryGetValue(id, out var entry)) Cancel(entry.Cancel);
                            break;
                        case "ping":
                            await SendAsync(PoolFrames.Envelope("pong", id)).ConfigureAwait(false);
                            break;
                        case "stop":
                            Cancel(stop);
                            break;
                    }
                    message.Dispose();
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidDataException or JsonException)
            {
            }
            Cancel(gone);
        });

        // Until the pool closes the channel, or a stop request and the end of the tasks it found running.
        var stopped = new TaskCompletionSource();
        using (stop.Token.Register(() => stopped.TrySetResult()))
        using (gone.Token.Register(() => stopped.TrySetResult()))
        {
            await stopped.Task.ConfigureAwait(false);
        }
        if (gone.IsCancellationRequested)
        {
            foreach (var entry in running.Values) Cancel(entry.Cancel);
            return;
        }
        await Task.WhenAll(running.Values.Select(r => r.Work)).ConfigureAwait(false);
    }

    private static void Cancel(CancellationTokenSource source)
    {
        try
        {
            source.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
