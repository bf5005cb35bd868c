using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Tend.Api;
using Tend.Cli;

namespace Tend.Tests.Cli;

/// <summary>One request the CLI sent to the fake daemon.</summary>
internal sealed record RecordedRequest(string Method, string PathAndQuery, string? Body);

/// <summary>
/// Stands in for the daemon at the HTTP layer: the CLI's real DaemonClient talks to it through
/// CliContext.Handler. Routes answer canned JSON; unknown routes answer 404 with an ErrorResponse.
/// While <see cref="Running"/> is false, every request fails the way a refused connect does, and
/// the context's auto-start flips it back on (counting the starts).
/// </summary>
internal sealed class FakeDaemon : HttpMessageHandler
{
    private readonly Dictionary<string, Func<RecordedRequest, HttpResponseMessage>> _routes = new(StringComparer.Ordinal);

    public List<RecordedRequest> Requests { get; } = [];
    public bool Running { get; set; } = true;
    public int Starts { get; private set; }

    public FakeDaemon On(string method, string path, Func<RecordedRequest, HttpResponseMessage> answer)
    {
        _routes[method + " " + path] = answer;
        return this;
    }

    public FakeDaemon OnJson<T>(string method, string path, T value, JsonTypeInfo<T> type, HttpStatusCode status = HttpStatusCode.OK) =>
        On(method, path, _ => Json(value, type, status));

    public static HttpResponseMessage Json<T>(T value, JsonTypeInfo<T> type, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(JsonSerializer.Serialize(value, type), Encoding.UTF8, "application/json") };

    public CliContext Context(string? cwd = null, IReadOnlyDictionary<string, string>? env = null) => new()
    {
        Home = "/fake-home",
        Handler = this,
        Color = false,
        CurrentDirectory = cwd ?? Path.GetTempPath(),
        GetEnvironment = () => env ?? new Dictionary<string, string> { ["PATH"] = "/usr/bin" },
        TimeZone = TimeZoneInfo.Utc,
        EnsureDaemonRunning = (_, _) =>
        {
            Starts++;
            Running = true;
            return Task.CompletedTask;
        },
    };

    public RecordedRequest Single(string method, string path) =>
        Assert.Single(Requests, r => r.Method == method && r.PathAndQuery.Split('?')[0] == path);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (!Running)
            throw new HttpRequestException(HttpRequestError.ConnectionError, "connect failed", new DaemonNotRunningException("/fake-home"));

        string? body = request.Content is null ? null : await request.Content.ReadAsStringAsync(ct);
        var recorded = new RecordedRequest(request.Method.Method, request.RequestUri!.PathAndQuery, body);
        Requests.Add(recorded);
        if (_routes.TryGetValue(recorded.Method + " " + request.RequestUri.AbsolutePath, out var answer)) return answer(recorded);
        return Json(new ErrorResponse($"no route {recorded.Method} {request.RequestUri.AbsolutePath}", [], 1),
            TendJsonContext.Default.ErrorResponse, HttpStatusCode.NotFound);
    }
}
