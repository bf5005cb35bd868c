using System.Net;
using System.Text;
using System.Text.Json;
using Tend.Api;

namespace Tend.Tests.Cli.Commands;

public sealed class CommandTreeTests
{
    private readonly FakeDaemon _daemon = new();

    private static InstanceInfo[] SampleRows() =>
    [
        Rendering.ListTableTests.Row(0, "web", 0, 4242, "online", uptimeMs: 12_000, cpu: 1.5, mem: 2048),
        Rendering.ListTableTests.Row(1, "web", 1, null, "stopped"),
    ];

    [Theory]
    [InlineData()]
    [InlineData("frob")]
    [InlineData("stop")]
    [InlineData("list", "--bogus")]
    [InlineData("logs", "--lines", "x")]
    [InlineData("logs", "--lines", "-1")]
    [InlineData("signal", "SIGTERM")]
    [InlineData("describe")]
    [InlineData("run")]
    public async Task ParseError_ExitsTwo(params string[] args)
    {
        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), args);

        Assert.Equal(2, outcome.ExitCode);
        Assert.NotEqual("", outcome.Err);
        Assert.Empty(_daemon.Requests);
    }

    [Fact]
    public async Task List_Json_PrintsTheRowsAsOneSnakeCaseLine()
    {
        _daemon.OnJson("GET", ApiRoutes.List, SampleRows(), TendJsonContext.Default.InstanceInfoArray);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "ls", "--json");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(JsonSerializer.Serialize(SampleRows(), TendJsonContext.Default.InstanceInfoArray) + "\n", outcome.Out);
        Assert.Contains("\"cpu_percent\":1.5", outcome.Out);
    }

    [Fact]
    public async Task List_Table_MatchesTheRenderer()
    {
        _daemon.OnJson("GET", ApiRoutes.List, SampleRows(), TendJsonContext.Default.InstanceInfoArray);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "status");

        Assert.Equal(Tend.Cli.Rendering.ListTable.Render(SampleRows(), color: false), outcome.Out);
    }

    [Fact]
    public async Task AnyCommand_DaemonNotRunning_StartsItAndRetries()
    {
        _daemon.Running = false;
        _daemon.OnJson("GET", ApiRoutes.List, [], TendJsonContext.Default.InstanceInfoArray);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "list");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(1, _daemon.Starts);
        Assert.Contains(Tend.Cli.Rendering.ListTable.EmptyHint, outcome.Out);
    }

    [Fact]
    public async Task Kill_NoDaemon_SaysSoAndExitsZeroWithoutStartingOne()
    {
        _daemon.Running = false;

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "kill");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("tend: no daemon running\n", outcome.Out);
        Assert.Equal(0, _daemon.Starts);
    }

    [Fact]
    public async Task Kill_RunningDaemon_WaitsUntilItStopsAnswering()
    {
        _daemon.On("POST", ApiRoutes.Kill, _ =>
        {
            _daemon.Running = false;
            return FakeDaemon.Json(new ActionResult(["web"], "stopped 1 app, daemon exiting"), TendJsonContext.Default.ActionResult);
        });

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "kill");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("stopped 1 app, daemon exiting\n", outcome.Out);
        Assert.Equal(0, _daemon.Starts);
    }

    [Fact]
    public async Task Version_NoDaemon_DoesNotStartOne()
    {
        _daemon.Running = false;

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "version");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Matches(@"^tend \d+\.\d+\.\d+\S*\ndaemon not running\n$", outcome.Out);
        Assert.Equal(0, _daemon.Starts);
    }

    [Fact]
    public async Task Version_OtherDaemonVersion_Warns()
    {
        _daemon.OnJson("GET", ApiRoutes.Ping, new PingInfo(77, "0.0.1", "/h", 1000), TendJsonContext.Default.PingInfo);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "version");

        Assert.Contains("daemon 0.0.1 (pid 77)\nwarning:", outcome.Out);
    }

    [Fact]
    public async Task Ping_PrintsWhoAnswered()
    {
        _daemon.OnJson("GET", ApiRoutes.Ping, new PingInfo(77, "0.1.0", "/home/me/.tend", 185_000), TendJsonContext.Default.PingInfo);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "ping");

        Assert.Equal("pong (daemon pid 77, home /home/me/.tend, up 3m)\n", outcome.Out);
    }

    [Fact]
    public async Task Daemon_PrintsPidAlone()
    {
        _daemon.OnJson("GET", ApiRoutes.Ping, new PingInfo(77, "0.1.0", "/h", 1), TendJsonContext.Default.PingInfo);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "daemon");

        Assert.Equal("77\n", outcome.Out);
    }

    [Fact]
    public async Task Stop_UnknownTarget_PrintsDaemonErrorAndExitsWithItsCode()
    {
        _daemon.OnJson("POST", ApiRoutes.Stop, new ErrorResponse("unknown app 'nope'", ["known apps: web, worker"], 1),
            TendJsonContext.Default.ErrorResponse, HttpStatusCode.NotFound);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "stop", "nope");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal("error: unknown app 'nope'\nknown apps: web, worker\n", outcome.Err);
        Assert.Equal("{\"target\":\"nope\"}", _daemon.Single("POST", ApiRoutes.Stop).Body);
    }

    [Fact]
    public async Task Stop_PrintsMessageThenList_DeleteOnlyMessage()
    {
        _daemon.OnJson("POST", ApiRoutes.Stop, new ActionResult(["web#0"], "stopped web#0"), TendJsonContext.Default.ActionResult)
            .OnJson("POST", ApiRoutes.Delete, new ActionResult(["web"], "deleted web"), TendJsonContext.Default.ActionResult)
            .OnJson("GET", ApiRoutes.List, SampleRows(), TendJsonContext.Default.InstanceInfoArray);

        CliOutcome stop = await CliRun.RunAsync(_daemon.Context(), "stop", "web#0");
        CliOutcome delete = await CliRun.RunAsync(_daemon.Context(), "del", "web");

        Assert.Equal("stopped web#0\n" + Tend.Cli.Rendering.ListTable.Render(SampleRows(), false), stop.Out);
        Assert.Equal("deleted web\n", delete.Out);
    }

    [Fact]
    public async Task DaemonAnswersGarbage_ExitsOneWithStatus()
    {
        _daemon.On("POST", ApiRoutes.Save, _ => new HttpResponseMessage(HttpStatusCode.InternalServerError) { Content = new StringContent("oops") });

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "save");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal("error: daemon answered 500 Internal Server Error\noops\n", outcome.Err);
    }

    [Fact]
    public async Task Signal_NormalizesTheName()
    {
        _daemon.OnJson("POST", ApiRoutes.Signal, new ActionResult(["web#0"], "sent SIGUSR2 to web#0"), TendJsonContext.Default.ActionResult);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "signal", "usr2", "web");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal("{\"target\":\"web\",\"signal\":\"SIGUSR2\"}", _daemon.Single("POST", ApiRoutes.Signal).Body);
    }

    [Fact]
    public async Task Signal_UnknownName_ExitsTwo()
    {
        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "signal", "SIGFOO", "web");

        Assert.Equal(2, outcome.ExitCode);
        Assert.StartsWith("error: unknown signal 'SIGFOO'\n", outcome.Err);
    }

    [Fact]
    public async Task Run_MissingConfig_ExitsTwo()
    {
        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "run", "/nonexistent/tend.yaml");

        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal("error: config file not found: /nonexistent/tend.yaml\n", outcome.Err);
    }

    [Fact]
    public async Task Describe_Instance_FetchesTheAppAndKeepsOnlyThatInstance()
    {
        _daemon.OnJson("GET", ApiRoutes.App + "web", Rendering.DescribeTextTests.SampleApp(), TendJsonContext.Default.AppInfo);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "describe", "web#1", "--json");

        Assert.Equal(0, outcome.ExitCode);
        AppInfo shown = JsonSerializer.Deserialize(outcome.Out, TendJsonContext.Default.AppInfo)!;
        Assert.Equal(1, Assert.Single(shown.Instances).Instance);
    }

    [Fact]
    public async Task Describe_NumericId_ResolvesThroughTheList()
    {
        _daemon.OnJson("GET", ApiRoutes.List, SampleRows(), TendJsonContext.Default.InstanceInfoArray)
            .OnJson("GET", ApiRoutes.App + "web", Rendering.DescribeTextTests.SampleApp(), TendJsonContext.Default.AppInfo);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "show", "0");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("web#0 (id 0)", outcome.Out);
        Assert.DoesNotContain("web#1", outcome.Out);
    }

    [Fact]
    public async Task Describe_MissingInstance_ExitsOne()
    {
        _daemon.OnJson("GET", ApiRoutes.App + "web", Rendering.DescribeTextTests.SampleApp(), TendJsonContext.Default.AppInfo);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(), "describe", "web#9");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Equal("error: web has no instance #9\n", outcome.Err);
    }
}
