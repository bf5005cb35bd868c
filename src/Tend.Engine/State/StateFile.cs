using System.Text.Json;

namespace Tend.State;

/// <summary>
/// Reads and writes a <see cref="PersistedState"/> atomically: write a temporary file, fsync it,
/// rename it over the old one, fsync the directory. A reader therefore sees the old state or the
/// new one, never half of either, whether the daemon is SIGKILLed or the machine loses power.
/// The previous good version is kept as "&lt;name&gt;.bak" and used when the main file is corrupt.
/// </summary>
public static class StateFile
{
    public static void Write(string path, PersistedState state, bool keepBackup)
    {
        string dir = Path.GetDirectoryName(path)!;
        Directory.CreateDirectory(dir);
        string tmp = path + ".tmp";
        byte[] bytes = JsonSerializer.SerializeToUtf8Bytes(state, StateJsonContext.Default.PersistedState);
        try
        {
            using var fs = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
            // A full disk: the file in place stays as it was (never half written), and the partial
            // temporary file goes, so that it does not hold on to the space that is short.
            try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        // With a backup: the current file is hard-linked as "<name>.bak", then the new one renamed over
        // it (File.Replace on Linux), so there is always a complete file at the path.
        if (keepBackup && File.Exists(path)) File.Replace(tmp, path, path + ".bak", ignoreMetadataErrors: true);
        else File.Move(tmp, path, overwrite: true);
        FsyncDirectory(dir);
    }

    /// <summary>
    /// The state at path, or its backup when the main file is missing or corrupt. Null when
    /// neither exists. Problems are reported through <paramref name="problems"/>, never thrown:
    /// a corrupt file must not keep the daemon from starting.
    /// </summary>
    public static PersistedState? Read(string path, List<string> problems)
    {
        foreach (string candidate in new[] { path, path + ".bak" })
        {
            if (!File.Exists(candidate)) continue;
            try
            {
                var state = JsonSerializer.Deserialize(File.ReadAllBytes(candidate), StateJsonContext.Default.PersistedState);
                if (state is null || state.Version != PersistedState.CurrentVersion)
                {
                    problems.Add($"{candidate}: unsupported or empty state (version {state?.Version})");
                    continue;
                }
                if (candidate != path) problems.Add($"using backup {candidate}");
                return state;
            }
            catch (Exception ex) when (ex is JsonException or IOException or NotSupportedException or InvalidOperationException)
            {
                problems.Add($"{candidate}: {ex.Message}");
            }
        }
        return null;
    }

    /// <summary>
    /// Makes the rename itself durable. open(2), not File.OpenHandle: .NET refuses to open a
    /// directory (it threw on every save, so the directory was never synced). Best effort: a
    /// failure here loses nothing that the next save won't write again.
    /// </summary>
    private static void FsyncDirectory(string dir) => _ = Tend.Io.DirectorySync.TrySync(dir);

}
