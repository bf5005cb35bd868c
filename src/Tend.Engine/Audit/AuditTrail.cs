using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Tend.Hashing;
using Tend.Io;
using Tend.Security;

namespace Tend.Audit;

/// <summary>
/// $TEND_HOME/audit.log (docs/audit.md): one JSON line per action that changed anything, by whom, on
/// what, with what outcome, chained by SHA-256 so that an edited, inserted or removed record is
/// found by <see cref="Verify"/>. Each record carries the hash of the one before it ("prev") and its
/// own ("hash", over the exact bytes of the line before the hash field), so the chain checks the
/// bytes as written rather than a re-serialisation. Rotated at <see cref="RotateBytes"/> into
/// audit.log.1 … .<see cref="KeptFiles"/>; the chain runs on across files, and verification starts
/// at the oldest file still there. Mode 0600; secrets masked as everywhere.
/// </summary>
public sealed class AuditTrail : IDisposable
{
    public const string FileName = "audit.log";
    public const int KeptFiles = 5;
    private const string HashField = ",\"hash\":\"";
    private static readonly string s_genesis = new('0', 64);
    // Readable lines ("+", quotes and non-ASCII as they are); still valid JSON, one record per line.
    private static readonly JsonWriterOptions s_writerOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly string _path;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private AppendFile? _file;
    private long _size;
    private long _lastSeq;
    private string _lastHash = s_genesis;

    private AuditTrail(string home, TimeProvider time, ILogger logger, long rotateBytes)
    {
        RotateBytes = rotateBytes;
        _path = System.IO.Path.Combine(home, FileName);
        _time = time;
        _logger = logger;
    }

    /// <summary>Where audit.log rotates: 10 MiB unless opened with another size.</summary>
    public long RotateBytes { get; }

    public const long DefaultRotateBytes = 10 * 1024 * 1024;

    public string Path => _path;

    /// <summary>The seq of the last record this trail wrote or found at open (0: none).</summary>
    public long LastSeq { get { lock (_gate) return _lastSeq; } }

    /// <summary>Opens (creating it 0600) and continues the chain from the last record on disk.</summary>
    public static AuditTrail Open(string home, TimeProvider time, ILogger logger, long rotateBytes = DefaultRotateBytes)
    {
        var trail = new AuditTrail(home, time, logger, rotateBytes);
        foreach (string file in trail.Files().Reverse())
        {
            if (LastRecord(file) is { } last)
            {
                trail._lastSeq = last.Seq;
                trail._lastHash = last.Hash;
                break;
            }
        }
        trail.OpenFile();
        return trail;
    }

    private void OpenFile()
    {
        _file = AppendFile.OpenOrCreate(_path, 0x180 /* 0600 */);
        _size = _file.Status()?.Size ?? 0;
    }

    /// <summary>Records one entry; never throws (a full disk is logged in daemon.log, and the action goes on).</summary>
    public AuditRecord? Append(AuditEntry entry)
    {
        lock (_gate)
        {
            try
            {
                long seq = _lastSeq + 1;
                DateTimeOffset now = _time.GetUtcNow();
                byte[] prefix = Prefix(seq, now, entry, _lastHash);
                string hash = Convert.ToHexStringLower(Sha256.Hash(prefix));
                byte[] tail = Encoding.UTF8.GetBytes(HashField + hash + "\"}\n");
                if (_size > 0 && _size + prefix.Length + tail.Length > RotateBytes) Rotate();
                byte[] line = [.. prefix, .. tail];
                _file!.WriteAll(line);
                _size += line.Length;
                var record = new AuditRecord(seq, now, entry.Actor, entry.Action, Mask(entry.Target), entry.Outcome, Mask(entry.Detail), _lastHash, hash);
                _lastSeq = seq;
                _lastHash = hash;
                return record;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                AuditLog.WriteFailed(_logger, _path, entry.Action, e.Message);
                return null;
            }
        }
    }

    private void Rotate()
    {
        _file?.Dispose();
        for (int i = KeptFiles; i >= 1; i--)
        {
            string from = i == 1 ? _path : $"{_path}.{i - 1}";
            string to = $"{_path}.{i}";
            if (File.Exists(from)) File.Move(from, to, overwrite: true);
        }
        OpenFile();
    }

    private static string? Mask(string? text) => SecretMask.Text(text);

