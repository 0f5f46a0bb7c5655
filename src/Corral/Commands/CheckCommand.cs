using System.CommandLine;
using System.Text.Json;
using Corral.Node.Apps;

namespace Corral.Commands;

/// <summary><c>corral check &lt;run-folder&gt;</c>: runs the app's history checker over a finished run.</summary>
internal static class CheckCommand
{
    public static Command Create(AppCatalog catalog)
    {
        var folder = new Argument<string>("run-folder") { Description = "A run's folder: <data>/runs/<run-id>." };
        var app = new Option<string?>("--app") { Description = "The app, when the folder has no run.json (e.g. a copied history)." };
        var command = new Command("check", "Check a run's recorded history against the app's invariants; exits 1 on a violation.") { folder, app };
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var errors = result.InvocationConfiguration.Error;
            var path = result.GetValue(folder)!;
            if (!Directory.Exists(path))
            {
                errors.WriteLine($"{path}: no such run folder; runs live in <data>/runs/<run-id> (default data folder .corral)");
                return ExitCodes.BadInput;
            }

            var name = result.GetValue(app) ?? ReadApp(path);
            if (name is null || catalog.Find(name) is not { } module)
            {
                errors.WriteLine($"{path}: cannot tell the app (no readable run.json); pass --app with one of {string.Join(", ", catalog.Modules.Select(m => m.Name))}");
                return ExitCodes.BadInput;
            }

            var report = module.Check(path);
            foreach (var fact in report.Facts)
            {
                output.WriteLine(fact);
            }

            foreach (var violation in report.Violations)
            {
                output.WriteLine($"violation: {violation}");
            }

            output.WriteLine(report.Passed
                ? $"{path}: passed — the history keeps every {module.Name} invariant"
                : $"{path}: FAILED — {report.Violations.Count} violation{(report.Violations.Count == 1 ? "" : "s")}");
            return report.Passed ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    /// <summary>The app named in a run folder's <c>run.json</c>, or null.</summary>
    internal static string? ReadApp(string folder)
    {
        var runJson = Path.Combine(folder, "run.json");
        if (!File.Exists(runJson)) return null;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(runJson));
            return document.RootElement.TryGetProperty("app", out var app) ? app.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
