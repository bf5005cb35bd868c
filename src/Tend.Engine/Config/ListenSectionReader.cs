namespace Tend.Config;

// listen: of an app (issue 6): the addresses the daemon opens for it. A bare port means every
// address (dual-stack [::]), as systemd's ListenStream=8080 does; host:port and [v6]:port bind
// one address; a path starting with / is a unix stream socket.
/// <summary>listen: of an app: the addresses the daemon opens and shares with its instances.</summary>
internal static class ListenSectionReader
{
    internal static EquatableArray<string>? ReadListen(NodeReader reader, YNode value, string field)
    {
        var items = new List<(YNode Node, string Field)>();
        if (value is YSequence seq)
        {
            for (int i = 0; i < seq.Items.Count; i++) items.Add((seq.Items[i], $"{field}[{i}]"));
            if (items.Count == 0)
            {
                reader.Error(value, field, "empty list; give a port, host:port or a socket path");
                return null;
            }
        }
        else
        {
            items.Add((value, field));
        }

        var addresses = new List<string>(items.Count);
        var seen = new Dictionary<string, YNode>(StringComparer.Ordinal);
        bool ok = true;
        foreach (var (node, f) in items)
        {
            if (!reader.TryString(node, f, out string text)) { ok = false; continue; }
            text = text.Trim();
            if (!ListenAddress.TryParse(text, out ListenAddress? address, out string? error))
            {
                reader.Error(node, f, error);
                ok = false;
                continue;
            }
            if (address.Kind == ListenKind.Tcp && address.Port == 0)
            {
                reader.Error(node, f, $"'{text}': port 0 would be a different free port on every daemon start; give a fixed port");
                ok = false;
                continue;
            }
            if (seen.TryGetValue(text, out YNode? first))
            {
                reader.Error(node, f, $"\"{text}\" is listed twice (first at line {first.Start.Line})");
                ok = false;
                continue;
            }
            seen.Add(text, node);
            addresses.Add(text);
        }
        return ok ? new EquatableArray<string>(addresses) : (EquatableArray<string>?)null;
    }
}
