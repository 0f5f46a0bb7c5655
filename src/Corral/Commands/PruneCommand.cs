using System.CommandLine;
using System.Globalization;
using Corral.Supervisor.Supervision;

namespace Corral.Commands;

/// <summary>
/// <c>corral prune</c>: kills what dead runs left in their cgroups, removes old run folders under <c>&lt;data&gt;/runs/</c>,
/// keeping the newest N and every run that is still running, and says what it removed.
/// </summary>
internal static class PruneCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The data folder whose runs/ is pruned.", DefaultValueFactory = _ => ".corral", HelpName = "DIR" };
        var keep = KeepOption("--keep", "How many of the newest runs to keep (0 keeps all); a running run is never removed.");
        var command = new Command("prune", "Remove old run folders, keeping the newest ones and every running run.") { data, keep };
        command.SetAction(async (result, _) =>
        {
            var output = result.InvocationConfiguration.Output;
            var errors = result.InvocationConfiguration.Error;
            if (ParseCount("--keep", result.GetValue(keep)!, errors) is not { } count)
            {
                return ExitCodes.BadInput;
            }

            if (count < 0)
            {
                errors.WriteLine($"corral: --keep must be 0 (keep all) or more, not {count}");
                return ExitCodes.BadInput;
            }

            foreach (var line in (await RunRetention.SweepDeadRunsAsync()).Concat(await RunRetention.SweepDeadDockerRunsAsync()))
            {
                output.WriteLine(line);
            }

            var dataDirectory = Path.GetFullPath(result.GetValue(data)!);
            var pruned = RunRetention.Prune(dataDirectory, count);
            foreach (var run in pruned.Removed)
            {
                output.WriteLine($"removed run {run.RunId} ({Sizes.Describe(run.Bytes)})");
            }

            foreach (var failure in pruned.Failures)
            {
                errors.WriteLine($"corral: {failure}");
            }

            output.WriteLine($"removed {pruned.Removed.Count} run{(pruned.Removed.Count == 1 ? "" : "s")} ({Sizes.Describe(pruned.Bytes)}); " +
                $"{pruned.Left} left in {RunFolder.RunsPath(dataDirectory)}");
            return pruned.Failures.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>
    /// A run count option, taken as text so that a value that is not a number is refused with exit 2 and a sentence of
    /// ours (the parser's own errors exit 1).
    /// </summary>
    public static Option<string> KeepOption(string name, string description) =>
        new(name) { Description = description, DefaultValueFactory = _ => RunRetention.DefaultKeep.ToString(CultureInfo.InvariantCulture), HelpName = "N" };

    /// <summary>The number in <paramref name="text"/>, or null after saying that it is not a whole number.</summary>
    public static int? ParseCount(string name, string text, TextWriter errors)
    {
        if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count))
        {
            return count;
        }

        errors.WriteLine($"corral: {name} must be a whole number of runs (0 keeps all), not '{text}'");
        return null;
    }
}
