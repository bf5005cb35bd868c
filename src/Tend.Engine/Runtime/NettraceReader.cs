using System.Buffers.Binary;
using System.Text;

namespace Tend.Runtime;

/// <summary>
/// A reader for the part of the EventPipe "nettrace" stream (format V5, what every runtime since
/// .NET Core 3.0 sends over the diagnostic socket) that counters need: metadata and events, with
/// the payload of each event decoded into its leaf fields by the metadata's field list.
///
/// Why not TraceEvent: its EventPipeEventSource holds events back until the runtime writes its
/// next sequence point, and for a session that carries only counters that can be minutes, or the
/// end of the session (a known issue of TraceEvent); it also brings several megabytes and a
/// thread per session. The part of the format read here is small and documented
/// (docs/design/specs/NetTraceFormat.md in the diagnostics repository):
///
///   "Nettrace", int32 20, "!FastSerialization.1", then objects until a NullReference tag (1):
///   BeginObject(5) BeginObject(5) NullReference(1) int32 version int32 minReaderVersion
///   int32 nameLength name EndObject(6) — the type — then the body and EndObject(6).
///   "Trace": a fixed 48-byte header. Every other object is a block: int32 size, zero padding to
///   a 4-byte boundary of the stream, size bytes. "MetadataBlock" and "EventBlock" hold events
///   (header: int16 size, int16 flags, the rest skipped; flag 1 = compressed event headers);
///   "StackBlock" and "SPBlock" are skipped.
///
/// Anything unexpected throws <see cref="InvalidDataException"/>: the caller ends that session and
/// tries again later; a bad stream never reaches an instance.
/// </summary>
public sealed class NettraceReader
{
    private const int MaxBlockBytes = 64 * 1024 * 1024;

    private readonly Stream _stream;
    private readonly Action<EventMetadata, Dictionary<string, object>> _onEvent;
    private readonly Dictionary<int, EventMetadata> _metadata = [];
    private readonly byte[] _small = new byte[64];
    private byte[] _block = new byte[16 * 1024];
    private long _position;

    /// <param name="onEvent">Called for each event with its metadata and decoded leaf fields, on the reading task.</param>
    /// <param name="wanted">Which events to decode; the others are skipped unread.</param>
    public NettraceReader(Stream stream, Action<EventMetadata, Dictionary<string, object>> onEvent, Func<EventMetadata, bool> wanted)
    {
        _stream = stream;
        _onEvent = onEvent;
        _wanted = wanted;
    }

    private readonly Func<EventMetadata, bool> _wanted;

    /// <summary>What an event is: its provider, name, and the fields its payload holds.</summary>
    public sealed record EventMetadata(int Id, string Provider, int EventId, string Name, IReadOnlyList<Field> Fields);

    /// <summary>One field of a payload: a TypeCode, its nested fields when it is an object (1), its element when an array (19).</summary>
    public sealed record Field(string Name, int TypeCode, IReadOnlyList<Field>? Nested = null, Field? Element = null);

    /// <summary>Reads until the stream ends (the runtime ended the session or the process is gone) or <paramref name="ct"/> fires.</summary>
    public async Task ReadAsync(CancellationToken ct)
    {
        await ExpectAsync("Nettrace"u8.ToArray(), ct).ConfigureAwait(false);
        int magicLength = await ReadInt32Async(ct).ConfigureAwait(false);
        if (magicLength != 20) throw new InvalidDataException($"unexpected serializer header length {magicLength}");
        await ExpectAsync("!FastSerialization.1"u8.ToArray(), ct).ConfigureAwait(false);

        while (true)
        {
            byte tag = await ReadByteOrEndAsync(ct).ConfigureAwait(false) ?? 1;
            if (tag == 1) return; // NullReference: the end of the trace
            Want(tag, 5);
            Want(await ReadByteAsync(ct).ConfigureAwait(false), 5);
            Want(await ReadByteAsync(ct).ConfigureAwait(false), 1);
            await ReadInt32Async(ct).ConfigureAwait(false); // version
            await ReadInt32Async(ct).ConfigureAwait(false); // minimum reader version
            int nameLength = await ReadInt32Async(ct).ConfigureAwait(false);
            if (nameLength is < 1 or > 64) throw new InvalidDataException($"unexpected object name length {nameLength}");
            await ReadExactAsync(_small, nameLength, ct).ConfigureAwait(false);
            string type = Encoding.ASCII.GetString(_small, 0, nameLength);
            Want(await ReadByteAsync(ct).ConfigureAwait(false), 6);

            if (type == "Trace")
            {
                await ReadExactAsync(_small, 48, ct).ConfigureAwait(false);
            }
            else
            {
                int size = await ReadInt32Async(ct).ConfigureAwait(false);
                if (size is < 0 or > MaxBlockBytes) throw new InvalidDataException($"unexpected {type} size {size}");
                int padding = (int)((4 - _position % 4) % 4);
                if (padding > 0) await ReadExactAsync(_small, padding, ct).ConfigureAwait(false);
                if (_block.Length < size) _block = new byte[Math.Max(size, _block.Length * 2)];
                await ReadExactAsync(_block, size, ct).ConfigureAwait(false);
                if (type == "MetadataBlock") ReadEvents(_block.AsSpan(0, size), metadata: true);
                else if (type == "EventBlock") ReadEvents(_block.AsSpan(0, size), metadata: false);
            }
            Want(await ReadByteAsync(ct).ConfigureAwait(false), 6);
        }
    }

