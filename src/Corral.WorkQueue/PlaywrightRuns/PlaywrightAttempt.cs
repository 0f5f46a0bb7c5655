using System.Text.Json;
using Corral.WorkQueue.Config;

namespace Corral.WorkQueue.PlaywrightRuns;

/// <summary>
/// What the worker adds to a Playwright command so that each attempt leaves its own results: Playwright's JSON
/// reporter writing to the attempt's folder (<c>PLAYWRIGHT_JSON_OUTPUT_NAME</c>) and <c>--output</c> there for traces and
/// screenshots. Arguments the command already gives win: an explicit <c>--output</c> is kept, and a <c>--reporter</c>
/// list gets <c>json</c> added. Other runners are left exactly as they are.
/// </summary>
internal static class PlaywrightAttempt
{
    public const string JsonOutputVariable = "PLAYWRIGHT_JSON_OUTPUT_NAME";

    public static IReadOnlyList<string> Arguments(IReadOnlyList<string> expanded, string folder, bool addReporterKnown)
    {
        if (!BrowserProbe.RunsPlaywright(expanded)) return expanded;
        var arguments = new List<string>(expanded);
        var reporter = arguments.FindIndex(a => a.StartsWith("--reporter=", StringComparison.Ordinal));
        if (reporter >= 0)
        {
            if (!arguments[reporter].Split('=', 2)[1].Split(',').Contains("json")) arguments[reporter] += ",json";
        }
        else if (!arguments.Any(a => a is "--reporter" or "--add-reporter" || a.StartsWith("--add-reporter=", StringComparison.Ordinal)))
        {
            // --add-reporter keeps the project's own reporters; Playwright before 1.65 only has --reporter, which replaces them.
            arguments.Add(addReporterKnown ? "--add-reporter=json" : "--reporter=list,json");
        }

        if (!arguments.Any(a => a == "--output" || a.StartsWith("--output=", StringComparison.Ordinal)))
        {
            arguments.Add("--output=" + Path.Combine(folder, AttemptFolder.OutputFolder));
        }

        return arguments;
    }

    public static void AddEnvironment(IDictionary<string, string> environment, IReadOnlyList<string> expanded, string folder)
    {
        if (!BrowserProbe.RunsPlaywright(expanded)) return;
        Directory.CreateDirectory(folder);
        environment[JsonOutputVariable] = Path.Combine(folder, AttemptFolder.ReportFile);
    }

    /// <summary>Whether the spec root's Playwright has <c>--add-reporter</c> (1.65 and later).</summary>
    public static bool HasAddReporter(string specRoot)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(specRoot, "node_modules", "playwright", "package.json")));
            return Version.TryParse(document.RootElement.GetProperty("version").GetString()?.Split('-')[0], out var version) && version >= new Version(1, 65);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }
}
