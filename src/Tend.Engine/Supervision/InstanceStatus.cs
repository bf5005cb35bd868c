namespace Tend.Supervision;

/// <summary>PM2's status names; the wire form is the lower-case name.</summary>
public enum InstanceStatus
{
    Launching,
    Online,
    Waiting,
    Stopping,
    Stopped,
    Errored,
    /// <summary>Never started: an app it depends on did not reach the condition (see depends_on).</summary>
    Blocked,
}

public static class InstanceStatusExtensions
{
    public static string ToWire(this InstanceStatus status) => status switch
    {
        InstanceStatus.Launching => "launching",
        InstanceStatus.Online => "online",
        InstanceStatus.Waiting => "waiting",
        InstanceStatus.Stopping => "stopping",
        InstanceStatus.Stopped => "stopped",
        InstanceStatus.Blocked => "blocked",
        _ => "errored",
    };
}
