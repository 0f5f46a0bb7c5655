using System.Globalization;

namespace Corral.Supervisor.Supervision;

/// <summary>A byte count as a person reads it: <c>512 B</c>, <c>3.4 KB</c>, <c>12.0 MB</c> (powers of 1024).</summary>
public static class Sizes
{
    private static readonly string[] Units = ["KB", "MB", "GB", "TB"];

    public static string Describe(long bytes)
    {
        if (bytes < 1024)
        {
            return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        }

        var value = (double)bytes;
        var unit = -1;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return value.ToString("0.0", CultureInfo.InvariantCulture) + " " + Units[unit];
    }
}
