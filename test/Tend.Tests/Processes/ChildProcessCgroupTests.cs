using Tend.Isolation;
using Tend.Processes;
using Tend.Tests.Support;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Processes;

/// <summary>The platform layer's cgroups on this machine: a child joins its cgroup before its program
/// runs, everything it starts stays there, killing it kills all, and emptying is an event.</summary>
public sealed class ChildProcessCgroupTests : IDisposable
{
    private readonly CgroupTree _tree = CgroupTree.Open(CgroupLayout.Detect(), Path.Combine(Path.GetTempPath(), "tend-cg-" + Guid.NewGuid().ToString("N")));

    public void Dispose() => _tree.RemoveIfEmpty();

    private InstanceCgroup Prepared(string leaf, CgroupResources? resources = null)
    {
        Assert.NotEqual(CgroupMode.None, _tree.Mode);
        InstanceCgroup cgroup = _tree.Instance(leaf)!;
        cgroup.Prepare(resources ?? CgroupResources.None);
        return cgroup;
    }

    [Fact]
    public async Task Child_IsInItsCgroupFromTheStart_AndSoIsWhatItStartsInANewSession()
    {
        InstanceCgroup cgroup = Prepared("a.0.1");
        string pidFile = Path.Combine(Path.GetTempPath(), $"tend-cg-{Guid.NewGuid():N}.pid");
        // The first thing the program does is read its own cgroup: it must already be the instance's.
        await using ChildProcess child = ChildProcess.Start(Command("/bin/sh", "-c",
            $"cat /proc/self/cgroup; setsid sh -c 'sleep 600 & echo $! > {pidFile}'; exec sleep 600") with { Cgroup = cgroup });
        int grandchild = await Eventually.ReturnsAsync(() => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int p) ? p : 0, p => p > 0, "grandchild");
        string leaf = Path.GetFileName(cgroup.Directory);
        Assert.Contains(leaf, File.ReadAllText($"/proc/{grandchild}/cgroup"));
        Assert.True(cgroup.IsPopulated());

        // The group signal misses the grandchild (another session); the cgroup does not.
        ExitStatus status = await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(5));
        Assert.Equal(Signals.SIGTERM, status.Signal);
        Assert.False(ProcFs.IsRunning(grandchild));
        Assert.False(cgroup.IsPopulated());
        File.Delete(pidFile);
        cgroup.Remove();
        Assert.False(Directory.Exists(cgroup.Directory));
    }

    [Fact]
    public async Task Emptying_IsAnEvent_NotSomethingToPollFor()
    {
        InstanceCgroup cgroup = Prepared("b.0.2");
        await using ChildProcess child = ChildProcess.Start(Command("sleep", "600") with { Cgroup = cgroup });
        // The prelude joins the cgroup just after the spawn returns, before sleep runs.
        await Eventually.TrueAsync(cgroup.IsPopulated, "the child in its cgroup");
        Task change = cgroup.NextChange() ?? throw new InvalidOperationException("cgroup.events cannot be watched here");
        Assert.False(change.IsCompleted);

        cgroup.Kill();
        await change.WaitAsync(WaitLimit);
        Assert.False(cgroup.IsPopulated());
        await child.Exited.WaitAsync(WaitLimit);
        cgroup.Remove();
    }

    [Fact]
    public void Prepare_WritesTheLimits_AndResetsThoseLeftOut()
    {
        InstanceCgroup cgroup = Prepared("c.0.3", new CgroupResources(50L << 20, null, 0.5, 20));
        string Read(string controller, string v1File, string v2File)
        {
            string dir = _tree.Controllers[controller] == _tree.MembershipDirectory && _tree.Mode != CgroupMode.Legacy
                ? cgroup.Directory : Path.Join(_tree.Controllers[controller], "c.0.3");
            return File.ReadAllText(Path.Join(dir, _tree.Mode == CgroupMode.Unified ? v2File : v1File)).Trim();
        }
        bool v2 = _tree.Mode == CgroupMode.Unified;
        Assert.Equal(v2 ? "52428800" : "52428800", Read("memory", "memory.limit_in_bytes", "memory.max"));
        Assert.Equal("20", Read("pids", "pids.max", "pids.max"));
        Assert.Equal(v2 ? "50000 100000" : "50000", Read("cpu", "cpu.cfs_quota_us", "cpu.max"));

        cgroup.Prepare(CgroupResources.None);
        Assert.Equal("max", Read("pids", "pids.max", "pids.max"));
        Assert.Equal(v2 ? "max 100000" : "-1", Read("cpu", "cpu.cfs_quota_us", "cpu.max"));
        cgroup.Remove();
    }
}
