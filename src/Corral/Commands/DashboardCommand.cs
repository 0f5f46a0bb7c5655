using System.CommandLine;
using System.Net;
using Corral.Node.Control;
using Corral.Supervisor.Supervision;

namespace Corral.Commands;

/// <summary>
/// <c>corral dashboard &lt;run-id&gt;</c>: prints a fresh one-time link to a running run's dashboard, for a user who lost
/// (or already used) the one <c>corral up</c> printed. It asks the run's control API, found through the run's folder.
/// </summary>
internal static class DashboardCommand
{
    public static Command Create()
    {
        var runId = RunningRun.RunIdArgument();
        var data = RunningRun.DataOption();
        var command = new Command("dashboard", "Print a fresh one-time link to a running run's dashboard.") { runId, data };
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            var errors = result.InvocationConfiguration.Error;
            var id = result.GetValue(runId)!;
            if (RunningRun.Find(result.GetValue(data)!, id, errors, "; only a running run serves a dashboard") is not { } access) return ExitCodes.BadInput;

            using var control = new ControlClient(new Uri(access.Url), access.Token);
            try
            {
                output.WriteLine($"Dashboard: {await control.NewDashboardLinkAsync(cancellationToken)}");
                return ExitCodes.Success;
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                errors.WriteLine($"corral: run {id} serves no dashboard (it was started with --no-dashboard)");
                return ExitCodes.BadInput;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                errors.WriteLine(RunningRun.NotAnswering(id, access, e));
                return ExitCodes.Failure;
            }
        });
        return command;
    }
}
