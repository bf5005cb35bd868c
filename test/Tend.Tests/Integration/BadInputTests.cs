using System.Net;
using System.Text;
using Tend.Tests.Support;

namespace Tend.Tests.Integration;

/// <summary>Bad values over the CLI and the raw API: a clear error, never a 500, and nothing running is disturbed.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly TendHome _home = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _home.DisposeAsync();

    [Fact]
    public async Task Api_NulsEqualsNamesAndHugeEnvironments_Are422_TheRunningAppUndisturbed()
    {
        await _home.OkAsync("start", "--name", "keep", "--", "sleep", "600");
        int pid = (await _home.ListAsync()).Single().Pid!.Value;
        using HttpClient api = _home.ApiClient();

        async Task<(HttpStatusCode Status, string Body)> Start(string json)
        {
            using var response = await api.PostAsync("/v1/start", new StringContent(json, Encoding.UTF8, "application/json"));
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var nulArg = await Start("""{"command":["sleep","1\u0000"],"name":"a","cwd":"/tmp","env":{"PATH":"/usr/bin:/bin"}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, nulArg.Status);
        Assert.Contains("NUL", nulArg.Body);

        var equalsName = await Start("""{"command":["sleep","1"],"name":"b","cwd":"/tmp","env":{"PATH":"/usr/bin:/bin","A=B":"1"}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, equalsName.Status);
        Assert.Contains("A=B", equalsName.Body);

        var manyInstances = await Start("""{"command":["sleep","1"],"name":"c","cwd":"/tmp","instances":200000,"env":{"PATH":"/usr/bin:/bin"}}""");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, manyInstances.Status);

        // 5 MB of environment: refused before it is read whole.
        var huge = new StringBuilder("""{"command":["sleep","1"],"name":"d","cwd":"/tmp","env":{"PATH":"/usr/bin:/bin" """);
        for (int i = 0; i < 100_000; i++) huge.Append($",\"V{i}\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"");
        huge.Append("}}");
        try
        {
            var tooBig = await Start(huge.ToString());
            Assert.True((int)tooBig.Status == 413, $"got {(int)tooBig.Status}: {tooBig.Body}");
        }
        catch (HttpRequestException)
        {
            // Kestrel answered 413 and closed the connection while the body was still being sent.
        }

        InstanceInfoCheck(await _home.ListAsync(), pid);
    }

    [Fact]
    public async Task Cli_DaemonThatAcceptsButNeverAnswers_ReadsTimeOutWithAClearMessage()
    {
        string socketPath = Path.Combine(_home.Dir, Tend.Api.ApiRoutes.SocketFileName);
        using var mute = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        mute.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(socketPath));
        mute.Listen(16); // the kernel accepts; nobody ever reads or answers

        CliResult r = await _home.RunAsync(["list"], new Dictionary<string, string> { ["TEND_TIMEOUT"] = "1s" }, TimeSpan.FromSeconds(30));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("did not answer within 1s", r.Stderr);
        Assert.Contains("daemon.log", r.Stderr);
    }

    [Fact]
    public async Task Cli_TenThousandCharacterTarget_IsAClearUsageError()
    {
        CliResult r = await _home.RunAsync("describe", new string('a', 10_000));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("at most 64 characters", r.Stderr);
    }

    private static void InstanceInfoCheck(Tend.Api.InstanceInfo[] list, int pid)
    {
        var only = Assert.Single(list);
        Assert.Equal("keep", only.Name);
        Assert.Equal(pid, only.Pid);
        Assert.Equal("online", only.Status);
    }
}
