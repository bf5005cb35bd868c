namespace Tend.Supervision;

/// <summary>What a command acts on: "all", an app name, "name#i", or an instance id.</summary>
public readonly record struct Target(string Text)
{
    public bool IsAll => Text == "all";

    /// <summary>Splits "web#2" into ("web", 2); "web" into ("web", null).</summary>
    public bool TryInstance(out string app, out int? instance)
    {
        int hash = Text.LastIndexOf('#');
        if (hash < 0) { app = Text; instance = null; return true; }
        app = Text[..hash];
        instance = null;
        if (!int.TryParse(Text.AsSpan(hash + 1), out int n) || n < 0) return false;
        instance = n;
        return true;
    }
}

/// <summary>The target names nothing we manage. The CLI exits 1.</summary>
public sealed class TargetNotFoundException(string message, IReadOnlyList<string>? details = null) : Exception(message)
{
    public IReadOnlyList<string> Details { get; } = details ?? [];
}

/// <summary>`tend save` would replace a dump that declares apps with an empty one; `--force` does.</summary>
public sealed class SaveRefusedException(string message) : Exception(message);
