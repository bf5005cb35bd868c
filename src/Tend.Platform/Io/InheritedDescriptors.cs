using System.Globalization;

namespace Tend.Io;

/// <summary>
/// Descriptors this process found open at start, by name: from its service manager's descriptor store
/// (systemd passes them back after a restart as LISTEN_FDS at 3, 4, … with LISTEN_FDNAMES, and
/// LISTEN_PID naming us), or from the image this process replaced with execve (TEND_FDS lists
/// name=number pairs, separated by ':'). Each is made close-on-exec as it is read, so no child
/// inherits it by accident; what nobody takes is closed by <see cref="Dispose"/>.
/// </summary>
public sealed class InheritedDescriptors : IDisposable
{
    /// <summary>The variable a replacing image is given (see <see cref="Describe"/>).</summary>
    public const string HandoverVariable = "TEND_FDS";

    private readonly Dictionary<string, List<SafeFdHandle>> _byName = new(StringComparer.Ordinal);

    public static InheritedDescriptors None => new();

    /// <summary>Names with at least one descriptor not taken yet.</summary>
    public IReadOnlyCollection<string> Names => [.. _byName.Where(p => p.Value.Count > 0).Select(p => p.Key)];

    public int Count => _byName.Values.Sum(q => q.Count);

    /// <summary>Where they came from: "upgrade" (an image this process replaced), "crash" (a service manager's store, after the daemon died), or "none".</summary>
    public string Source { get; private set; } = "none";

    /// <summary>Problems met while reading (a number that is not open, a malformed entry); nothing is thrown.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>Reads both sources, then removes their variables from this process's environment.</summary>
    public static InheritedDescriptors FromEnvironment(Func<string, string?> env, int ownPid)
    {
        var found = new InheritedDescriptors();
        if (env("LISTEN_PID") is { } listenPid && int.TryParse(listenPid, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid == ownPid
            && int.TryParse(env("LISTEN_FDS"), NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0)
        {
            string[] names = (env("LISTEN_FDNAMES") ?? "").Split(':');
            for (int i = 0; i < count; i++) found.Add(i < names.Length && names[i].Length > 0 ? names[i] : "unknown", 3 + i);
            found.Source = "crash";
        }
        if (env(HandoverVariable) is { Length: > 0 } handover)
        {
            foreach (string entry in handover.Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = entry.LastIndexOf('=');
                if (eq <= 0 || !int.TryParse(entry.AsSpan(eq + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
                    found.Problems.Add($"{HandoverVariable}: malformed entry \"{entry}\"");
                else found.Add(entry[..eq], fd);
            }
            found.Source = "upgrade";
        }
        foreach (string name in new[] { "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES", HandoverVariable })
            Environment.SetEnvironmentVariable(name, null);
        return found;
    }

    private void Add(string name, int fd)
    {
        if (fd < 3 || !Descriptors.IsOpen(fd))
        {
            Problems.Add($"{name}: descriptor {fd} is not open");
            return;
        }
        var handle = new SafeFdHandle(fd);
        try { Descriptors.SetCloseOnExec(handle, true); }
        catch (IOException e) { Problems.Add($"{name}: {e.Message}"); }
        if (!_byName.TryGetValue(name, out var list)) _byName[name] = list = [];
        list.Add(handle);
    }

    /// <summary>
    /// The descriptor stored under <paramref name="name"/>; the caller owns it. If there are several (a store
    /// that missed a removal), the newest: a service manager passes them back in the order they were stored.
    /// </summary>
    public SafeFdHandle? Take(string name)
    {
        if (!_byName.TryGetValue(name, out var list) || list.Count == 0) return null;
        SafeFdHandle newest = list[^1];
        list.RemoveAt(list.Count - 1);
        return newest;
    }

    /// <summary>The value of <see cref="HandoverVariable"/> for descriptors kept open across execve under these names.</summary>
    public static string Describe(IEnumerable<(string Name, SafeFdHandle Fd)> fds) =>
        string.Join(':', fds.Select(f => f.Name + "=" + f.Fd.Fd.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Closes whatever was not taken.</summary>
    public void Dispose()
    {
        foreach (var list in _byName.Values)
        {
            foreach (SafeFdHandle handle in list) handle.Dispose();
            list.Clear();
        }
    }
}
