using System.CommandLine;
using Corral.Node.Apps;
using Corral.Node.Planning;

namespace Corral.Commands;

/// <summary><c>corral validate &lt;topology&gt;</c>: reads and validates a topology and prints the plan it gives.</summary>
internal static class ValidateCommand
{
    public static Command Create(AppCatalog catalog)
    {
        var topology = new TopologyOptions();
        var command = new Command("validate", "Validate a topology file and print the nodes it would start; starts nothing.");
        topology.AddTo(command);
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var path = result.GetValue(topology.File)!;
            if (TopologyOptions.TryLoad(catalog, path, topology.Overrides(result), output, result.InvocationConfiguration.Error) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }

            var map = PortMap.Build(loaded.App.Plan, new PortSettings());
            if (!map.IsValid)
            {
                result.InvocationConfiguration.Error.WriteLine($"{path}: the plan's ports do not work: {string.Join("; ", map.Errors)}");
                return ExitCodes.BadInput;
            }

            output.WriteLine($"{path}: valid {loaded.App.Module.Name} topology");
            foreach (var role in loaded.App.Plan.Roles)
            {
                var ports = string.Join(", ", role.Ports.Select(p => $"{p.Name} {role.PortOf(p, 1)}{(role.Count > 1 ? $"+{p.Step}·i" : "")}"));
                output.WriteLine($"  {role.Role,-24} {role.Count} node{(role.Count == 1 ? "" : "s")} ({string.Join(", ", role.NodeIds())}); ports {ports}");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
