using System.Collections;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tend.Api;
using Tend.Io;
using Tend.Processes;

namespace Tend.Cli;

/// <summary>
/// Hands a command that needs the engine to the daemon's binary (<see cref="EngineCommands"/>): the
/// CLI has parsed and checked the command line; the engine's side loads configs, imports, exports or
/// supervises. Keeping the engine out of this binary is what keeps `tend list` and every other client
/// command quick to start (docs/architecture.md).
/// </summary>
internal static class EngineHandoff
{
    /// <summary>Becomes the daemon's binary running <paramref name="command"/> (execve): same pid, terminal, signals and exit status. Returns only by throwing.</summary>
    public static int Replace<T>(string command, T invocation, JsonTypeInfo<T> type)
    {
        var (program, argv) = CommandLine(command, JsonSerializer.Serialize(invocation, type));
        string failure = ProcessImage.Replace(program, [program, .. argv], ProcessEnvironment());
        throw new CliException($"cannot run `tend {command}`: {failure}", 1);
    }

    /// <summary>Runs <paramref name="command"/> as a child, its output and errors passed through to ours, and returns its exit code.</summary>
    public static async Task<int> RunAsync<T>(string command, T invocation, JsonTypeInfo<T> type, string workingDirectory,
        TextWriter output, TextWriter error, CancellationToken ct)
    {
        var (program, argv) = CommandLine(command, JsonSerializer.Serialize(invocation, type));
        await using ChildProcess child = ChildProcess.Start(new SpawnRequest(program, argv, workingDirectory, ProcessEnvironment()));
        Task copyOut = PassThrough(child.StandardOutput!, output);
        Task copyError = PassThrough(child.StandardError!, error);
        ExitStatus status = await child.Exited.WaitAsync(ct).ConfigureAwait(false);
        await Task.WhenAll(copyOut, copyError).WaitAsync(ct).ConfigureAwait(false);
        return status.Code ?? 128 + (status.Signal ?? 0);
    }

    private static (string Program, List<string> Args) CommandLine(string command, string json)
    {
        (string program, IReadOnlyList<string> args) = DaemonLauncher.LocateDaemonProgram(Environment.GetEnvironmentVariable("PATH"));
        return (program, [.. args, EngineCommands.Flag, command, json]);
    }

    /// <summary>Ours, whole: `tend run` hands it to the apps, as it always did.</summary>
    private static Dictionary<string, string> ProcessEnvironment()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
            if (e.Key is string key && e.Value is string value) env[key] = value;
        return env;
    }

    /// <summary>Passes one pipe of the child through to a writer of ours, as it comes.</summary>
    private static Task PassThrough(SafeFdHandle pipe, TextWriter to)
    {
        var sink = new WriterSink(to);
        PipeDrain.Start(pipe, sink);
        return sink.Ended;
    }

    private sealed class WriterSink(TextWriter to) : IPipeSink
    {
        private readonly System.Text.Decoder _decoder = System.Text.Encoding.UTF8.GetDecoder();
        private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Ended => _ended.Task;

        public void OnData(ReadOnlySpan<byte> data)
        {
            char[] text = new char[_decoder.GetCharCount(data, flush: false)];
            int n = _decoder.GetChars(data, text, flush: false);
            to.Write(text, 0, n);
        }

        public void OnDrained() => to.Flush();

        public void OnEnd(Exception? fault)
        {
            to.Flush();
            _ended.TrySetResult();
        }
    }
}
