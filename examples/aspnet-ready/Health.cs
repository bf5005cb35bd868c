namespace ReadyDemo;

/// <summary>What /healthz reports; POST /sick turns it bad for good, so the liveness probe has something to catch.</summary>
internal sealed class Health
{
    private volatile bool _sick;

    public bool IsSick { get => _sick; set => _sick = value; }
}
