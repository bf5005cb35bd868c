using System.Runtime.InteropServices;
using System.Text;
using Tend.Processes;
using Tend.Tests.Support;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Processes;

/// <summary>The reaper reaps every foreign child of this (test host) process, so nothing else may
/// run beside it.</summary>
[CollectionDefinition(nameof(ZombieReaperCollection), DisableParallelization = true)]
public sealed class ZombieReaperCollection;

[Collection(nameof(ZombieReaperCollection))]
public sealed class ZombieReaperTests
{
    [Fact]
    public async Task Start_ForeignZombie_IsReapedWhileOwnChildrenKeepTheirStatus()
    {
        // Our own child exits first and sits unreaped in front of the foreign one, which is the case
        // where the reaper must look past it instead of spinning.
        await using var own = ChildProcess.Start(Command("/bin/sh", "-c", "exit 7"));
        int foreign = SpawnUnmanaged("/bin/true");
        await WaitUntilAsync(() => StatField(foreign, 3) == "Z", "the foreign child is a zombie");

        using (ZombieReaper.Start(_ => false))
        {
            await WaitUntilAsync(() => StatField(foreign, 3) is null, "the foreign zombie is reaped");
            Assert.Equal(7, (await own.Exited.WaitAsync(WaitLimit)).Code);
        }
    }

    [Fact]
    public async Task Start_IsOwnChild_LeavesThatZombieAlone()
    {
        int foreign = SpawnUnmanaged("/bin/true");
        try
        {
            using (ZombieReaper.Start(pid => pid == foreign))
            {
                await WaitUntilAsync(() => StatField(foreign, 3) == "Z", "the child is a zombie");
                // A child spawned and reaped through the watcher meanwhile proves the reaper ran its loop
                // (SIGCHLD) without hanging on the zombie it must leave alone.
                await using var own = ChildProcess.Start(Command("/bin/sh", "-c", "exit 5"));
                Assert.Equal(5, (await own.Exited.WaitAsync(WaitLimit)).Code);
                Assert.Equal("Z", StatField(foreign, 3));
            }
        }
        finally
        {
            ReapUnmanaged(foreign);
        }
    }

    [Fact]
    public async Task AsASubreaper_AGracefulStop_WaitsForTheGroupsSurvivors_FoundAmongOurChildren()
    {
        // The leader exits at SIGTERM; its child, in its group, ignores SIGTERM and is orphaned to us.
        // Exited must wait for that survivor (SIGKILLed at the kill timeout), not complete at the
        // leader's exit: the subreaper's cheap look (our children) has to find it.
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        int survivor = 0;
        Assert.True(ZombieReaper.SetChildSubreaper());
        Assert.True(ZombieReaper.IsChildSubreaper());
        try
        {
            using (ZombieReaper.Start(_ => false))
            {
                await using var child = ChildProcess.Start(Command("/bin/sh", "-c", $"(trap '' TERM; exec sleep 60) & echo $! > {pidFile}; wait"));
                survivor = await Eventually.ReturnsAsync(() => File.Exists(pidFile) && int.TryParse(File.ReadAllText(pidFile).Trim(), out int p) ? p : 0, p => p > 0, "the survivor's pid");
                await WaitUntilAsync(() => StatField(survivor, 3) == "S", "the survivor asleep");

                ExitStatus status = await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(2)).WaitAsync(WaitLimit);

                Assert.Equal(Signals.SIGTERM, status.Signal);
                Assert.False(Tend.Tests.Support.ProcFs.IsRunning(survivor), "Exited completed while the group still had a member");
            }
        }
        finally
        {
            Interop.Sys.Prctl(Interop.Sys.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
            Assert.False(ZombieReaper.IsChildSubreaper());
            if (survivor > 0 && Tend.Tests.Support.ProcFs.IsRunning(survivor)) Tend.Tests.Support.ProcFs.Kill(survivor);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task SetChildSubreaper_OrphanedGrandchild_IsReparentedAndReaped()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        (int Pid, ulong StartTime) grandchild = default;
        Assert.True(ZombieReaper.SetChildSubreaper());
        try
        {
            using (ZombieReaper.Start(_ => false))
            {
                await using var child = ChildProcess.Start(TestChild("--grandchild", pidFile));
                grandchild = await WaitForGrandchildAsync(pidFile, child.Pid);

                // The leader dies, its leftovers are killed, and the orphaned grandchild comes to us:
                // the reaper must collect it, so that not even a zombie remains.
                Assert.True(child.Signal(Signals.SIGKILL));
                await child.Exited.WaitAsync(WaitLimit);
                await WaitUntilAsync(() => ProcStat.ReadStartTime(grandchild.Pid) != grandchild.StartTime,
                    "the grandchild is reaped");
            }
        }
        finally
        {
            // Back to normal for the rest of the test run.
            Interop.Sys.Prctl(Interop.Sys.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
            await KillIfAliveAsync(grandchild.Pid, grandchild.StartTime);
            File.Delete(pidFile);
        }
    }

    /// <summary>A child this process has but no ChildProcess knows about, as orphans are for PID 1.</summary>
    private static unsafe int SpawnUnmanaged(string path)
    {
        byte[] pathBytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = pathBytes)
        {
            byte** argv = stackalloc byte*[2] { p, null };
            byte** envp = stackalloc byte*[1] { null };
            int pid;
            Assert.Equal(0, Interop.Sys.PosixSpawn(&pid, p, null, null, argv, envp));
            return pid;
        }
    }

    private static unsafe void ReapUnmanaged(int pid) => Interop.Sys.WaitPid(pid, null, 0);
}
