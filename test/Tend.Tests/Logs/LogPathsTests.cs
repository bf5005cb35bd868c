using Tend.Config;
using Tend.Logs;

namespace Tend.Tests.Logs;

public sealed class LogPathsTests
{
    [Fact]
    public void Resolve_NoConfiguredFile_DefaultsUnderTendHome()
    {
        Assert.Equal("/home/u/.tend/logs/web-3.out.log", LogPaths.Resolve(LogSpec.Default, LogStream.Out, "web", 3, "/home/u/.tend", "/srv/web"));
        Assert.Equal("/home/u/.tend/logs/web-3.err.log", LogPaths.Resolve(LogSpec.Default, LogStream.Err, "web", 3, "/home/u/.tend", "/srv/web"));
    }

    [Fact]
    public void Resolve_ConfiguredFile_ExpandsPlaceholders_RelativeToBaseDirectory()
    {
        var spec = LogSpec.Default with { OutFile = "logs/{app}.{instance}.log", ErrFile = "/var/log/{app}/{app}-{instance}.err" };

        Assert.Equal("/srv/web/logs/web.1.log", LogPaths.Resolve(spec, LogStream.Out, "web", 1, "/home/u/.tend", "/srv/web"));
        Assert.Equal("/var/log/web/web-1.err", LogPaths.Resolve(spec, LogStream.Err, "web", 1, "/home/u/.tend", "/srv/web"));
    }

    [Fact]
    public void Resolve_PathWithoutInstance_IsInstanceZeros_TheOthersWriteBesideIt()
    {
        var spec = LogSpec.Default with { OutFile = "/srv/web/out.log", ErrFile = "/srv/web/{app}.err" };

        Assert.Equal("/srv/web/out.log", LogPaths.Resolve(spec, LogStream.Out, "web", 0, "/h", "/srv/web"));
        Assert.Equal("/srv/web/out-1.log", LogPaths.Resolve(spec, LogStream.Out, "web", 1, "/h", "/srv/web"));
        Assert.Equal("/srv/web/out-12.log", LogPaths.Resolve(spec, LogStream.Out, "web", 12, "/h", "/srv/web"));
        Assert.Equal("/srv/web/web.err", LogPaths.Resolve(spec, LogStream.Err, "web", 0, "/h", "/srv/web"));
        Assert.Equal("/srv/web/web.err-2", LogPaths.Resolve(spec, LogStream.Err, "web", 2, "/h", "/srv/web"));
    }

    [Fact]
    public void Resolve_DevicesAreNeverSplit()
    {
        var spec = LogSpec.Default with { OutFile = "/dev/null", ErrFile = "/dev/stderr" };

        Assert.Equal("/dev/null", LogPaths.Resolve(spec, LogStream.Out, "web", 3, "/h", "/srv/web"));
        Assert.Equal("/dev/stderr", LogPaths.Resolve(spec, LogStream.Err, "web", 3, "/h", "/srv/web"));
    }

    [Fact]
    public void Expand_NoPlaceholders_Unchanged() =>
        Assert.Equal("/var/log/all.log", LogPaths.Expand("/var/log/all.log", "web", 0));
}