    private void ReadEvents(ReadOnlySpan<byte> block, bool metadata)
    {
        var r = new SpanReader(block);
        int headerSize = r.Int16();
        int flags = r.Int16();
        if (headerSize < 4) throw new InvalidDataException($"unexpected block header size {headerSize}");
        r.Skip(headerSize - 4);
        bool compressed = (flags & 1) != 0;
        // Compressed headers are deltas against the previous event's, starting afresh in each block.
        int metadataId = 0;
        int payloadSize = 0;
        while (!r.AtEnd)
        {
            if (compressed)
            {
                byte f = r.Byte();
                if ((f & 1) != 0) metadataId = (int)r.VarUInt32();
                if ((f & 2) != 0) { r.VarUInt32(); r.VarUInt64(); r.VarUInt32(); } // sequence delta, capture thread, processor
                if ((f & 4) != 0) r.VarUInt64();                                      // thread
                if ((f & 8) != 0) r.VarUInt32();                                      // stack
                r.VarUInt64();                                                        // timestamp delta
                if ((f & 16) != 0) r.Skip(16);                                        // activity id
                if ((f & 32) != 0) r.Skip(16);                                        // related activity id
                if ((f & 128) != 0) payloadSize = (int)r.VarUInt32();
                Dispatch(r.Bytes(payloadSize), metadataId, metadata);
            }
            else
            {
                int eventSize = r.Int32();
                int start = r.Position;
                metadataId = r.Int32() & 0x7FFFFFFF;
                r.Skip(4 + 8 + 8 + 4 + 4 + 8 + 16 + 16); // sequence, thread, capture thread, processor, stack, timestamp, activity ids
                payloadSize = r.Int32();
                Dispatch(r.Bytes(payloadSize), metadataId, metadata);
                r.Skip(start + eventSize - r.Position);
                r.Skip((4 - r.Position % 4) % 4);
            }
        }
    }

    private void Dispatch(ReadOnlySpan<byte> payload, int metadataId, bool isMetadata)
    {
        if (isMetadata)
        {
            EventMetadata m = ReadMetadata(payload);
            _metadata[m.Id] = m;
            return;
        }
        if (!_metadata.TryGetValue(metadataId, out EventMetadata? meta) || !_wanted(meta)) return;
        var r = new SpanReader(payload);
        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        foreach (Field field in meta.Fields) ReadValue(ref r, field, values);
        _onEvent(meta, values);
    }

    /// <summary>A metadata event's payload: ids and names, then the fields (V1 parameter format); tagged V5 extras are ignored.</summary>
    internal static EventMetadata ReadMetadata(ReadOnlySpan<byte> payload)
    {
        var r = new SpanReader(payload);
        int id = r.Int32();
        string provider = r.Utf16z();
        int eventId = r.Int32();
        string name = r.Utf16z();
        r.Skip(8 + 4 + 4); // keywords, version, level
        var fields = new List<Field>();
        if (!r.AtEnd)
        {
            int count = r.Int32();
            for (int i = 0; i < count; i++) fields.Add(ReadField(ref r, depth: 0));
        }
        return new EventMetadata(id, provider, eventId, name, fields);
    }

    private static Field ReadField(ref SpanReader r, int depth)
    {
        if (depth > 8) throw new InvalidDataException("fields nested too deep");
        int typeCode = r.Int32();
        List<Field>? nested = null;
        Field? element = null;
        if (typeCode == 1)
        {
            int count = r.Int32();
            if (count is < 0 or > 256) throw new InvalidDataException($"unexpected nested field count {count}");
            nested = [];
            for (int i = 0; i < count; i++) nested.Add(ReadField(ref r, depth + 1));
        }
        else if (typeCode == 19)
        {
            int elementType = r.Int32();
            element = new Field("", elementType);
            if (elementType == 1)
            {
                int count = r.Int32();
                var inner = new List<Field>();
                for (int i = 0; i < count; i++) inner.Add(ReadField(ref r, depth + 1));
                element = element with { Nested = inner };
            }
        }
        return new Field(r.Utf16z(), typeCode, nested, element);
    }

