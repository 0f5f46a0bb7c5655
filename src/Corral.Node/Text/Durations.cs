using System.Globalization;
using System.Text.RegularExpressions;

namespace Corral.Node.Text;

/// <summary>Durations as Corral writes them: <c>50ms</c>, <c>1s</c>, <c>1.5s</c>, <c>2m</c>, <c>1h</c>, or <c>0</c>.</summary>
public static partial class Durations
{
    /// <summary>
    /// The longest duration Corral reads. Nothing Corral times (ticks, timeouts, back-offs, delays) makes sense past it,
    /// and a bound keeps every value far inside what <see cref="TimeSpan"/> and the timers taking it can hold.
    /// </summary>
    public static readonly TimeSpan Maximum = TimeSpan.FromHours(1000);

    public const string Expected = "a duration such as 50ms, 1s, 1.5s, 2m or 0 (digits 0-9, at most 1000h)";

    // [0-9], not \d: \d also matches other scripts' digits (Arabic-Indic ٣), which the number parser then refuses.
    [GeneratedRegex(@"^\s*(?<n>[0-9]+(\.[0-9]+)?)\s*(?<u>ms|s|m|h)\s*$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    /// <summary>Reads <paramref name="text"/>; false (never an exception) for anything that is not a duration up to <see cref="Maximum"/>.</summary>
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

        // A number too large for a double reads as infinity, which the bound below refuses.
        var n = double.Parse(match.Groups["n"].ValueSpan, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        var milliseconds = n * match.Groups["u"].ValueSpan switch
        {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            _ => 3_600_000,
        };
        if (!(milliseconds <= Maximum.TotalMilliseconds))
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(milliseconds);
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
