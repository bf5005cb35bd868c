using System.Globalization;
using Tend.Processes;
using static Tend.Tests.Processes.ProcessTestSupport;

namespace Tend.Tests.Processes;

[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ChildProcessTests
{
    [Fact]
    public async Task Start_EchoArguments_ReadsStdoutAndStderrSeparately()
    {
        await using var child = ChildProcess.Start(TestChild("--echo", "to out", "--echo-err", "to err", "--exit-after", "0ms"));

        Task<string> stdout = ReadAllAsync(child.StandardOutput);
        Task<string> stderr = ReadAllAsync(child.StandardError);

        Assert.Equal("to out\n", await stdout);
        Assert.Equal("to err\n", await stderr);
        Assert.True((await child.Exited.WaitAsync(WaitLimit)).IsSuccess);
    }

    [Fact]
    public async Task Exited_ExitCode_IsReported()
    {
        await using var child = ChildProcess.Start(TestChild("--exit-after", "100ms", "--exit-code", "3"));

        ExitStatus status = await child.Exited.WaitAsync(WaitLimit);

        Assert.Equal(new ExitStatus(3, null), status);
        Assert.False(status.IsSuccess);
        Assert.Equal("exit code 3", status.ToString());
    }

    [Fact]
    public async Task Exited_Crash_ReportsSigsegv()
    {
        // Not testchild --crash: the .NET runtime swallows a SIGSEGV sent with kill() and exits 0.
        await using var child = ChildProcess.Start(Command("/bin/sh", "-c", "kill -SEGV $$"));

        ExitStatus status = await child.Exited.WaitAsync(WaitLimit);

        Assert.Null(status.Code);
        Assert.Equal(Signals.SIGSEGV, status.Signal);
    }

    [Fact]
    public async Task Exited_ExternalSigkill_ReportsSigkill()
    {
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30"));

        Assert.Equal(0, Interop.Sys.Kill(child.Pid, Signals.SIGKILL));
        ExitStatus status = await child.Exited.WaitAsync(WaitLimit);

        Assert.Equal(new ExitStatus(null, Signals.SIGKILL), status);
        Assert.Equal("killed by SIGKILL", status.ToString());
    }

    [Fact]
    public async Task Start_Child_LeadsItsOwnSessionAndProcessGroup()
    {
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30"));

        string pid = child.Pid.ToString(CultureInfo.InvariantCulture);
        Assert.Equal(pid, StatField(child.Pid, 5)); // pgrp
        Assert.Equal(pid, StatField(child.Pid, 6)); // session
        Assert.Equal(ProcStat.ReadStartTime(child.Pid), child.StartTime);
        Assert.NotEqual(0UL, child.StartTime);
    }

    [Fact]
    public async Task Start_Environment_IsExactlyTheRequestedOne()
    {
        var env = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/bin:/bin",
            ["TEND_APP"] = "web",
            ["WITH_SPACES"] = "a b  c",
            ["UNICODE"] = "héllo ✓",
        };
        var request = new SpawnRequest(TestChildPath, ["--print-env", "--exit-after", "0ms"], Path.GetTempPath(), env);
        await using var child = ChildProcess.Start(request);

        string output = await ReadAllAsync(child.StandardOutput);

        string expected = string.Concat(env.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}\n"));
        Assert.Equal(expected, output);
    }

    [Fact]
    public async Task Start_WorkingDirectory_IsHonored()
    {
        string dir = CreateTempDirectory();
        try
        {
            await using var child = ChildProcess.Start(Command("/bin/pwd") with { WorkingDirectory = dir });

            Assert.Equal(dir + "\n", await ReadAllAsync(child.StandardOutput));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Start_RelativePath_IsResolvedAgainstWorkingDirectory()
    {
        string dir = CreateTempDirectory();
        try
        {
            string script = Path.Combine(dir, "hello.sh");
            File.WriteAllText(script, "#!/bin/sh\necho hello from $0\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

            await using var child = ChildProcess.Start(Command("./hello.sh") with { WorkingDirectory = dir });

            Assert.Equal($"hello from {dir}/./hello.sh\n", await ReadAllAsync(child.StandardOutput));
            Assert.True((await child.Exited.WaitAsync(WaitLimit)).IsSuccess);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Start_BareName_IsSearchedOnTheChildsPath()
    {
        await using var child = ChildProcess.Start(Command("sh", "-c", "echo found"));

        Assert.Equal("found\n", await ReadAllAsync(child.StandardOutput));
    }

    [Fact]
    public void Start_MissingExecutable_ThrowsSpawnException()
    {
        var e = Assert.Throws<SpawnException>(() => ChildProcess.Start(Command("tend-no-such-program")));

        Assert.Equal(Interop.Sys.ENOENT, e.Errno);
        Assert.Equal("cannot start 'tend-no-such-program': No such file or directory (searched PATH)", e.Message);
    }

    [Fact]
    public void Start_MissingPath_ThrowsSpawnException()
    {
        var e = Assert.Throws<SpawnException>(() => ChildProcess.Start(Command("/nonexistent/tend/prog")));

        Assert.Equal(Interop.Sys.ENOENT, e.Errno);
    }

    [Fact]
    public void Start_NotExecutable_ThrowsSpawnExceptionWithEacces()
    {
        string dir = CreateTempDirectory();
        try
        {
            string file = Path.Combine(dir, "plain.txt");
            File.WriteAllText(file, "not a program");

            var e = Assert.Throws<SpawnException>(() => ChildProcess.Start(Command(file)));

            Assert.Equal(Interop.Sys.EACCES, e.Errno);
            Assert.Contains("Permission denied", e.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Start_Directory_ThrowsSpawnException()
    {
        var e = Assert.Throws<SpawnException>(() => ChildProcess.Start(Command("/tmp")));

        Assert.Equal(Interop.Sys.EACCES, e.Errno);
    }

    [Fact]
    public void Start_MissingWorkingDirectory_ThrowsSpawnException()
    {
        var request = Command("/bin/true") with { WorkingDirectory = "/nonexistent/tend-cwd" };

        var e = Assert.Throws<SpawnException>(() => ChildProcess.Start(request));

        Assert.Equal(Interop.Sys.ENOENT, e.Errno);
        Assert.Contains("/nonexistent/tend-cwd", e.Message);
    }

    [Fact]
    public async Task Start_NoOutputRedirect_HasNoStreams()
    {
        await using var child = ChildProcess.Start(Command("/bin/echo", "dropped") with { RedirectOutput = false });

        Assert.Null(child.StandardOutput);
        Assert.Null(child.StandardError);
        Assert.True((await child.Exited.WaitAsync(WaitLimit)).IsSuccess);
    }

    [Fact]
    public async Task Start_Child_InheritsNoFileDescriptorsBeyondStdio()
    {
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30"));

        // Read from outside, so the listing itself opens nothing in the child. Retried because the
        // dynamic loader briefly holds descriptors while sleep starts; a leaked one never goes away.
        string[] fds = [];
        await WaitUntilAsync(() =>
        {
            fds = Directory.GetFileSystemEntries($"/proc/{child.Pid}/fd").Select(Path.GetFileName).Order().ToArray()!;
            return fds.Length <= 3;
        }, "only fds 0, 1, 2 remain (last seen: " + string.Join(",", fds) + ")");
        Assert.Equal(["0", "1", "2"], fds);
    }

    [Fact]
    public async Task Start_Child_HasEmptySignalMaskAndDefaultDispositions()
    {
        // The runtime ignores SIGPIPE in this very process, so there is something to not inherit.
        Assert.NotEqual(0UL, ReadSignalSet(Environment.ProcessId, "SigIgn"));

        await using var child = ChildProcess.Start(Command("/bin/sleep", "30"));

        Assert.Equal("0,0", $"{ReadSignalSet(child.Pid, "SigBlk"):x},{ReadSignalSet(child.Pid, "SigIgn"):x}");
    }

    [Fact]
    public async Task StopAsync_Sigterm_ChildExitsWithoutEscalation()
    {
        string stamp = Path.Combine(Path.GetTempPath(), "tend-stamp-" + Guid.NewGuid().ToString("N"));
        try
        {
            await using var child = ChildProcess.Start(TestChild("--stamp", stamp, "--echo", "ready"));
            Assert.Equal("ready", await ReadLineAsync(child.StandardOutput));

            ExitStatus status = await child.StopAsync(Signals.SIGTERM, TimeSpan.FromMinutes(5)).WaitAsync(WaitLimit);

            Assert.NotEqual(Signals.SIGKILL, status.Signal);
            Assert.Contains(" term ", File.ReadAllText(stamp));
        }
        finally
        {
            File.Delete(stamp);
        }
    }

    [Fact]
    public async Task StopAsync_ChildIgnoresSigterm_IsKilledAfterTimeout()
    {
        await using var child = ChildProcess.Start(TestChild("--ignore-term", "--echo", "ready"));
        Assert.Equal("ready", await ReadLineAsync(child.StandardOutput));

        ExitStatus status = await child.StopAsync(Signals.SIGTERM, TimeSpan.FromMilliseconds(300)).WaitAsync(WaitLimit);

        Assert.Equal(Signals.SIGKILL, status.Signal);
    }

    [Fact]
    public async Task StopAsync_ZeroTimeout_KillsAtOnce()
    {
        await using var child = ChildProcess.Start(TestChild("--echo", "ready"));
        Assert.Equal("ready", await ReadLineAsync(child.StandardOutput));

        ExitStatus status = await child.StopAsync(Signals.SIGTERM, TimeSpan.Zero).WaitAsync(WaitLimit);

        Assert.Equal(Signals.SIGKILL, status.Signal);
    }

    [Fact]
    public async Task StopAsync_AlreadyExited_ReturnsTheExitStatus()
    {
        await using var child = ChildProcess.Start(Command("/bin/sh", "-c", "exit 4"));
        await child.Exited.WaitAsync(WaitLimit);

        ExitStatus status = await child.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(1)).WaitAsync(WaitLimit);

        Assert.Equal(4, status.Code);
    }

    [Fact]
    public async Task StopAsync_Grandchild_DoesNotSurvive()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        (int Pid, ulong StartTime) grandchild = default;
        try
        {
            await using var child = ChildProcess.Start(TestChild("--grandchild", pidFile, "--ignore-term"));
            grandchild = await WaitForGrandchildAsync(pidFile, child.Pid);

            ExitStatus status = await child.StopAsync(Signals.SIGTERM, TimeSpan.FromMilliseconds(300)).WaitAsync(WaitLimit);

            Assert.Equal(Signals.SIGKILL, status.Signal);
            await WaitUntilGoneAsync(grandchild.Pid, grandchild.StartTime);
        }
        finally
        {
            await KillIfAliveAsync(grandchild.Pid, grandchild.StartTime);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task Exited_LeaderKilled_GrandchildIsKilledToo()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        (int Pid, ulong StartTime) grandchild = default;
        try
        {
            await using var child = ChildProcess.Start(TestChild("--grandchild", pidFile));
            grandchild = await WaitForGrandchildAsync(pidFile, child.Pid);

            // Only the leader: what a crash looks like to the group.
            Assert.True(child.Signal(Signals.SIGKILL));
            await child.Exited.WaitAsync(WaitLimit);

            await WaitUntilGoneAsync(grandchild.Pid, grandchild.StartTime);
        }
        finally
        {
            await KillIfAliveAsync(grandchild.Pid, grandchild.StartTime);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task DisposeAsync_Running_KillsTheWholeGroup()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        (int Pid, ulong StartTime) grandchild = default;
        try
        {
            var child = ChildProcess.Start(TestChild("--grandchild", pidFile));
            grandchild = await WaitForGrandchildAsync(pidFile, child.Pid);

            await child.DisposeAsync().AsTask().WaitAsync(WaitLimit);

            Assert.True(child.Exited.IsCompleted);
            Assert.False(ProcStat.IsAlive(child.Pid, child.StartTime));
            await WaitUntilGoneAsync(grandchild.Pid, grandchild.StartTime);
        }
        finally
        {
            await KillIfAliveAsync(grandchild.Pid, grandchild.StartTime);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task Signal_AfterExit_ReturnsFalse()
    {
        await using var child = ChildProcess.Start(Command("/bin/true"));
        await child.Exited.WaitAsync(WaitLimit);

        Assert.False(child.Signal(Signals.SIGTERM));
        Assert.False(child.SignalGroup(Signals.SIGTERM));
    }

    [Fact]
    public async Task Signal_Running_DeliversTheSignal()
    {
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30"));

        Assert.True(child.Signal(Signals.SIGUSR1));

        Assert.Equal(Signals.SIGUSR1, (await child.Exited.WaitAsync(WaitLimit)).Signal);
    }

    [Fact]
    public async Task Adopt_WrongStartTime_ReturnsNull()
    {
        await using var child = ChildProcess.Start(Command("/bin/sleep", "30"));

        Assert.Null(ChildProcess.Adopt(child.Pid, child.StartTime + 1));
    }

    [Fact]
    public void Adopt_NoSuchProcess_ReturnsNull()
    {
        // Above the kernel's pid_max ceiling (4194304), so never a live pid.
        Assert.Null(ChildProcess.Adopt(4_194_305, 1));
    }

    [Fact]
    public async Task Adopt_NotOurChild_StopsItAndCompletesExited()
    {
        string pidFile = Path.Combine(Path.GetTempPath(), "tend-gc-" + Guid.NewGuid().ToString("N"));
        (int Pid, ulong StartTime) grandchild = default;
        try
        {
            await using var child = ChildProcess.Start(TestChild("--grandchild", pidFile));
            grandchild = await WaitForGrandchildAsync(pidFile, child.Pid);

            var adopted = ChildProcess.Adopt(grandchild.Pid, grandchild.StartTime);
            Assert.NotNull(adopted);
            await using (adopted)
            {
                Assert.Equal(grandchild.StartTime, adopted.StartTime);
                Assert.Null(adopted.StandardOutput);

                ExitStatus status = await adopted.StopAsync(Signals.SIGTERM, TimeSpan.FromSeconds(10)).WaitAsync(WaitLimit);

                Assert.False(status.IsKnown); // not our child: nobody tells us how it ended
                await WaitUntilGoneAsync(grandchild.Pid, grandchild.StartTime);
            }
        }
        finally
        {
            await KillIfAliveAsync(grandchild.Pid, grandchild.StartTime);
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task Start_FiftyChildrenAtOnce_AllExitStatusesReported()
    {
        var children = new List<ChildProcess>();
        try
        {
            for (int i = 0; i < 50; i++)
                children.Add(ChildProcess.Start(Command("/bin/sh", "-c", $"sleep 0.{i % 5}; exit {i}") with { RedirectOutput = i % 2 == 0 }));

            ExitStatus[] statuses = await Task.WhenAll(children.Select(c => c.Exited)).WaitAsync(TimeSpan.FromSeconds(120));

            Assert.Equal(Enumerable.Range(0, 50).Select(i => (int?)i), statuses.Select(s => s.Code));
        }
        finally
        {
            foreach (var child in children) await child.DisposeAsync().AsTask().WaitAsync(WaitLimit);
        }
    }

    [Fact]
    public void ExitStatus_ToString_DescribesTheOutcome()
    {
        Assert.Equal("exit code 0", new ExitStatus(0, null).ToString());
        Assert.Equal("killed by SIGTERM", new ExitStatus(null, 15).ToString());
        Assert.Equal("killed by SIGSEGV (core dumped)", new ExitStatus(null, 11) { CoreDumped = true }.ToString());
        Assert.Equal("exited (status unknown)", default(ExitStatus).ToString());
        Assert.True(new ExitStatus(0, null).IsSuccess);
        Assert.False(new ExitStatus(null, 9).IsSuccess);
    }

    private static ulong ReadSignalSet(int pid, string name)
    {
        string line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        return ulong.Parse(line[(name.Length + 1)..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
    }
}
