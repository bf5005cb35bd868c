using System.CommandLine;
using System.Globalization;
using Tend.Api;

namespace Tend.Cli.Commands;

/// <summary>`tend scale web 4`, `tend scale web +2`, `tend scale web -1`: start or stop instances live.</summary>
internal sealed class ScaleCommand : TendCommand
{
    private readonly Argument<string> _app = new("app") { Description = "The app to scale" };
    private readonly Argument<string> _amount = new("amount") { Description = "N instances, or +N / -N more or fewer" };

    public ScaleCommand(CliContext context) : base("scale", "Run N instances of an app (or +N / -N), live; instance numbers stay dense.", context)
    {
        Add(_app);
        Add(_amount);
    }

    protected override async Task<int> ExecuteAsync(ParseResult parseResult, CancellationToken ct)
    {
        var (count, delta) = ParseAmount(parseResult.GetRequiredValue(_amount));
        using DaemonClient client = Context.CreateClient(autoStart: true);
        ActionResult result = await client.PostAsync(ApiRoutes.Scale, new ScaleRequest(parseResult.GetRequiredValue(_app), count, delta),
            TendJsonContext.Default.ScaleRequest, TendJsonContext.Default.ActionResult, ct).ConfigureAwait(false);
        TextWriter output = Out(parseResult);
        output.WriteLine(result.Message);
        await ListCommand.WriteTableAsync(client, output, Context.Color, ct).ConfigureAwait(false);
        return 0;
    }

    /// <summary>"4" → (4, null); "+2" → (null, 2); "-1" → (null, -1). Anything else is a usage error.</summary>
    internal static (int? Count, int? Delta) ParseAmount(string text)
    {
        bool signed = text.StartsWith('+') || text.StartsWith('-');
        if (int.TryParse(signed ? text[1..] : text, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
        {
            if (!signed) return n >= 1 ? (n, null) : throw new CliException("scale to 1 or more instances (tend stop stops an app)", 2);
            if (n >= 1) return (null, text[0] == '+' ? n : -n);
        }
        throw new CliException($"'{text}' is not an instance count: give N, +N or -N", 2);
    }
}
