using Tend.Config;

namespace Tend.Health;

/// <summary>Builds the <see cref="IProbe"/> a <see cref="ProbeSpec"/> describes.</summary>
public static class Probes
{
    /// <param name="sticky">Log probes only: true for readiness (one match passes for the rest of the
    /// run), false for liveness (a check passes only if a line matched since the previous one).</param>
    /// <exception cref="ArgumentException">The target is not a valid URL, host:port, pattern or command.</exception>
    public static IProbe Create(ProbeSpec spec, ProbeContext context, bool sticky)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(context);
        return spec.Kind switch
        {
            ProbeKind.Http => new HttpProbe(ParseUrl(ProbeTarget.Expand(spec.Target, context.Environment)), spec.Timeout, context.Time),
            ProbeKind.Tcp => new TcpProbe(ProbeTarget.Expand(spec.Target, context.Environment), spec.Timeout, context.Time),
            // A spec without argv (built by hand rather than from config) still means what it says.
            ProbeKind.Exec => new ExecProbe(spec.Command.Count > 0 ? [.. spec.Command] : ["/bin/sh", "-c", spec.Target],
                context, spec.Timeout),
            ProbeKind.Log => new LogProbe(spec.Target, sticky),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Kind, "unknown probe kind"),
        };
    }

    private static Uri ParseUrl(string target) =>
        Uri.TryCreate(target, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)
            ? url
            : throw new ArgumentException($"'{target}' is not an http:// or https:// URL", nameof(target));
}
