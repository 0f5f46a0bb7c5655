using System.Globalization;
using System.Text.RegularExpressions;

namespace Corral.Node.Text;

/// <summary>Durations as Corral writes them: <c>50ms</c>, <c>1s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>, or <c>0</c>.</summary>
public static partial class Durations
{
    public const string Expected = "a duration such as 50ms, 1s, 1.5s, 2m or 0";

    [GeneratedRegex(@"^\s*(?<n>\d+(\.\d+)?)\s*(?<u>ms|s|m|h)\s*$")]
    private static partial Regex Pattern();

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (text.Trim() == "0")
        {
            return true;
        }

        var match = Pattern().Match(text);
        if (!match.Success)
        {
            return false;
        }

        var n = double.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
        value = match.Groups["u"].Value switch
        {
            "ms" => TimeSpan.FromMilliseconds(n),
            "s" => TimeSpan.FromSeconds(n),
            "m" => TimeSpan.FromMinutes(n),
            _ => TimeSpan.FromHours(n),
        };
        return true;
    }

    /// <summary>Formats a duration the way <see cref="TryParse"/> reads it back.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero) return "0";
        if (value.TotalMilliseconds < 1000 || value.Milliseconds != 0)
            return value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms";
        if (value.TotalSeconds < 60 || value.Seconds != 0)
            return value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
        if (value.TotalMinutes < 60 || value.Minutes != 0)
            return value.TotalMinutes.ToString("0.###", CultureInfo.InvariantCulture) + "m";
        return value.TotalHours.ToString("0.###", CultureInfo.InvariantCulture) + "h";
    }

    /// <summary>
    /// Formats a duration for a person reading a message: whole milliseconds under a second (<c>250ms</c>), tenths of a
    /// second from there (<c>1.5s</c>, <c>60s</c>). Rounded, so not for values read back (<see cref="Format"/> is exact).
    /// </summary>
    public static string Brief(TimeSpan value) => value.TotalSeconds >= 1
        ? value.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + "s"
        : value.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + "ms";
}
