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
