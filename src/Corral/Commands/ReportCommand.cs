using System.CommandLine;
using Corral.Node.Apps;
using Corral.Supervisor.Supervision;

namespace Corral.Commands;

/// <summary>
/// <c>corral report &lt;run-id&gt;</c>: serves a finished run's report page again from the results it stored (the work
/// queue's reporter, with each task's tests and their traces and screenshots) until Ctrl+C.
/// </summary>
internal static class ReportCommand
{
    public const int DefaultPort = 3000;

    public static Command Create(AppCatalog catalog)
    {
        var runId = new Argument<string>("run-id") { Description = "The run's id, as 'corral up' printed it (e.g. 20261122-041500-ab12)." };
        var data = new Option<string>("--data") { Description = "The data folder the run used.", DefaultValueFactory = _ => ".corral", HelpName = "DIR" };
        var port = new Option<int>("--port") { Description = $"The port to serve on, on 127.0.0.1 (default {DefaultPort}; 0: a free one).", DefaultValueFactory = _ => DefaultPort, HelpName = "PORT" };
        var command = new Command("report", "Serve a finished run's report page (the work queue's reporter) from its stored results.") { runId, data, port };
        command.Validators.Add(result =>
        {
            if (result.GetValue(port) is < 0 or > 32767) result.AddError($"--port must be 0 (a free port) or 1-32767, got {result.GetValue(port)}");
        });
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            var errors = result.InvocationConfiguration.Error;
            var id = result.GetValue(runId)!;
            RunFolder run;
            try
            {
                run = RunFolder.Open(Path.GetFullPath(result.GetValue(data)!), id);
            }
            catch (SupervisorException e)
            {
                errors.WriteLine($"corral: {e.Message}");
                return ExitCodes.BadInput;
            }

            var app = CheckCommand.ReadApp(run.Path);
            if (app is null || catalog.Find(app) is not IRunReport report)
            {
                errors.WriteLine(app is null
                    ? $"corral: {run.Path} has no readable run.json: cannot tell its app"
                    : $"corral: run {id} is a {app} run, which has no report page (the work queue's runs have one)");
                return ExitCodes.BadInput;
            }

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var signals = StopSignals.Register(stop);
            return await report.ServeReportAsync(run.Path, "127.0.0.1", result.GetValue(port), output, errors, stop.Token);
        });
        return command;
    }
}
