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
        int before = FdBudget.InUse();
        List<SafeFdHandle> pipes = OpenPipes(50);
        try
        {
            int during = FdBudget.InUse();
            // The listing holds one descriptor of its own while it enumerates.
            int listed = Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() - 1;

            Assert.Equal(before + 100, during);
            Assert.Equal(listed, during);
        }
        finally
        {
            foreach (SafeFdHandle handle in pipes) handle.Dispose();
        }
        Assert.Equal(before, FdBudget.InUse());
    }
}
