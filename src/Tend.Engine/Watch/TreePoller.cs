namespace Tend.Watch;

/// <summary>
/// The fallback when inotify cannot watch a tree (its watch limit reached, no instance left): every
/// poll interval the tree is walked, skipping what the rules skip, and each file whose size or
/// modification time moved, that appeared or that went away is reported. The first walk is the baseline.
/// </summary>
internal sealed class TreePoller : IDisposable
{
    private readonly WatchRules _rules;
    private readonly Action<string> _onChange;
    private readonly ITimer _timer;
    private Dictionary<string, (long Ticks, long Length)>? _last;
    private int _scanning;

    public TreePoller(WatchRules rules, TimeSpan interval, TimeProvider time, Action<string> onChange)
    {
        _rules = rules;
        _onChange = onChange;
        _last = Scan();
        _timer = time.CreateTimer(_ => Tick(), null, interval, interval);
    }

    /// <summary>How many files the last walk saw.</summary>
    public int Files => Volatile.Read(ref _last)?.Count ?? 0;

    private void Tick()
    {
        if (Interlocked.Exchange(ref _scanning, 1) != 0) return; // a slow walk is not doubled
        try
        {
            var now = Scan();
            var before = _last!;
            foreach (var (path, stamp) in now)
            {
                if (!before.TryGetValue(path, out var old) || old != stamp) _onChange(path);
            }
            foreach (string path in before.Keys)
            {
                if (!now.ContainsKey(path)) _onChange(path);
            }
            Volatile.Write(ref _last, now);
        }
        finally
        {
            Volatile.Write(ref _scanning, 0);
        }
    }

    private Dictionary<string, (long, long)> Scan()
    {
        var files = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        var options = new EnumerationOptions { AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        var pending = new Stack<string>(_rules.Directories);
        while (pending.Count > 0)
        {
            string dir = pending.Pop();
            try
            {
                foreach (FileSystemInfo entry in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options))
                {
                    if (entry is DirectoryInfo)
                    {
                        if (!_rules.SkipDirectory(entry.FullName)) pending.Push(entry.FullName);
                    }
                    else if (_rules.Counts(entry.FullName) && entry is FileInfo file)
                    {
                        files[entry.FullName] = (file.LastWriteTimeUtc.Ticks, file.Length);
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone or unreadable meanwhile
            }
        }
        return files;
    }

    public void Dispose() => _timer.Dispose();
}
