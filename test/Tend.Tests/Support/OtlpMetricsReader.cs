using System.Buffers.Binary;
using System.Text;

namespace Tend.Tests.Support;

/// <summary>What a test needs of one OTLP metrics export: resource attributes, and per metric its name, unit, kind and points.</summary>
public sealed record OtlpMetrics(IReadOnlyDictionary<string, string> Resource, string Scope, IReadOnlyList<OtlpMetric> Metrics);

/// <summary>kind: gauge, sum or another data field's name; for a sum, whether it is monotonic.</summary>
public sealed record OtlpMetric(string Name, string Unit, string Kind, bool Monotonic, IReadOnlyList<OtlpPoint> Points);

public sealed record OtlpPoint(IReadOnlyDictionary<string, string> Attributes, double Value);

/// <summary>
/// A small reader of the protobuf wire format, for an <c>ExportMetricsServiceRequest</c> (OTLP
/// metrics over http/protobuf): it walks fields by number and wire type and keeps only what the
/// tests look at — resource and point attributes as strings, metric name and unit, gauge and sum
/// points with their numeric value. Field numbers are those of opentelemetry-proto's
/// metrics/v1/metrics.proto and common/v1/common.proto. Everything else is skipped.
/// </summary>
public static class OtlpMetricsReader
{
    public static OtlpMetrics Read(ReadOnlySpan<byte> request)
    {
        var resource = new Dictionary<string, string>();
        var metrics = new List<OtlpMetric>();
        string scope = "";
        // ExportMetricsServiceRequest { repeated ResourceMetrics resource_metrics = 1; }
        foreach (var (field, _, rm) in Fields(request.ToArray()))
        {
            if (field != 1) continue;
            // ResourceMetrics { Resource resource = 1; repeated ScopeMetrics scope_metrics = 2; }
            foreach (var (f, _, value) in Fields(rm))
            {
                if (f == 1)
                {
                    // Resource { repeated KeyValue attributes = 1; }
                    foreach (var (af, _, kv) in Fields(value)) if (af == 1) Add(resource, kv);
                }
                else if (f == 2)
                {
                    // ScopeMetrics { InstrumentationScope scope = 1; repeated Metric metrics = 2; }
                    foreach (var (sf, _, sm) in Fields(value))
                    {
                        if (sf == 1) scope = Fields(sm).Where(x => x.Field == 1).Select(x => Encoding.UTF8.GetString(x.Bytes)).FirstOrDefault() ?? "";
                        else if (sf == 2) metrics.Add(ReadMetric(sm));
                    }
                }
            }
        }
        return new OtlpMetrics(resource, scope, metrics);
    }

    // Metric { string name = 1; string description = 2; string unit = 3; Gauge gauge = 5; Sum sum = 7; Histogram histogram = 9; … }
    private static OtlpMetric ReadMetric(byte[] metric)
    {
        string name = "", unit = "", kind = "";
        bool monotonic = false;
        var points = new List<OtlpPoint>();
        foreach (var (field, _, value) in Fields(metric))
        {
            switch (field)
            {
                case 1: name = Encoding.UTF8.GetString(value); break;
                case 3: unit = Encoding.UTF8.GetString(value); break;
                case 5 or 7:
                    kind = field == 5 ? "gauge" : "sum";
                    // Gauge { repeated NumberDataPoint data_points = 1; }  Sum { …; bool is_monotonic = 3; }
                    foreach (var (df, raw, data) in Fields(value))
                    {
                        if (df == 1) points.Add(ReadPoint(data));
                        else if (df == 3 && field == 7) monotonic = raw != 0;
                    }
                    break;
                case 9: kind = "histogram"; break;
                case 10: kind = "exponential_histogram"; break;
                case 11: kind = "summary"; break;
            }
        }
        return new OtlpMetric(name, unit, kind, monotonic, points);
    }

    // NumberDataPoint { double as_double = 4; sfixed64 as_int = 6; repeated KeyValue attributes = 7; … }
    private static OtlpPoint ReadPoint(byte[] point)
    {
        var attributes = new Dictionary<string, string>();
        double value = double.NaN;
        foreach (var (field, raw, data) in Fields(point))
        {
            if (field == 4) value = BitConverter.UInt64BitsToDouble(raw);
            else if (field == 6) value = (long)raw;
            else if (field == 7) Add(attributes, data);
        }
        return new OtlpPoint(attributes, value);
    }

    // KeyValue { string key = 1; AnyValue value = 2; }  AnyValue { string string_value = 1; bool = 2; int64 int_value = 3; double = 4; … }
    private static void Add(Dictionary<string, string> into, byte[] keyValue)
    {
        string key = "", value = "";
        foreach (var (field, _, data) in Fields(keyValue))
        {
            if (field == 1) key = Encoding.UTF8.GetString(data);
            else if (field == 2)
            {
                foreach (var (vf, raw, v) in Fields(data))
                {
                    value = vf switch
                    {
                        1 => Encoding.UTF8.GetString(v),
                        2 => raw != 0 ? "true" : "false",
                        3 => ((long)raw).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        4 => BitConverter.UInt64BitsToDouble(raw).ToString(System.Globalization.CultureInfo.InvariantCulture),
                        _ => value,
                    };
                }
            }
        }
        into[key] = value;
    }

    /// <summary>The fields of one message: number, the value of a varint or fixed field, the bytes of a length-delimited one.</summary>
    private static List<(int Field, ulong Raw, byte[] Bytes)> Fields(byte[] message)
    {
        var fields = new List<(int, ulong, byte[])>();
        int i = 0;
        while (i < message.Length)
        {
            ulong tag = Varint(message, ref i);
            int field = (int)(tag >> 3);
            switch ((int)(tag & 7))
            {
                case 0: fields.Add((field, Varint(message, ref i), [])); break;
                case 1: fields.Add((field, BinaryPrimitives.ReadUInt64LittleEndian(message.AsSpan(i, 8)), [])); i += 8; break;
                case 2:
                    int length = checked((int)Varint(message, ref i));
                    fields.Add((field, 0, message.AsSpan(i, length).ToArray()));
                    i += length;
                    break;
                case 5: fields.Add((field, BinaryPrimitives.ReadUInt32LittleEndian(message.AsSpan(i, 4)), [])); i += 4; break;
                default: throw new FormatException($"wire type {tag & 7} of field {field} at byte {i}: not a protobuf message this reader knows");
            }
        }
        return fields;
    }

    private static ulong Varint(byte[] data, ref int i)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[i++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
    }
}
