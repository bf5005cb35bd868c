namespace Tend.Config;

/// <summary>
/// One problem in a config file. Line and Column are 1-based; 0 means "the whole file"
/// (or, for errors about a command line, that there is no file). Field is a dotted path
/// such as <c>apps.web.instances</c>, empty when the problem is not about one field.
/// </summary>
public sealed record ConfigError(string File, int Line, int Column, string Field, string Message)
{
    /// <summary>Compiler style: <c>tend.yaml:12:5: apps.web.instances: expected a whole number ≥ 1, got "-2"</c>.</summary>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        if (File.Length > 0)
        {
            text.Append(File);
            if (Line > 0) text.Append(':').Append(Line).Append(':').Append(Column);
            text.Append(": ");
        }
        if (Field.Length > 0) text.Append(Field).Append(": ");
        return text.Append(Message).ToString();
    }
}

/// <summary>A config was rejected. Carries every error found, not just the first.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(IReadOnlyList<ConfigError> errors)
        : base(errors.Count == 0 ? "invalid config" : string.Join(Environment.NewLine, errors))
    {
        Errors = errors;
    }

    public IReadOnlyList<ConfigError> Errors { get; }
}
