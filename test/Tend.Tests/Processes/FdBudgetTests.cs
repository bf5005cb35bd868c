using Tend.Io;
using Tend.Processes;

namespace Tend.Tests.Processes;

// Counts this process's descriptors, so nothing else may open or close any meanwhile.
[CollectionDefinition(nameof(FdBudgetCollection), DisableParallelization = true)]
public sealed class FdBudgetCollection;

[Collection(nameof(FdBudgetCollection))]
public sealed class FdBudgetTests
{
    private static unsafe List<SafeFdHandle> OpenPipes(int count)
    {
        var handles = new List<SafeFdHandle>();
        int* fds = stackalloc int[2];
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(0, Interop.Sys.Pipe2(fds, Interop.Sys.O_CLOEXEC));
            handles.Add(new SafeFdHandle(fds[0]));
            handles.Add(new SafeFdHandle(fds[1]));
        }
        return handles;
    }

    [Fact]
    public void InUse_CountsEveryOpenDescriptor_AsTheFdDirectoryListsThem()
    {
        // Nothing in this collection runs beside it, but what earlier tests left to finish (a drain
        // closing its pipe on a pool thread, a child reaped late) may still open or close a descriptor
        // meanwhile. A round counts only when the listing reads the same just before and just after
        // the count; up to 20 rounds, so a quiet moment is found, and a wrong count fails every round.
        string? last = null;
        for (int round = 0; round < 20; round++)
        {
            int before = FdBudget.InUse();
            List<SafeFdHandle> pipes = OpenPipes(50);
            int listedBefore, during, listedAfter;
            try
            {
                // The listing holds one descriptor of its own while it enumerates.
                listedBefore = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() - 1;
                during = FdBudget.InUse();
                listedAfter = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() - 1;
            }
            finally
            {
                foreach (SafeFdHandle handle in pipes) handle.Dispose();
            }
            int after = FdBudget.InUse();
            if (listedBefore != listedAfter || before != after)
            {
                last = $"round {round}: the process opened or closed descriptors meanwhile ({before}/{after}, listed {listedBefore}/{listedAfter})";
                Thread.Sleep(50);
                continue;
            }
            Assert.Equal(listedBefore, during);
            Assert.Equal(before + 100, during);
            return;
        }
        Assert.Fail("never a quiet moment to count in: " + last);
    }
}
