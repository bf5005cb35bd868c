using System.Globalization;
using Tend.Processes;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Processes;

public sealed class ProcStatTests
{
    [Fact]
    public void ReadStartTime_OwnProcess_IsAliveWithItOnly()
    {
        ulong? start = ProcStat.ReadStartTime(Environment.ProcessId);

        Assert.NotNull(start);
        Assert.True(ProcStat.IsAlive(Environment.ProcessId, start.Value));
        Assert.False(ProcStat.IsAlive(Environment.ProcessId, start.Value + 1));
    }

    [Fact]
    public void ReadStartTime_NoSuchProcess_IsNull()
    {
        Assert.Null(ProcStat.ReadStartTime(4_194_305));
        Assert.False(ProcStat.IsAlive(4_194_305, 1));
    }

    [Fact]
    public void ClockTicksPerSecond_IsPositive()
    {
        Assert.True(ProcStat.ClockTicksPerSecond > 0);
    }

    [Fact]
    public async Task ReadStartTime_CommWithSpacesAndParens_IsParsed()
    {
        string dir = CreateTempDirectory();
        try
        {
            // The kernel takes comm from the file name: make it as hostile as it gets.
            string program = Path.Combine(dir, "a) b (c");
            File.Copy("/bin/sleep", program);
            await using var child = ChildProcess.Start(Command(program, "30"));

            Assert.Equal("a) b (c", File.ReadAllText($"/proc/{child.Pid}/comm").TrimEnd('\n'));
            Assert.Equal(child.StartTime, ProcStat.ReadStartTime(child.Pid));
            Assert.True(ProcStat.IsAlive(child.Pid, child.StartTime));
            Assert.Equal(1, ProcStat.SampleGroups()[child.Pid].Processes);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task ReadEnvironment_IsWhatTheProcessStartedWith_AndNothingForALaterProcessOrAnExitedOne()
    {
        var env = new Dictionary<string, string>(BaseEnvironment()) { ["GREETING"] = "a=b c", ["EMPTY"] = "" };
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30") with { Environment = env });

        Dictionary<string, string>? read = ProcStat.ReadEnvironment(child.Pid, child.StartTime);

        Assert.NotNull(read);
        Assert.Equal(env.OrderBy(kv => kv.Key, StringComparer.Ordinal), read.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Null(ProcStat.ReadEnvironment(child.Pid, child.StartTime + 1)); // the pid, reused by a later process
        Assert.Null(ProcStat.ReadEnvironment(4_194_305, 1));
    }

    [Fact]
    public async Task IsAlive_AfterExit_IsFalse()
    {
        await using var child = ChildProcess.Start(Command("/bin/true"));
        ulong start = child.StartTime;

        await child.Exited.WaitAsync(WaitLimit);

        Assert.False(ProcStat.IsAlive(child.Pid, start));
    }

    [Fact]
    public async Task ReadProcessGroup_ChildAndGrandchild_AreInTheChildsGroup()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        (int Pid, ulong StartTime) grandchild = default;
        try
        {
            await using var child = ChildProcess.Start(TestChild("--grandchild", pidFile));
            grandchild = await WaitForGrandchildAsync(pidFile, child.Pid);

            Assert.Equal(child.Pid, ProcStat.ReadProcessGroup(child.Pid));
            Assert.Equal(child.Pid, ProcStat.ReadProcessGroup(grandchild.Pid));
            Assert.NotEqual(child.Pid, ProcStat.ReadProcessGroup(Environment.ProcessId));
        }
        finally
        {
            await KillIfAliveAsync(grandchild.Pid, grandchild.StartTime);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public void ReadProcessGroup_NoSuchProcess_IsNull()
    {
        Assert.Null(ProcStat.ReadProcessGroup(4_194_305));
    }

    [Fact]
    public async Task SampleGroups_AllocatingChild_ReportsItsMemory()
    {
        await using var child = ChildProcess.Start(TestChild("--alloc", "50"));

        GroupUsage usage = default;
        await WaitUntilAsync(() =>
        {
            ProcStat.SampleGroups().TryGetValue(child.Pid, out usage);
            return usage.RssBytes >= 50L * 1024 * 1024;
        }, "the group's RSS reaches 50 MiB");

        Assert.Equal(1, usage.Processes);
        Assert.True(usage.CpuTicks >= 0);
    }

    [Fact]
    public async Task Descendants_ChildAndGrandchild_AreFoundAndOurOwnParentIsNot()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        (int Pid, ulong StartTime) grandchild = default;
        try
        {
            await using var child = ChildProcess.Start(TestChild("--grandchild", pidFile));
            grandchild = await WaitForGrandchildAsync(pidFile, child.Pid);

            var pids = ProcStat.Descendants(Environment.ProcessId).Select(p => p.Pid).ToList();

            Assert.Contains(child.Pid, pids);
            Assert.Contains(grandchild.Pid, pids);
            // The walk goes down from us, not over all of /proc: an ancestor (and pid 1) is never counted.
            int parent = int.Parse(File.ReadAllLines("/proc/self/status").First(l => l.StartsWith("PPid:", StringComparison.Ordinal))[5..].Trim(), CultureInfo.InvariantCulture);
            Assert.DoesNotContain(parent, pids);
            Assert.DoesNotContain(1, pids);
            Assert.DoesNotContain(Environment.ProcessId, pids);
        }
        finally
        {
            await KillIfAliveAsync(grandchild.Pid, grandchild.StartTime);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task SampleGroups_ParentAndGrandchild_AreSummedInOneGroup()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        (int Pid, ulong StartTime) grandchild = default;
        try
        {
            await using var child = ChildProcess.Start(TestChild("--grandchild", pidFile));
            grandchild = await WaitForGrandchildAsync(pidFile, child.Pid);

            GroupUsage usage = ProcStat.SampleGroups()[child.Pid];

            Assert.Equal(2, usage.Processes);
            Assert.True(usage.RssBytes > 0);
        }
        finally
        {
            await KillIfAliveAsync(grandchild.Pid, grandchild.StartTime);
            File.Delete(pidFile);
        }
    }
}
