namespace Tend.Logs;

/// <summary>Which output stream of an instance a log belongs to.</summary>
public enum LogStream
{
    Out,
    Err,
}
