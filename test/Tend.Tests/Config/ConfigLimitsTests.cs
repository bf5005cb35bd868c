using Tend.Config;

namespace Tend.Tests.Config;

/// <summary>What no program can be started with, and what would exhaust the daemon: refused at load with a location.</summary>
public sealed class ConfigLimitsTests : IDisposable
{
    private readonly ConfigTestDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Error(string yaml) => Assert.Single(_dir.Errors(yaml));

    [Theory]
    [InlineData("run: \"node\\0 1\"", "apps.web.run")]
    [InlineData("run: node 1\n    cwd: \"/tmp\\0x\"", "apps.web.cwd")]
    [InlineData("run: node 1\n    env: { A: \"x\\0y\" }", "apps.web.env.A")]
    [InlineData("cmd: node\n    args: [\"1\\0\"]", "apps.web.args[0]")]
    [InlineData("run: node 1\n    logs: { out_file: \"/tmp/a\\0b\" }", "apps.web.logs.out_file")]
    [InlineData("run: node 1\n    env_file: \"x\\0.env\"", "apps.web.env_file")]
    public void Load_NulAnywhere_IsAnErrorWithItsLine(string body, string field)
    {
        string error = Error("apps:\n  web:\n    " + body + "\n");
        Assert.Matches(@"^ROOT/tend\.yaml:\d+:\d+: ", error);
        Assert.Contains(field + ": contains a NUL character", error);
    }

    [Theory]
    [InlineData("{ out_file: app.log, err_file: app.log }")]
    [InlineData("{ out_file: ./logs/app.log, err_file: logs/../logs/app.log }")]
    public void Load_ErrFileTheSameAsOutFile_Refused(string log)
    {
        string error = Error("apps:\n  web:\n    run: node 1\n    log: " + log + "\n");
        Assert.Matches(@"^ROOT/tend\.yaml:4:\d+: apps\.web\.log\.err_file: is the same file as out_file", error);
    }

    [Fact]
    public void Load_TooManyInstances_Refused() =>
        Assert.Equal("ROOT/tend.yaml:4:16: apps.web.instances: 200000 instances is more than the 1000 Tend allows per app",
            Error("apps:\n  web:\n    run: node 1\n    instances: 200000\n"));

    [Fact]
    public void Load_LongName_Refused()
    {
        string name = new('a', 300);
        Assert.Contains("is 300 characters; at most 64", Error($"apps:\n  {name}:\n    run: node 1\n"));
    }

    [Fact]
    public void Load_EnvFileThatIsADeviceOrFifo_RefusedWithoutReadingIt()
    {
        Assert.Contains("env file \"/dev/zero\" is not a regular file", Error("apps:\n  web:\n    run: node 1\n    env_file: /dev/zero\n"));
        string fifo = Path.Combine(_dir.Root, "pipe.env");
        using (var mk = System.Diagnostics.Process.Start("mkfifo", [fifo])!) mk.WaitForExit();
        Assert.Contains("is not a regular file", Error("apps:\n  web:\n    run: node 1\n    env_file: pipe.env\n"));
    }

    [Fact]
    public void Load_HugeEnvFile_Refused()
    {
        File.WriteAllText(Path.Combine(_dir.Root, "big.env"), string.Concat(Enumerable.Range(0, 40_000).Select(i => $"V{i}=xxxxxxxxxxxxxxxxxxxxxx\n")));
        Assert.Contains("at most 1024 KiB is read", Error("apps:\n  web:\n    run: node 1\n    env_file: big.env\n"));
    }

    [Fact]
    public void FromCommand_EnvNameWithEqualsOrNul_OrAHugeEnvironment_Refused()
    {
        var env = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin", ["A=B"] = "1" };
        var bad = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand("x", "node", ["1"], 1, "/tmp", env));
        Assert.Contains(bad.Errors, e => e.Field == "env.A=B");

        var nul = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand("x", "node", ["1\0"], 1, "/tmp", new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }));
        Assert.Contains(nul.Errors, e => e.Field == "args[0]");

        var huge = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" };
        for (int i = 0; i < 50_000; i++) huge[$"VAR_{i}"] = "xxxxxxxxxxxxxxxxxxxx";
        var big = Assert.Throws<ConfigException>(() => ConfigLoader.FromCommand("x", "node", ["1"], 1, "/tmp", huge));
        Assert.Contains(big.Errors, e => e.Field == "env" && e.Message.Contains("at most 1024 KiB"));
    }
}