    /// <summary>Decodes one field; leaves (numbers, strings) go into <paramref name="into"/> by name, objects are flattened.</summary>
    private static void ReadValue(ref SpanReader r, Field field, Dictionary<string, object> into)
    {
        switch (field.TypeCode)
        {
            case 1:
                foreach (Field f in field.Nested!) ReadValue(ref r, f, into);
                return;
            case 19:
                int length = r.UInt16();
                var scratch = new Dictionary<string, object>();
                for (int i = 0; i < length; i++) ReadValue(ref r, field.Element!, scratch); // skipped: counters have no arrays
                return;
        }
        object value = field.TypeCode switch
        {
            3 => r.Int32() != 0,                 // Boolean, written as 4 bytes
            4 => (char)r.UInt16(),
            5 => (sbyte)r.Byte(),
            6 => r.Byte(),
            7 => (short)r.UInt16(),
            8 => r.UInt16(),
            9 => r.Int32(),
            10 => (uint)r.Int32(),
            11 => r.Int64(),
            12 => (ulong)r.Int64(),
            13 => BitConverter.Int32BitsToSingle(r.Int32()),
            14 => BitConverter.Int64BitsToDouble(r.Int64()),
            15 => r.Bytes(16).ToArray(),
            16 => r.Int64(),
            17 => new Guid(r.Bytes(16)),
            18 => r.Utf16z(),
            _ => throw new InvalidDataException($"unexpected field type {field.TypeCode} of {field.Name}"),
        };
        if (field.Name.Length > 0) into[field.Name] = value;
    }

    private static void Want(byte got, byte expected)
    {
        if (got != expected) throw new InvalidDataException($"expected tag {expected}, got {got}");
    }

    private async Task ExpectAsync(byte[] expected, CancellationToken ct)
    {
        await ReadExactAsync(_small, expected.Length, ct).ConfigureAwait(false);
        if (!_small.AsSpan(0, expected.Length).SequenceEqual(expected)) throw new InvalidDataException("not a nettrace stream");
    }

    private async Task<int> ReadInt32Async(CancellationToken ct)
    {
        await ReadExactAsync(_small, 4, ct).ConfigureAwait(false);
        return BinaryPrimitives.ReadInt32LittleEndian(_small);
    }

    private async Task<byte> ReadByteAsync(CancellationToken ct) =>
        await ReadByteOrEndAsync(ct).ConfigureAwait(false) ?? throw new EndOfStreamException("the trace stream ended inside an object");

    private async Task<byte?> ReadByteOrEndAsync(CancellationToken ct)
    {
        int n = await _stream.ReadAsync(_small.AsMemory(0, 1), ct).ConfigureAwait(false);
        if (n == 0) return null;
        _position++;
        return _small[0];
    }

    private async Task ReadExactAsync(byte[] buffer, int count, CancellationToken ct)
    {
        await _stream.ReadExactlyAsync(buffer.AsMemory(0, count), ct).ConfigureAwait(false);
        _position += count;
    }

    /// <summary>Little-endian reads over one block or payload; running off the end throws InvalidDataException.</summary>
    private ref struct SpanReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        public int Position { get; private set; }
        public readonly bool AtEnd => Position >= _data.Length;

        public ReadOnlySpan<byte> Bytes(int count)
        {
            if (count < 0 || Position + count > _data.Length) throw new InvalidDataException("a record runs past its block");
            ReadOnlySpan<byte> s = _data.Slice(Position, count);
            Position += count;
            return s;
        }

        public void Skip(int count) => Bytes(count);
        public byte Byte() => Bytes(1)[0];
        public ushort UInt16() => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2));
        public short Int16() => BinaryPrimitives.ReadInt16LittleEndian(Bytes(2));
        public int Int32() => BinaryPrimitives.ReadInt32LittleEndian(Bytes(4));
        public long Int64() => BinaryPrimitives.ReadInt64LittleEndian(Bytes(8));

        public uint VarUInt32() => (uint)VarUInt64(maxBytes: 5);

        public ulong VarUInt64(int maxBytes = 10)
        {
            ulong value = 0;
            for (int i = 0; i < maxBytes; i++)
            {
                byte b = Byte();
                value |= (ulong)(b & 0x7F) << (7 * i);
                if ((b & 0x80) == 0) return value;
            }
            throw new InvalidDataException("a variable-length number is too long");
        }

        public string Utf16z()
        {
            ReadOnlySpan<byte> rest = _data[Position..];
            for (int i = 0; i + 1 < rest.Length; i += 2)
            {
                if (rest[i] == 0 && rest[i + 1] == 0)
                {
                    string s = Encoding.Unicode.GetString(rest[..i]);
                    Position += i + 2;
                    return s;
                }
            }
            throw new InvalidDataException("a string runs past its block");
        }
    }
}
