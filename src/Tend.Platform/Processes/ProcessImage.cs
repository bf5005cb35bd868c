using System.Runtime.InteropServices;
using System.Text;

namespace Tend.Processes;

/// <summary>
/// execve(2) for this very process: the pid, the parent, the children (and their exit statuses), the
/// child-subreaper setting and every descriptor without FD_CLOEXEC stay; the program is replaced. How
/// the daemon becomes its next version without its apps noticing (docs/architecture.md).
/// </summary>
public static class ProcessImage
{
    /// <summary>Replaces this process with <paramref name="path"/>. Returns only on failure, with the reason.</summary>
    public static unsafe string Replace(string path, IReadOnlyList<string> argv, IReadOnlyDictionary<string, string> env)
    {
        var allocations = new List<nint>();
        try
        {
            byte* file = Utf8(path, allocations);
            byte** args = (byte**)NativeMemory.AllocZeroed((nuint)(argv.Count + 1), (nuint)sizeof(nint));
            allocations.Add((nint)args);
            for (int i = 0; i < argv.Count; i++) args[i] = Utf8(argv[i], allocations);
            byte** envp = (byte**)NativeMemory.AllocZeroed((nuint)(env.Count + 1), (nuint)sizeof(nint));
            allocations.Add((nint)envp);
            int j = 0;
            foreach (var (key, value) in env) envp[j++] = Utf8(key + "=" + value, allocations);
            Interop.Sys.Execve(file, args, envp);
            return $"execve {path}: {Interop.Sys.StrError(Marshal.GetLastPInvokeError())}";
        }
        finally
        {
            foreach (nint p in allocations) NativeMemory.Free((void*)p);
        }
    }

    private static unsafe byte* Utf8(string s, List<nint> allocations)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        byte* p = (byte*)NativeMemory.Alloc((nuint)n + 1);
        allocations.Add((nint)p);
        Encoding.UTF8.GetBytes(s, new Span<byte>(p, n));
        p[n] = 0;
        return p;
    }
}
