using System.Net;
using System.Text.Json;
using Tend.Api;
using Tend.Cli;
using Tend.Cli.Commands;

namespace Tend.Tests.Cli.Commands;

public sealed class StartCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tend-cli-start-").FullName;
    private readonly FakeDaemon _daemon = new FakeDaemon()
        .OnJson("POST", ApiRoutes.Start, new ActionResult(["web"], "started web (2 instances)"), TendJsonContext.Default.ActionResult)
        .OnJson("GET", ApiRoutes.List, [], TendJsonContext.Default.InstanceInfoArray);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private StartRequest SentRequest()
    {
        RecordedRequest sent = _daemon.Single("POST", ApiRoutes.Start);
        return JsonSerializer.Deserialize(sent.Body!, TendJsonContext.Default.StartRequest)!;
    }

    [Fact]
    public async Task Start_Command_SendsArgvNameInstancesCwdAndEnv()
    {
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin", ["NODE_ENV"] = "production" };

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(_dir, env),
            "start", "-n", "web", "-i", "2", "node", "server.js", "--", "--port", "3000", "-n", "x", "--only", "y");

        Assert.Equal(0, outcome.ExitCode);
        StartRequest request = SentRequest();
        Assert.Null(request.ConfigPath);
        Assert.Equal(["node", "server.js", "--port", "3000", "-n", "x", "--only", "y"], request.Command);
        Assert.Equal("web", request.Name);
        Assert.Equal(2, request.Instances);
        Assert.Equal(_dir, request.Cwd);
        Assert.Equal(env, request.Env);
    }

    [Fact]
    public async Task Start_Command_PrintsMessageThenList()
    {
        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(_dir), "start", "node");

        Assert.StartsWith("started web (2 instances)\n┌────┬", outcome.Out);
        Assert.Single(_daemon.Requests, r => r.PathAndQuery == ApiRoutes.List);
    }

    [Fact]
    public async Task Start_CommandWithoutName_NamesItAfterTheExecutable()
    {
        await CliRun.RunAsync(_daemon.Context(_dir), "start", "/usr/bin/python3", "-m", "http.server");

        StartRequest request = SentRequest();
        Assert.Equal("python3", request.Name);
        Assert.Equal(["/usr/bin/python3", "-m", "http.server"], request.Command);
        Assert.Null(request.Instances);
    }

    [Fact]
    public async Task Start_ConfigFile_SendsAbsolutePathAndOnlyList()
    {
        File.WriteAllText(Path.Combine(_dir, "tend.yml"), "apps: {}\n");

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(_dir), "start", "tend.yml", "--only", "api, worker", "--only", "db,api");

        Assert.Equal(0, outcome.ExitCode);
        StartRequest request = SentRequest();
        Assert.Equal(Path.Combine(_dir, "tend.yml"), request.ConfigPath);
        Assert.Equal(["api", "worker", "db"], request.Only);
        Assert.Null(request.Command);
        Assert.NotNull(request.Env);
    }

    [Fact]
    public async Task Start_NoArguments_UsesTendYamlInTheCurrentDirectory()
    {
        File.WriteAllText(Path.Combine(_dir, "tend.yaml"), "apps: {}\n");

        await CliRun.RunAsync(_daemon.Context(_dir), "start");

        Assert.Equal(Path.Combine(_dir, "tend.yaml"), SentRequest().ConfigPath);
    }

    [Theory]
    [InlineData("start")]
    [InlineData("start", "missing.yaml")]
    [InlineData("start", "node", "--only", "api")]
    [InlineData("start", "-i", "0", "node")]
    [InlineData("start", "-i", "many", "node")]
    [InlineData("start", "--bogus", "node")]
    public async Task Start_BadUsage_ExitsTwoWithoutCallingTheDaemon(params string[] args)
    {
        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(_dir), args);

        Assert.Equal(2, outcome.ExitCode);
        Assert.NotEqual("", outcome.Err);
        Assert.Empty(_daemon.Requests);
    }

    [Fact]
    public async Task Start_ConfigFileWithNameOrArguments_ExitsTwo()
    {
        File.WriteAllText(Path.Combine(_dir, "tend.json"), "{}");

        Assert.Equal(2, (await CliRun.RunAsync(_daemon.Context(_dir), "start", "tend.json", "-n", "x")).ExitCode);
        Assert.Equal(2, (await CliRun.RunAsync(_daemon.Context(_dir), "start", "tend.json", "extra")).ExitCode);
        Assert.Empty(_daemon.Requests);
    }

    [Fact]
    public void BuildRequest_InstancesMax_IsResolvedByTheParser()
    {
        var root = TendCli.CreateRootCommand(_daemon.Context(_dir));
        var parse = root.Parse(["start", "-i", "max", "node"]);

        Assert.Empty(parse.Errors);
        Assert.Contains(parse.CommandResult.Command.Options, o => o.Name == "--instances");
        Assert.Equal(Environment.ProcessorCount, parse.GetValue<int?>("--instances"));
    }

    [Fact]
    public async Task Start_DaemonRejectsConfig_ExitsWithItsCodeAndPrintsDetails()
    {
        File.WriteAllText(Path.Combine(_dir, "tend.yaml"), "apps: [\n");
        _daemon.OnJson("POST", ApiRoutes.Start,
            new ErrorResponse("invalid config", [$"{_dir}/tend.yaml:1:8: expected a mapping"], 2),
            TendJsonContext.Default.ErrorResponse, HttpStatusCode.BadRequest);

        CliOutcome outcome = await CliRun.RunAsync(_daemon.Context(_dir), "start", "tend.yaml");

        Assert.Equal(2, outcome.ExitCode);
        Assert.Equal($"error: invalid config\n{_dir}/tend.yaml:1:8: expected a mapping\n", outcome.Err);
        Assert.Equal("", outcome.Out);
    }

    [Fact]
    public void BuildRequest_EmptyName_IsRejected()
    {
        var ex = Assert.Throws<CliException>(() =>
            StartCommand.BuildRequest(["node"], " ", null, null, _dir, new Dictionary<string, string>()));
        Assert.Equal(2, ex.ExitCode);
    }
}
