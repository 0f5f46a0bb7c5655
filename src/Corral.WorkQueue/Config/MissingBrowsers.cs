using Corral.Node.Topology;

namespace Corral.WorkQueue.Config;

/// <summary>
/// <c>missing-browsers:</c> <c>skip</c> (the default: a Playwright task whose browser is not on this machine is reported
/// <c>skipped</c> with the reason and the remedy, and the run can still pass) or <c>error</c> (the run does not start).
/// </summary>
internal static class MissingBrowsers
{
    public const string Key = "missing-browsers";

    /// <summary>The tasks to run and those skipped; records an error per missing browser with <c>error</c>, or when nothing is left to run.</summary>
    public static (IReadOnlyList<TaskDefinition> Run, IReadOnlyList<SkippedTask> Skipped, IReadOnlyList<MissingBrowser> Missing) Split(
        IReadOnlyList<TaskDefinition> tasks, WorkQueueConfig settings, MappingReader reader, Func<string, string?> environment)
    {
        var mode = reader.OptionalChoice(Key, "skip", "error") ?? "skip";
        var probe = new BrowserProbe(settings.SpecRoot, environment);
        var checkedBrowsers = new Dictionary<string, MissingBrowser?>(StringComparer.Ordinal);
        var run = new List<TaskDefinition>();
        var skipped = new List<SkippedTask>();
        foreach (var task in tasks)
        {
            if (!BrowserProbe.RunsPlaywright(task.Command ?? settings.Command))
            {
                run.Add(task);
                continue;
            }

            if (!checkedBrowsers.TryGetValue(task.Browser, out var missing))
            {
                checkedBrowsers[task.Browser] = missing = probe.Check(task.Browser);
            }

            if (missing is null) run.Add(task);
            else skipped.Add(new SkippedTask(task, $"{missing.Browser} is missing: {missing.Reason}; remedy: {missing.Remedy}"));
        }

        var found = checkedBrowsers.Values.OfType<MissingBrowser>().ToArray();
        var at = (TopologyNode?)reader.Mapping[Key] ?? reader.Mapping;
        foreach (var m in found)
        {
            var count = skipped.Count(s => s.Task.Browser == m.Browser);
            var message = $"{m.Browser} is missing ({m.Reason}): {count} task{(count == 1 ? "" : "s")}";
            if (mode == "error") reader.Diagnostics.Error(at, $"{message} cannot run; {m.Remedy}, or set {Key}: skip to skip them");
            else reader.Diagnostics.Warn(at, $"{message} will be reported skipped; {m.Remedy} (or {Key}: error to refuse to start)");
        }

        if (mode == "skip" && run.Count == 0 && skipped.Count > 0)
        {
            reader.Diagnostics.Error(at, $"every task needs a browser that is missing ({string.Join(", ", found.Select(m => m.Browser))}): there is nothing to run; " +
                string.Join("; ", found.Select(m => m.Remedy)));
        }

        return (run, skipped, found);
    }
}
