using System.Text;
using Microsoft.Extensions.Logging;
using Tend.Io;

namespace Tend.Pool;

/// <summary>
/// A worker's stdout or stderr, a line at a time, to the pool's logger or (without one) to the app's
/// own stdout/stderr prefixed with the worker, so under Tend the lines land in the app's log. Fed by
/// a <see cref="PipeDrain"/> on the platform's epoll loop: no thread per pipe.
/// </summary>
internal sealed partial class WorkerOutput(ILogger? logger, TextWriter fallback, string prefix, bool isError) : IPipeSink
{
    private const int MaxLine = 16 * 1024;
    private readonly StringBuilder _line = new();
    private readonly Decoder _decoder = Encoding.UTF8.GetDecoder();
    private readonly char[] _chars = new char[PipeDrain.ReadBufferSize + 4];
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the pipe reached its end and the last line went out.</summary>
    public Task Ended => _ended.Task;

    public void OnData(ReadOnlySpan<byte> data)
    {
        int count = _decoder.GetChars(data, _chars, flush: false);
        int start = 0;
        for (int i = 0; i < count; i++)
        {
            if (_chars[i] != '\n') continue;
            _line.Append(_chars, start, i - start);
            Emit();
            start = i + 1;
        }
        _line.Append(_chars, start, count - start);
        if (_line.Length >= MaxLine) Emit();
    }

    public void OnDrained() { }

    public void OnEnd(Exception? fault)
    {
        if (_line.Length > 0) Emit();
        _ended.TrySetResult();
    }

    private void Emit()
    {
        if (_line.Length > 0 && _line[^1] == '\r') _line.Length--;
        string text = _line.ToString();
        _line.Clear();
        if (logger is null)
        {
            lock (fallback) fallback.WriteLine(prefix + text);
            return;
        }
        if (isError) Stderr(logger, prefix, text);
        else Stdout(logger, prefix, text);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Worker}{Line}")]
    private static partial void Stdout(ILogger logger, string worker, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Worker}{Line}")]
    private static partial void Stderr(ILogger logger, string worker, string line);
}
