using System.Globalization;
using Tend.Config;
using Tend.Io;

namespace Tend.Watch;

/// <summary>A burst of changes that has settled: the first path that changed and how many paths changed.</summary>
public sealed record WatchTrigger(string FirstPath, int Changes);

/// <summary>
/// watch: of one app (docs/config.md#watch): its paths watched with inotify (<see cref="InotifyTree"/>,
/// one watch per directory the rules do not skip), or polled (<see cref="TreePoller"/>) when inotify
/// cannot: its watch limit (the kernel's or max_watches) reached, or no inotify instance to be had.
/// Changes that count are debounced: the trigger comes once no change has come for the debounce time
/// (and at the latest 10 debounces, at least 5 s, after the first, so a file written without pause
/// still gets the app restarted).
/// </summary>
internal sealed class FileWatch : IDisposable
{
    private readonly WatchSpec _spec;
    private readonly WatchRules _rules;
    private readonly TimeProvider _time;
    private readonly Action<WatchTrigger> _onTrigger;
    private readonly Action<string> _onFallback;
    private readonly Lock _gate = new();
    private readonly ITimer _debounce;
    private InotifyTree? _tree;
    private TreePoller? _poller;
    private string? _first;
    private readonly HashSet<string> _changed = new(StringComparer.Ordinal);
    private long _burstStart;
    private bool _disposed;

    /// <param name="onTrigger">A settled burst; called on a timer thread.</param>
    /// <param name="onFallback">Polling replaced inotify, and why.</param>
    public FileWatch(WatchSpec spec, IEnumerable<string> ownPaths, TimeProvider time, Action<WatchTrigger> onTrigger, Action<string> onFallback)
    {
        _spec = spec;
        _rules = new WatchRules(spec, ownPaths);
        _time = time;
        _onTrigger = onTrigger;
        _onFallback = onFallback;
        _debounce = time.CreateTimer(_ => Fire(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>How it watches, for describe: "inotify: 12 directories" or "polling every 1s: 950 files (why)".</summary>
    public string Mode
    {
        get
        {
            lock (_gate)
            {
                if (_tree is { } tree) return $"inotify: {tree.WatchCount} directories";
                if (_poller is { } poller) return $"polling every {Units.FormatDuration(_spec.PollInterval)}: {poller.Files} files ({FallbackReason})";
                return "not watching";
            }
        }
    }

    public string? FallbackReason { get; private set; }

    /// <summary>Walks the paths and starts watching; falls back to polling when inotify cannot do it.</summary>
    public void Start()
    {
        InotifyTree tree;
        try
        {
            tree = InotifyTree.Open(OnTreeChange, _spec.MaxWatches);
        }
        catch (IOException e)
        {
            FallBack($"no inotify instance: {e.Message} (fs.inotify.max_user_instances)");
            return;
        }
        lock (_gate)
        {
            if (_disposed) { tree.Dispose(); return; }
            _tree = tree;
        }
        foreach (string dir in _rules.Directories)
        {
            int errno = tree.AddTree(dir, _rules.SkipDirectory);
            if (errno != 0)
            {
                FallBack(Why(errno, tree));
                return;
            }
        }
    }

    private string Why(int errno, InotifyTree tree) => errno == InotifyTree.LimitReached
        ? tree.WatchCount >= _spec.MaxWatches
            ? $"more than max_watches ({_spec.MaxWatches.ToString(CultureInfo.InvariantCulture)}) directories to watch"
            : $"the inotify watch limit was reached after {tree.WatchCount.ToString(CultureInfo.InvariantCulture)} directories (fs.inotify.max_user_watches is {SystemLimit()})"
        : "inotify: " + InotifyTree.ErrorText(errno);

    private static string SystemLimit()
    {
        try { return File.ReadAllText("/proc/sys/fs/inotify/max_user_watches").Trim(); }
        catch (IOException) { return "unknown"; }
    }

    private void FallBack(string why)
    {
        InotifyTree? tree;
        lock (_gate)
        {
            if (_disposed || _poller is not null) return;
            tree = _tree;
            _tree = null;
            FallbackReason = why;
        }
        tree?.Dispose();
        var poller = new TreePoller(_rules, _spec.PollInterval, _time, path => Note(path));
        lock (_gate)
        {
            if (_disposed) { poller.Dispose(); return; }
            _poller = poller;
        }
        _onFallback($"{why}: polling every {Units.FormatDuration(_spec.PollInterval)} instead");
    }

    /// <summary>On the epoll loop thread: keep it short.</summary>
    private void OnTreeChange(TreeChange change)
    {
        if (change.Overflow)
        {
            Note("(inotify queue overflow: changes were lost)");
            return;
        }
        if (change.CreatedDirectory)
        {
            if (_rules.SkipDirectory(change.Path)) return;
            // Walked off the loop thread: a directory may arrive with a large tree in it (a git checkout).
            // An empty directory changes nothing; files already in it by the time it is watched count.
            _ = Task.Run(() =>
            {
                InotifyTree? tree;
                lock (_gate) tree = _tree;
                if (tree is null) return;
                int errno = tree.AddTree(change.Path, _rules.SkipDirectory);
                if (errno != 0) { FallBack(Why(errno, tree)); return; }
                foreach (string file in FilesUnder(change.Path))
                {
                    if (_rules.Counts(file)) Note(file);
                }
            });
            return;
        }
        if (_rules.Counts(change.Path)) Note(change.Path);
    }

    private IEnumerable<string> FilesUnder(string dir)
    {
        var options = new EnumerationOptions { AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
        var pending = new Stack<string>([dir]);
        while (pending.Count > 0)
        {
            string current = pending.Pop();
            string[] files, dirs;
            try
            {
                files = Directory.GetFiles(current, "*", options);
                dirs = Directory.GetDirectories(current, "*", options);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            foreach (string file in files) yield return file;
            foreach (string sub in dirs)
            {
                if (!_rules.SkipDirectory(sub)) pending.Push(sub);
            }
        }
    }

    private void Note(string path)
    {
        lock (_gate)
        {
            if (_disposed) return;
            long now = _time.GetTimestamp();
            if (_first is null)
            {
                _first = path;
                _burstStart = now;
            }
            if (_changed.Count < 100_000) _changed.Add(path);
            TimeSpan maxWait = TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(5).Ticks, _spec.Debounce.Ticks * 10));
            TimeSpan left = maxWait - _time.GetElapsedTime(_burstStart);
            TimeSpan due = left < _spec.Debounce ? left : _spec.Debounce;
            _debounce.Change(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
        }
    }

    private void Fire()
    {
        WatchTrigger trigger;
        lock (_gate)
        {
            if (_disposed || _first is null) return;
            trigger = new WatchTrigger(_first, _changed.Count);
            _first = null;
            _changed.Clear();
        }
        _onTrigger(trigger);
    }

    public void Dispose()
    {
        InotifyTree? tree;
        TreePoller? poller;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            tree = _tree;
            poller = _poller;
            _tree = null;
            _poller = null;
        }
        _debounce.Dispose();
        tree?.Dispose();
        poller?.Dispose();
    }
}
