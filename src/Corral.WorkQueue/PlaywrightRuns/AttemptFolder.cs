using System.Globalization;

namespace Corral.WorkQueue.PlaywrightRuns;

/// <summary>
/// Where one attempt of a Playwright task keeps its results: <c>&lt;run&gt;/tasks/&lt;key&gt;.attempt-&lt;n&gt;/</c>, next to
/// the attempt's log, with Playwright's JSON report and its output folder (traces, screenshots, videos). Each attempt
/// has its own, so parallel tasks never share (Playwright empties its output folder when it starts).
/// </summary>
internal static class AttemptFolder
{
    public const string Tasks = "tasks";
    public const string ReportFile = "report.json";
    public const string OutputFolder = "output";

    public static string Name(string key, int attempt) => $"{key.Replace(':', '_')}.attempt-{attempt.ToString(CultureInfo.InvariantCulture)}";

    public static string Path(string runDirectory, string key, int attempt) => System.IO.Path.Combine(runDirectory, Tasks, Name(key, attempt));

    public static string Report(string runDirectory, string key, int attempt) => System.IO.Path.Combine(Path(runDirectory, key, attempt), ReportFile);
}
