using Tend.Api;
using Tend.Cli;
using Tend.Cli.Commands;
using Tend.Cli.Entry;

namespace Tend.Tests.Cli.Commands;

/// <summary>
/// How `tend start`'s words become a <see cref="StartRequest"/>: a pure function, tested directly.
/// What the daemon makes of the request is covered end to end in Integration/CliTests.
/// </summary>
public sealed class StartCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("tend-cli-start-").FullName;
    private static readonly Dictionary<string, string> s_env = new() { ["PATH"] = "/usr/bin", ["NODE_ENV"] = "production" };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void BuildRequest_Command_CarriesArgvNameInstancesCwdAndEnv()
    {
        StartRequest request = StartCommand.BuildRequest(["node", "server.js", "--port", "3000"], "web", 2, null, _dir, s_env);

        Assert.Null(request.ConfigPath);
        Assert.Equal(["node", "server.js", "--port", "3000"], request.Command);
        Assert.Equal("web", request.Name);
        Assert.Equal(2, request.Instances);
        Assert.Equal(_dir, request.Cwd);
        Assert.Equal(s_env, request.Env);
    }

    [Fact]
    public void BuildRequest_CommandWithoutName_LeavesTheNameToTheEngine()
    {
        // The engine names it after the script or executable it resolves (FromCommandTests).
        StartRequest request = StartCommand.BuildRequest(["/usr/bin/python3", "-m", "http.server"], null, null, null, _dir, s_env);

        Assert.Null(request.Name);
        Assert.Null(request.Instances);
    }

    [Fact]
    public void BuildRequest_ConfigFile_AbsolutePathAndOnlyListDeduplicated()
    {
        File.WriteAllText(Path.Combine(_dir, "tend.yml"), "apps: {}\n");

        StartRequest request = StartCommand.BuildRequest(["tend.yml"], null, null, ["api, worker", "db,api"], _dir, s_env);

        Assert.Equal(Path.Combine(_dir, "tend.yml"), request.ConfigPath);
        Assert.Equal(["api", "worker", "db"], request.Only);
        Assert.Null(request.Command);
        Assert.Equal(s_env, request.Env);
    }

    [Fact]
    public void BuildRequest_NoWords_UsesTendYamlInTheDirectory()
    {
        File.WriteAllText(Path.Combine(_dir, "tend.yaml"), "apps: {}\n");

        Assert.Equal(Path.Combine(_dir, "tend.yaml"), StartCommand.BuildRequest([], null, null, null, _dir, s_env).ConfigPath);
    }

    [Theory]
    [InlineData(" ", "node")]
    [InlineData(null, "--bogus", "node")]
    public void BuildRequest_BadCommand_IsUsageError(string? name, params string[] words) =>
        Assert.Equal(2, Assert.Throws<CliException>(() => StartCommand.BuildRequest(words, name, null, null, _dir, s_env)).ExitCode);

    [Fact]
    public void BuildRequest_InstancesMax_IsResolvedByTheParser()
    {
        var root = TendCli.CreateRootCommand(new CliContext { Home = _dir });
        var parse = root.Parse(["start", "-i", "max", "node"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(Environment.ProcessorCount, parse.GetValue<int?>("--instances"));
    }

    [Theory]
    [InlineData("0", 0)]   // PM2: as many as CPUs
    [InlineData("-1", -1)] // PM2: every CPU but one
    public void BuildRequest_Pm2InstanceSpellings_AreResolvedByTheParser(string text, int fromCpus)
    {
        var root = TendCli.CreateRootCommand(new CliContext { Home = _dir });
        var parse = root.Parse(["start", "-i", text, "node"]);

        Assert.Empty(parse.Errors);
        Assert.Equal(Math.Max(1, Environment.ProcessorCount + fromCpus), parse.GetValue<int?>("--instances"));
    }

    [Fact]
    public void BuildRequest_NegativeInstancesOtherThanMinusOne_AreAnError()
    {
        var root = TendCli.CreateRootCommand(new CliContext { Home = _dir });

        Assert.NotEmpty(root.Parse(["start", "-i", "-2", "node"]).Errors);
    }
}
