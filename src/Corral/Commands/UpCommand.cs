using System.CommandLine;
using Corral.Hosting.Apps;

namespace Corral.Commands;

/// <summary><c>corral up &lt;topology&gt;</c>: plans the app's nodes, starts and supervises them until the app finishes or the user stops it.</summary>
internal static class UpCommand
{
    public static Command Create(AppCatalog catalog)
    {
        var topology = new TopologyOptions();
        var data = new Option<string>("--data") { Description = "The data folder: stores and run folders live here.", DefaultValueFactory = _ => ".corral", HelpName = "DIR" };
        var resume = new Option<string?>("--resume") { Description = "Continue an earlier run by its id (its folder and the app's stored state).", HelpName = "RUN-ID" };
        var portOffset = new Option<int>("--port-offset") { Description = "Shift every default port by N (run two clusters side by side).", HelpName = "N" };
        var ports = new Option<string>("--ports") { Description = "fixed: the roles' default ports; dynamic: every node binds a free port and reports it.", DefaultValueFactory = _ => "fixed" };
        ports.AcceptOnlyFromAmong("fixed", "dynamic");
        var dashboard = new Option<int?>("--dashboard") { Description = "The dashboard's port (default 8000). The dashboard is not built yet: accepted and ignored.", HelpName = "PORT" };
        var noDashboard = new Option<bool>("--no-dashboard") { Description = "Do not serve the dashboard." };
        var command = new Command("up", "Start an app's nodes from a topology file, stream their logs, supervise them, and stop them on Ctrl+C.")
        {
            data, resume, portOffset, ports, dashboard, noDashboard,
        };
        topology.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetValue(portOffset) is var offset && (offset < -1000 || offset > 20000))
            {
                result.AddError("--port-offset must be between -1000 and 20000 so every port stays between 1024 and 32767");
            }

            if (result.GetValue(ports) == "dynamic" && result.GetValue(portOffset) != 0)
            {
                result.AddError("--port-offset and --ports dynamic exclude each other: dynamic ports have nothing to shift");
            }
        });
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            var path = result.GetValue(topology.File)!;
            if (TopologyOptions.TryLoad(catalog, path, topology.Overrides(result), output, result.InvocationConfiguration.Error) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }

            await Task.CompletedTask;
            output.WriteLine($"{loaded.App.Module.Name}: the supervisor is not wired yet");
            return ExitCodes.Failure;
        });
        return command;
    }
}
