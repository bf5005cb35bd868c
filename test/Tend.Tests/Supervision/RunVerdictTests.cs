using Tend.Processes;
using Tend.Supervision;

namespace Tend.Tests.Supervision;

public sealed class RunVerdictTests
{
    private static InstanceEnd End(InstanceEndKind kind, int? code = null, int? signal = null, string app = "a") =>
        new(app, 0, kind, code is null && signal is null ? null : new ExitStatus(code, signal), "why");

    [Theory]
    [InlineData(InstanceEndKind.Finished, 3, null, 3)]
    [InlineData(InstanceEndKind.Finished, 0, null, 0)]
    [InlineData(InstanceEndKind.Finished, null, 15, 143)]
    [InlineData(InstanceEndKind.GaveUp, 7, null, 7)]
    [InlineData(InstanceEndKind.GaveUp, 0, null, 1)]
    [InlineData(InstanceEndKind.GaveUp, null, null, 1)]
    [InlineData(InstanceEndKind.Blocked, null, null, 1)]
    [InlineData(InstanceEndKind.InternalError, null, null, 1)]
    [InlineData(InstanceEndKind.Requested, null, 15, 0)]
    [InlineData(InstanceEndKind.Requested, 1, null, 0)]
    [InlineData(InstanceEndKind.TakenOver, 2, null, 0)]
    public void CodeOf_MapsEachEnd(InstanceEndKind kind, int? code, int? signal, int expected) =>
        Assert.Equal(expected, RunVerdict.CodeOf(End(kind, code, signal)));

    [Fact]
    public void CodeOf_StopExitCodeOfTheApp_IsClean() =>
        Assert.Equal(0, RunVerdict.CodeOf(End(InstanceEndKind.Finished, 1) with { CleanExit = true }));

    [Fact]
    public void ExitCode_FirstFailureWins()
    {
        var verdict = new RunVerdict();
        verdict.OnEnded(End(InstanceEndKind.Finished, 0, app: "ok"));
        verdict.OnEnded(End(InstanceEndKind.Finished, 3, app: "first"));
        verdict.OnEnded(End(InstanceEndKind.GaveUp, 9, app: "second"));
        Assert.Equal(3, verdict.ExitCode);
        Assert.Equal("first", verdict.Decisive!.App);
    }

    [Fact]
    public void ExitCode_ZeroWhenNothingFailed_OneWhenOnlyTheTreeFailed()
    {
        var verdict = new RunVerdict();
        verdict.OnEnded(End(InstanceEndKind.Requested, null, 15));
        Assert.Equal(0, verdict.ExitCode);
        verdict.OnFailure();
        Assert.Equal(1, verdict.ExitCode);
        Assert.Null(verdict.Decisive);
    }
}
