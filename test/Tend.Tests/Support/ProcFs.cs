namespace Tend.Tests.Support;

/// <summary>Facts about processes, read from /proc: what tests check instead of trusting Tend.</summary>
public static partial class ProcFs
{
    /// <summary>True while the pid exists and is not a zombie.</summary>
    public static bool IsRunning(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            char state = stat[stat.LastIndexOf(')') + 2];
            return state != 'Z' && state != 'X';
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    /// <summary>The parent of <paramref name="pid"/> (field 4 of its stat), or null once it is gone.</summary>
    public static int? ReadParentPid(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { return null; }
    }

    /// <summary>Pids of live processes whose environment has NAME=value (how tests find everything a TEND_HOME started).</summary>
    public static List<int> WithEnvironment(string name, string value)
    {
        var found = new List<int>();
        string needle = name + "=" + value;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId) continue;
            try
            {
                string env = File.ReadAllText(Path.Combine(dir, "environ"));
                if (env.Split('\0').Contains(needle) && IsRunning(pid)) found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>argv, or empty once the process is gone.</summary>
    public static string[] CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries); }
        catch (IOException) { return []; }
        catch (UnauthorizedAccessException) { return []; }
    }

    /// <summary>The files a process has mapped: for a .NET process, every assembly it has loaded.</summary>
    public static HashSet<string> MappedFiles(int pid)
    {
        var files = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines($"/proc/{pid}/maps"))
        {
            int slash = line.IndexOf('/', StringComparison.Ordinal);
            if (slash >= 0) files.Add(line[slash..]);
        }
        return files;
    }

    /// <summary>VmRSS of <paramref name="pid"/> in bytes (0 once it is gone).</summary>
    public static long ReadRssBytes(int pid)
    {
        try
        {
            string line = File.ReadAllLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)) ?? "VmRSS: 0 kB";
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        catch (IOException) { return 0; }
    }

    /// <summary>The process group of <paramref name="pid"/> (field 5 of its stat), or null once it is gone.</summary>
    public static int? ProcessGroup(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException) { return null; }
    }

    public static void Kill(int pid, int signal = 9)
    {
        _ = Native.kill(pid, signal);
    }

    private static partial class Native
    {
        [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
        internal static partial int kill(int pid, int sig);
    }
}
