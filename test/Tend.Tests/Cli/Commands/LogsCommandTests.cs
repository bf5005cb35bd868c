using System.Net;
using System.Text;
using System.Text.Json;
using Tend.Api;
using Tend.Cli.Commands;

namespace Tend.Tests.Cli.Commands;

public sealed class LogsCommandTests
{
    private readonly FakeDaemon _daemon = new();

    private static string Ndjson(params LogLineDto[] lines) =>
        string.Concat(lines.Select(l => JsonSerializer.Serialize(l, TendJsonContext.Default.LogLineDto) + "\n"));

    [Theory]
    [InlineData(false, false, "both")]
    [InlineData(true, true, "both")]
    [InlineData(true, false, "err")]
    [InlineData(false, true, "out")]
    public void BuildPath_StreamFlags(bool err, bool @out, string stream) =>
        Assert.Equal($"/v1/logs?target=web%231&lines=5&follow=false&stream={stream}", LogsCommand.BuildPath("web#1", 5, false, err, @out));

    [Fact]
    public async Task Logs_Defaults_AllTwentyLinesFollowBoth()
    {
        _daemon.On("GET", ApiRoutes.Logs, _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("") });

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "logs");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("/v1/logs?target=all&lines=20&follow=true&stream=both", Assert.Single(_daemon.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Logs_Human_PrefixesEachLine()
    {
        string body = Ndjson(new LogLineDto(null, "web", 0, "out", "hello"), new LogLineDto(null, "web", 1, "err", "oops"));
        _daemon.On("GET", ApiRoutes.Logs, _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body) });

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "logs", "web", "--no-follow", "--lines", "2");

        Assert.Equal("web#0 out | hello\nweb#1 err | oops\n", outcome.Out);
        Assert.Equal("/v1/logs?target=web&lines=2&follow=false&stream=both", Assert.Single(_daemon.Requests).PathAndQuery);
    }

    [Fact]
    public async Task Logs_Json_PrintsEachLineAsJson()
    {
        var line = new LogLineDto(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), "web", 0, "out", "hello");
        _daemon.On("GET", ApiRoutes.Logs, _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(Ndjson(line)) });

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "logs", "--json", "--no-follow");

        Assert.Equal(Ndjson(line), outcome.Out);
        Assert.Contains("\"stream\":\"out\"", outcome.Out);
    }

    [Fact]
    public async Task Logs_Follow_CtrlC_ExitsZeroAfterPrintingWhatArrived()
    {
        var stream = new EndlessStream(Encoding.UTF8.GetBytes(Ndjson(new LogLineDto(null, "web", 0, "out", "first"))));
        _daemon.On("GET", ApiRoutes.Logs, _ => new HttpResponseMessage(HttpStatusCode.OK) { Content = new StreamContent(stream) });
        using var ctrlC = new CancellationTokenSource();
        stream.Drained += ctrlC.Cancel;

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), ctrlC.Token, "logs", "web");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("web#0 out | first\n", outcome.Out);
    }

    [Fact]
    public async Task Logs_UnknownTarget_ExitsOne()
    {
        _daemon.OnJson("GET", ApiRoutes.Logs, new ErrorResponse("unknown app 'nope'", [], 1),
            TendJsonContext.Default.ErrorResponse, HttpStatusCode.NotFound);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "logs", "nope");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal("error: unknown app 'nope'\n", outcome.Err);
    }

    /// <summary>Yields its bytes, then blocks like a followed log until the read is cancelled.</summary>
    private sealed class EndlessStream(byte[] initial) : Stream
    {
        private int _position;

        public event Action? Drained;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
        {
            if (_position < initial.Length)
            {
                int n = Math.Min(buffer.Length, initial.Length - _position);
                initial.AsMemory(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }
            Drained?.Invoke();
            await Task.Delay(Timeout.Infinite, ct);
            return 0;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