    /// <summary>The line up to (not including) its hash field: what the hash covers.</summary>
    private static byte[] Prefix(long seq, DateTimeOffset time, AuditEntry entry, string prev)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, s_writerOptions))
        {
            w.WriteStartObject();
            w.WriteNumber("seq", seq);
            w.WriteString("time", time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteStartObject("actor");
            AuditActor a = entry.Actor;
            w.WriteString("kind", a.Kind.ToString().ToLowerInvariant());
            if (a.Uid is uint uid) w.WriteNumber("uid", uid);
            if (a.Gid is uint gid) w.WriteNumber("gid", gid);
            if (a.Pid is int pid) w.WriteNumber("pid", pid);
            if (a.User is { } user) w.WriteString("user", user);
            if (a.Executable is { } exe) w.WriteString("exe", exe);
            if (a.TokenId is { } token) w.WriteString("token_id", token);
            if (a.Peer is { } peer) w.WriteString("peer", peer);
            w.WriteEndObject();
            w.WriteString("action", entry.Action);
            if (Mask(entry.Target) is { } target) w.WriteString("target", target);
            w.WriteString("outcome", entry.Outcome);
            if (Mask(entry.Detail) is { } detail) w.WriteString("detail", detail);
            w.WriteString("prev", prev);
            w.WriteEndObject();
        }
        ReadOnlySpan<byte> whole = buffer.WrittenSpan;
        return whole[..^1].ToArray(); // without the closing brace: the hash field goes there
    }

    /// <summary>audit.log and its rotated files, oldest first.</summary>
    public IEnumerable<string> Files()
    {
        for (int i = KeptFiles; i >= 1; i--)
            if (File.Exists($"{_path}.{i}")) yield return $"{_path}.{i}";
        if (File.Exists(_path)) yield return _path;
    }

    /// <summary>Every readable record, oldest first, optionally since a time and about one app (its target, or an instance of it).</summary>
    public IReadOnlyList<AuditRecord> Read(DateTimeOffset? since = null, string? app = null)
    {
        var records = new List<AuditRecord>();
        foreach (string file in Files())
        {
            foreach (string line in ReadLines(file))
            {
                if (Parse(line) is not { } r) continue;
                if (since is { } s && r.Time < s) continue;
                if (app is not null && !About(r, app)) continue;
                records.Add(r);
            }
        }
        return records;
    }

    private static bool About(AuditRecord r, string app) =>
        r.Target is { } t && (t == app || t.StartsWith(app + "#", StringComparison.Ordinal) || t == "all");

    /// <summary>
    /// Checks every line of every file, oldest first: each must parse, hash to its own hash field, name
    /// the record before it as prev, and follow it in seq. Reports the first problems by file, line and
    /// seq. With <paramref name="lastWritten"/> (the live daemon's last seq), a removed last record is found too.
    /// </summary>
    public AuditVerification Verify(long? lastWritten = null) => Verify(Files().ToList(), lastWritten);

    internal static AuditVerification Verify(IReadOnlyList<string> files, long? lastWritten)
    {
        var problems = new List<string>();
        long count = 0;
        long? first = null, lastSeq = null;
        string? prevHash = null;
        foreach (string file in files)
        {
            int lineNo = 0;
            foreach (string line in ReadLines(file))
            {
                lineNo++;
                string where = $"{System.IO.Path.GetFileName(file)} line {lineNo}";
                int at = line.LastIndexOf(HashField, StringComparison.Ordinal);
                AuditRecord? r = at > 0 ? Parse(line) : null;
                if (r is null)
                {
                    problems.Add($"{where}: not a record (edited or cut)");
                    prevHash = null;
                    continue;
                }
                count++;
                first ??= r.Seq;
                string computed = Convert.ToHexStringLower(Sha256.Hash(Encoding.UTF8.GetBytes(line[..at])));
                if (computed != r.Hash) problems.Add($"{where} (seq {r.Seq}): its content does not match its hash (the record was edited)");
                if (lastSeq is long before && r.Seq != before + 1)
                    problems.Add(r.Seq > before + 1
                        ? $"{where} (seq {r.Seq}): records {before + 1}–{r.Seq - 1} are missing (removed)"
                        : $"{where} (seq {r.Seq}): out of order after seq {before} (inserted or moved)");
                else if (prevHash is not null && r.Prev != prevHash)
                    problems.Add($"{where} (seq {r.Seq}): the record before it is not the one it was chained to (edited, removed or replaced)");
                lastSeq = r.Seq;
                prevHash = r.Hash;
            }
        }
        if (lastWritten is long written && written > (lastSeq ?? 0))
            problems.Add(lastSeq is null
                ? $"the daemon has written records up to seq {written}, and none are left (the log was emptied or removed)"
                : $"the daemon has written records up to seq {written}, and the log ends at seq {lastSeq} (the last records were removed)");
        return new AuditVerification(problems.Count == 0, count, first, lastSeq, problems);
    }

    private static IEnumerable<string> ReadLines(string file)
    {
        string[] lines;
        try { lines = File.ReadAllLines(file); }
        catch (FileNotFoundException) { yield break; }
        foreach (string line in lines) if (line.Length > 0) yield return line;
    }

    private static AuditRecord? LastRecord(string file)
    {
        AuditRecord? last = null;
        foreach (string line in ReadLines(file)) last = Parse(line) ?? last;
        return last;
    }

    internal static AuditRecord? Parse(string line)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement root = doc.RootElement;
            JsonElement actor = root.GetProperty("actor");
            ActorKind kind = actor.GetProperty("kind").GetString() switch
            {
                "user" => ActorKind.User,
                "token" => ActorKind.Token,
                _ => ActorKind.System,
            };
            var who = new AuditActor(kind,
                actor.TryGetProperty("uid", out var uid) ? uid.GetUInt32() : null,
                actor.TryGetProperty("gid", out var gid) ? gid.GetUInt32() : null,
                actor.TryGetProperty("pid", out var pid) ? pid.GetInt32() : null,
                Str(actor, "user"), Str(actor, "exe"), Str(actor, "token_id"), Str(actor, "peer"));
            return new AuditRecord(root.GetProperty("seq").GetInt64(),
                DateTimeOffset.Parse(root.GetProperty("time").GetString()!, CultureInfo.InvariantCulture),
                who, root.GetProperty("action").GetString()!, Str(root, "target"), root.GetProperty("outcome").GetString()!,
                Str(root, "detail"), root.GetProperty("prev").GetString()!, root.GetProperty("hash").GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static string? Str(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public void Dispose()
    {
        lock (_gate) _file?.Dispose();
    }
}

internal static partial class AuditLog
{
    [LoggerMessage(3101, LogLevel.Error, "could not write the audit record of {Action} to {Path}: {Error}")]
    public static partial void WriteFailed(ILogger logger, string path, string action, string error);
}
