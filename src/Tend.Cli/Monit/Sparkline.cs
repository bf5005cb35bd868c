using System.Text;

namespace Tend.Cli.Monit;

/// <summary>
/// A history of samples as one line of block characters (▁▂▃▄▅▆▇█), newest on the right, blank
/// where there is no sample yet. Each series is scaled from 0 to its own peak in the window, but
/// never to less than a floor, so an idle process shows a flat low line instead of noise blown up
/// to full height.
/// </summary>
internal static class Sparkline
{
    private const string Levels = "▁▂▃▄▅▆▇█";

    public static string Render(IReadOnlyList<double> samples, int width, double floor)
    {
        if (width <= 0) return "";
        int count = Math.Min(width, samples.Count);
        int first = samples.Count - count;
        double peak = floor;
        for (int i = first; i < samples.Count; i++) peak = Math.Max(peak, Sanitize(samples[i]));

        var line = new StringBuilder(width);
        line.Append(' ', width - count);
        for (int i = first; i < samples.Count; i++)
        {
            double share = peak > 0 ? Sanitize(samples[i]) / peak : 0;
            int level = (int)Math.Round(share * (Levels.Length - 1), MidpointRounding.AwayFromZero);
            line.Append(Levels[Math.Clamp(level, 0, Levels.Length - 1)]);
        }
        return line.ToString();
    }

    private static double Sanitize(double value) => double.IsFinite(value) && value > 0 ? value : 0;
}
