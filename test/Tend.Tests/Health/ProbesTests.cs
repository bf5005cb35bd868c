using Tend.Config;
using Tend.Health;

namespace Tend.Tests.Health;

public sealed class ProbesTests
{
    private static readonly ProbeContext s_context = new("/tmp", new Dictionary<string, string>());

    [Theory]
    [InlineData(ProbeKind.Http, "http://127.0.0.1:8080/healthz", typeof(HttpProbe))]
    [InlineData(ProbeKind.Tcp, "127.0.0.1:5432", typeof(TcpProbe))]
    [InlineData(ProbeKind.Exec, "true", typeof(ExecProbe))]
    [InlineData(ProbeKind.Log, "ready", typeof(LogProbe))]
    public void Create_BuildsTheProbeOfItsKind(ProbeKind kind, string target, Type expected)
    {
        var probe = Probes.Create(new ProbeSpec { Kind = kind, Target = target }, s_context, sticky: true);

        Assert.IsType(expected, probe);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Create_Log_PassesStickiness(bool sticky)
    {
        var probe = Probes.Create(new ProbeSpec { Kind = ProbeKind.Log, Target = "x" }, s_context, sticky);

        Assert.Equal(sticky, Assert.IsType<LogProbe>(probe).Sticky);
    }

    [Theory]
    [InlineData("127.0.0.1:8080")]
    [InlineData("ftp://host/")]
    [InlineData("/healthz")]
    public void Create_Http_RejectsWhatIsNotAnHttpUrl(string target) =>
        Assert.Throws<ArgumentException>(() => Probes.Create(new ProbeSpec { Kind = ProbeKind.Http, Target = target }, s_context, sticky: false));

    [Fact]
    public async Task Create_Exec_RunsTheArgvNotTheTarget()
    {
        var spec = new ProbeSpec
        {
            Kind = ProbeKind.Exec,
            Target = "false",
            Command = new EquatableArray<string>(["sh", "-c", "exit 4"]),
            Timeout = TimeSpan.FromSeconds(10),
        };
        var context = s_context with { Environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" } };

        var result = await Probes.Create(spec, context, sticky: false).CheckAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("exit code 4", result.Detail);
    }
}
