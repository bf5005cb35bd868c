namespace Tend.Processes;

/// <summary>The machine's memory as /proc/meminfo reports it.</summary>
public static class MemInfo
{
    /// <summary>MemAvailable: what can be allocated without swapping, in bytes; null when unreadable.</summary>
    public static long? AvailableBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return parts.Length >= 2 && long.TryParse(parts[1], out long kib) ? kib * 1024 : null;
            }
        }
        catch (IOException) { }
        return null;
    }
}
