using System.CommandLine;
using Corral.Render;
using Corral.Render.Compose;
using Corral.Render.Kubernetes;
using Corral.Supervisor.Supervision;

namespace Corral.Commands;

/// <summary>
/// <c>corral render k8s|compose &lt;topology&gt; [-o DIR]</c>: the topology as manifests for an engine that schedules and
/// restarts nodes itself; the supervisor runs there with <c>--engine external</c> and the nodes join it. Starts nothing.
/// </summary>
internal static class RenderCommand
{
    public static Command Create(Node.Apps.AppCatalog catalog)
    {
        var command = new Command("render", "Write manifests that run a topology on Kubernetes or Compose; starts nothing.");
        command.Subcommands.Add(Target(catalog, "k8s", "Kubernetes manifests (one YAML stream) for the topology.", compose: false));
        command.Subcommands.Add(Target(catalog, "compose", "A docker-compose.yml with the files it names, for the topology.", compose: true));
        return command;
    }

    private static Command Target(Node.Apps.AppCatalog catalog, string name, string description, bool compose)
    {
        var topology = new TopologyOptions();
        var output = new Option<string>("--output", "-o")
        {
            Description = compose ? "The folder to write docker-compose.yml and its files into." : "A folder to write manifests.yaml into, or - for stdout.",
            DefaultValueFactory = _ => compose ? "corral-compose" : "-",
            HelpName = compose ? "DIR" : "DIR|-",
        };
        var image = new Option<string?>("--image")
        {
            Description = "Corral's image as the files name it (default corral:VERSION, as 'corral image' tags it); program roles use corral-PROGRAM with its tag.",
            HelpName = "TAG",
        };
        var command = new Command(name, description) { output, image };
        var dashboardPort = new Option<int>("--dashboard-port")
        {
            Description = $"The loopback port the supervisor's dashboard is published on (0 lets Docker pick one; default {RenderInput.DashboardPort}).",
            HelpName = "PORT",
            DefaultValueFactory = _ => RenderInput.DashboardPort,
        };
        if (compose)
        {
            command.Options.Add(dashboardPort);
            command.Validators.Add(result =>
            {
                var port = result.GetValue(dashboardPort);
                if (port is < 0 or > SupervisorOptions.HighestListenerPort)
                {
                    result.AddError($"--dashboard-port must be a port from 1 to {SupervisorOptions.HighestListenerPort}, or 0 for one Docker picks; not {port}");
                }
            });
        }

        command.Validators.Add(result =>
        {
            if (result.GetValue(image) is { } tag && (tag.Length == 0 || tag.Any(char.IsWhiteSpace)))
            {
                result.AddError($"--image must be an image reference such as corral:0.1.0 or registry.example/corral:0.1.0, not '{tag}'");
            }
        });
        topology.AddTo(command);
        command.SetAction(result =>
        {
            var errors = result.InvocationConfiguration.Error;
            var path = result.GetValue(topology.File)!;
            var overrides = topology.Overrides(result);
            var target = result.GetValue(output)!;
            // Warnings go to stderr so that `render k8s x > file` leaves only manifests in the file.
            if (TopologyOptions.TryLoad(catalog, path, overrides, errors, errors, offThisMachine: true) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }

            var input = new RenderInput
            {
                App = loaded.App,
                TopologyFileName = Path.GetFileName(path),
                TopologyText = File.ReadAllText(path),
                Version = typeof(RenderCommand).Assembly.GetName().Version is { } v ? $"{v.Major}.{v.Minor}.{v.Build}" : "0.0.0",
                Credentials = RenderedCredentials.Issue(loaded.App.Plan, RunFolder.NewRunId(DateTimeOffset.UtcNow), loaded.App.Module.OutcomeRoles),
                CustomResource = CustomResourceKind.Of(loaded.Document),
                CorralImage = result.GetValue(image),
                Overrides = overrides,
                DashboardHostPort = compose ? result.GetValue(dashboardPort) : RenderInput.DashboardPort,
            };
            var files = compose
                ? ComposeRenderer.Files(input)
                : new Dictionary<string, string> { ["manifests.yaml"] = KubernetesRenderer.Yaml(input) };
            if (target == "-")
            {
                result.InvocationConfiguration.Output.Write(files.Single().Value);
                return ExitCodes.Success;
            }

            foreach (var (file, content) in files)
            {
                var full = Path.Combine(target, file);
                var secret = file.StartsWith("credentials/", StringComparison.Ordinal);
                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                // Credential files are private from their first byte: created 0600, never chmod-ed after writing.
                var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
                if (secret && !OperatingSystem.IsWindows())
                {
                    File.Delete(full);
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using var writer = new StreamWriter(new FileStream(full, options));
                writer.Write(content);
            }

            result.InvocationConfiguration.Output.WriteLine($"wrote {files.Count} file{(files.Count == 1 ? "" : "s")} to {target}" +
                (compose ? $"; start with: docker-compose -f {Path.Combine(target, ComposeRenderer.ComposeFile)} up" : $"; apply with: kubectl apply -f {target}"));
            return ExitCodes.Success;
        });
        return command;
    }
}
