using System.Globalization;
using System.Text.Json;
using Corral.WorkQueue.Controller;

namespace Corral.WorkQueue.PlaywrightRuns;

/// <summary>One test's result in one Playwright JSON report (one attempt of a task).</summary>
internal sealed record ReportedTest(string File, string Project, string Title, int Line, string Status, long DurationMs, string? Error,
    IReadOnlyList<(string Name, string ContentType, string Path)> Attachments);

/// <summary>
/// Reads Playwright's JSON reporter output (<c>suites</c> of <c>specs</c> of per-project <c>tests</c> with their
/// <c>results</c>, nested by file and describe block). Only what the reporter and JUnit need is read; an unreadable or
/// half-written file gives null, and the task is reported as a whole as before.
/// </summary>
internal static class PlaywrightReport
{
    public static IReadOnlyList<ReportedTest>? Read(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var tests = new List<ReportedTest>();
            if (document.RootElement.TryGetProperty("suites", out var suites))
            {
                foreach (var suite in suites.EnumerateArray()) Walk(suite, [], tests, topLevel: true);
            }

            return tests;
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            return null;
        }
    }

    /// <summary>The first global error of a report (a config error, no tests found), or null.</summary>
    public static string? GlobalError(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            return document.RootElement.TryGetProperty("errors", out var errors) && errors.GetArrayLength() > 0 ? Message(errors[0]) : null;
        }
        catch (Exception e) when (e is JsonException or IOException or InvalidOperationException)
        {
            return null;
        }
    }

    private static void Walk(JsonElement suite, List<string> titles, List<ReportedTest> tests, bool topLevel)
    {
        // The top-level suite is the file (its title is the file name); describe blocks below it name the tests.
        var path = topLevel ? titles : [.. titles, Text(suite, "title")];
        if (suite.TryGetProperty("specs", out var specs))
        {
            foreach (var spec in specs.EnumerateArray())
            {
                var title = string.Join(" › ", path.Append(Text(spec, "title")));
                var file = Text(spec, "file");
                var line = spec.TryGetProperty("line", out var l) && l.ValueKind == JsonValueKind.Number ? l.GetInt32() : 0;
                foreach (var test in spec.GetProperty("tests").EnumerateArray())
                {
                    tests.Add(Test(test, file, title, line));
                }
            }
        }

        if (suite.TryGetProperty("suites", out var children))
        {
            foreach (var child in children.EnumerateArray()) Walk(child, path, tests, topLevel: false);
        }
    }

    private static ReportedTest Test(JsonElement test, string file, string title, int line)
    {
        var results = test.TryGetProperty("results", out var r) ? r.EnumerateArray().ToArray() : [];
        var last = results.Length > 0 ? results[^1] : default;
        var status = Text(test, "status") switch
        {
            "flaky" => "flaky",
            "skipped" => "skipped",
            _ when last.ValueKind == JsonValueKind.Object => Text(last, "status") switch
            {
                "passed" => "passed",
                "timedOut" => "timed-out",
                "skipped" => "skipped",
                "interrupted" => "interrupted",
                _ => "failed",
            },
            "expected" => "passed",
            _ => "failed",
        };
        // Playwright's own retries (when its config asks for them) are results of one test: the time is their sum.
        var duration = results.Sum(x => x.TryGetProperty("duration", out var d) && d.ValueKind == JsonValueKind.Number ? (long)d.GetDouble() : 0);
        string? error = null;
        var attachments = new List<(string, string, string)>();
        foreach (var result in results)
        {
            if (result.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.Object) error = Message(e);
            else if (result.TryGetProperty("errors", out var es) && es.ValueKind == JsonValueKind.Array && es.GetArrayLength() > 0) error = Message(es[0]);
            if (!result.TryGetProperty("attachments", out var list)) continue;
            foreach (var a in list.EnumerateArray())
            {
                if (a.TryGetProperty("path", out var p) && p.GetString() is { Length: > 0 } file1)
                {
                    attachments.Add((Text(a, "name"), Text(a, "contentType"), file1));
                }
            }
        }

        return new ReportedTest(file, Text(test, "projectName"), title, line, status, duration, status is "passed" or "skipped" ? null : error, attachments);
    }

    private static string? Message(JsonElement error) =>
        error.TryGetProperty("message", out var m) && m.GetString() is { } text ? XmlText.Clean(text).Trim()
        : error.TryGetProperty("value", out var v) ? XmlText.Clean(v.ToString()) : null;

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : "";

    /// <summary>Milliseconds as the reporter prints them.</summary>
    public static string Seconds(long ms) => (ms / 1000.0).ToString("0.0s", CultureInfo.InvariantCulture);
}
