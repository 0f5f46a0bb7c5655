using System.Text.Json;
using System.Text.Json.Nodes;
using Corral.WorkQueue.Config;

namespace Corral.WorkQueue.PlaywrightRuns;

/// <summary>
/// Several Playwright tasks in one runner invocation: which tasks may share one (<see cref="Key"/>), the argument list
/// that runs them (the command's <c>{spec}</c> argument becomes every spec, plus <c>--workers=1</c>, since a Corral
/// slot runs one thing at a time), and the batch's JSON report cut into each task's own report, so that each task keeps
/// its own results, attempts and artifacts as if it had run alone.
/// </summary>
internal static class PlaywrightBatch
{
    public const string Suffix = ".batch";

    /// <summary>
    /// The tasks with equal keys can run in one invocation: the same Playwright command expanded alike but for the spec.
    /// Null when the task cannot be batched: not a Playwright command, <c>{spec}</c> not exactly one whole argument, or
    /// <c>{key}</c> in the command (it would differ between the tasks).
    /// </summary>
    public static string? Key(WorkQueueConfig config, TaskDefinition task)
    {
        var command = config.CommandFor(task);
        if (!BrowserProbe.RunsPlaywright(command) || SpecArgument(command) < 0 || command.Any(a => a.Contains("{key}", StringComparison.Ordinal))) return null;
        try
        {
            return string.Join('\n', CommandTemplate.Expand(command, task with { Spec = "", Key = "" }, 1));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The index of the argument that is exactly <c>{spec}</c>, or -1 when there is none or <c>{spec}</c> is also elsewhere.</summary>
    public static int SpecArgument(IReadOnlyList<string> command)
    {
        var at = -1;
        for (var i = 0; i < command.Count; i++)
        {
            if (!command[i].Contains("{spec}", StringComparison.Ordinal)) continue;
            if (command[i] != "{spec}" || at >= 0) return -1;
            at = i;
        }

        return at;
    }

    /// <summary>The first task's expanded command with its spec argument replaced by every spec, and one Playwright worker unless the command says how many.</summary>
    public static IReadOnlyList<string> Arguments(IReadOnlyList<string> command, IReadOnlyList<string> expandedForFirst, IReadOnlyList<string> specs)
    {
        var at = SpecArgument(command);
        var arguments = new List<string>(expandedForFirst);
        arguments.RemoveAt(at);
        arguments.InsertRange(at, specs);
        if (!arguments.Any(a => a is "--workers" or "-j" || a.StartsWith("--workers=", StringComparison.Ordinal) || a.StartsWith("-j", StringComparison.Ordinal)))
        {
            arguments.Add("--workers=1");
        }

        return arguments;
    }

    /// <summary>
    /// Writes each spec's part of the batch report (<paramref name="report"/>) to <paramref name="targets"/>' paths: the
    /// same document with only the top-level suites (files) of that spec. Returns, per spec, whether the report had it and
    /// whether all its tests went as expected; null per spec when the report is missing or unreadable.
    /// </summary>
    public static IReadOnlyList<SpecOutcome?> Split(string report, string specRoot, IReadOnlyList<(string Spec, string ReportPath)> targets)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(File.ReadAllBytes(report)) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return targets.Select(_ => (SpecOutcome?)null).ToArray();
        }

        var rootDir = root["config"]?["rootDir"]?.GetValue<string>() ?? specRoot;
        var suites = root["suites"] as JsonArray ?? [];
        var outcomes = new List<SpecOutcome?>();
        foreach (var (spec, path) in targets)
        {
            var full = Path.GetFullPath(Path.Combine(specRoot, spec));
            var own = suites.Where(s => s?["file"]?.GetValue<string>() is { } file && Path.GetFullPath(Path.Combine(rootDir, file)) == full).ToArray();
            var part = new JsonObject();
            foreach (var (name, value) in root)
            {
                part[name] = name == "suites" ? new JsonArray(own.Select(s => s!.DeepClone()).ToArray()) : value?.DeepClone();
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, part.ToJsonString());
            var tests = own.SelectMany(s => Tests(s!)).ToArray();
            outcomes.Add(new SpecOutcome(tests.Length, tests.Count(t => t.Status is not ("expected" or "skipped" or "flaky")), tests.Sum(t => t.Ms)));
        }

        return outcomes;
    }

    private static IEnumerable<(string Status, long Ms)> Tests(JsonNode suite)
    {
        foreach (var spec in suite["specs"] as JsonArray ?? [])
        {
            foreach (var test in spec?["tests"] as JsonArray ?? [])
            {
                var ms = (test?["results"] as JsonArray ?? []).Sum(r => r?["duration"] is JsonValue d && d.TryGetValue<double>(out var v) ? (long)v : 0);
                yield return (test?["status"]?.GetValue<string>() ?? "unexpected", ms);
            }
        }

        foreach (var child in suite["suites"] as JsonArray ?? [])
        {
            if (child is not null) foreach (var status in Tests(child)) yield return status;
        }
    }
}

/// <summary>What one spec's part of a batch report says: how many tests ran and how many did not go as expected.</summary>
internal sealed record SpecOutcome(int Tests, int Unexpected, long TestMs);
