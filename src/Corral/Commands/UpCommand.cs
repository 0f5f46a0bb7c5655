using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using Corral.Node.Apps;
using Corral.Node.Control;
using Corral.Node.Security;
using Corral.Node.Text;
using Corral.Supervisor.Supervision;
using Corral.Node.Topology;

namespace Corral.Commands;

/// <summary><c>corral up &lt;topology&gt;</c>: plans the app's nodes, starts and supervises them until the app finishes or the user stops it.</summary>
internal static class UpCommand
{
    public const int DefaultDashboardPort = 8000;

    public static Command Create(AppCatalog catalog)
    {
        var topology = new TopologyOptions();
        var data = new Option<string>("--data") { Description = "The data folder: stores and run folders live here.", DefaultValueFactory = _ => ".corral", HelpName = "DIR" };
        var resume = new Option<string?>("--resume") { Description = "Continue an earlier run by its id (its folder and the app's stored state).", HelpName = "RUN-ID" };
        var portOffset = new Option<int>("--port-offset") { Description = "Shift every default port by N (run two clusters side by side).", HelpName = "N" };
        var ports = new Option<string>("--ports") { Description = "fixed: the roles' default ports; dynamic: every node binds a free port and reports it.", DefaultValueFactory = _ => "fixed" };
        ports.AcceptOnlyFromAmong("fixed", "dynamic");
        var dashboard = new Option<int?>("--dashboard") { Description = $"The dashboard's port (default {DefaultDashboardPort}, shifted by --port-offset; a free one with --ports dynamic).", HelpName = "PORT" };
        var noDashboard = new Option<bool>("--no-dashboard") { Description = "Do not serve the dashboard." };
        var keepRuns = PruneCommand.KeepOption("--keep-runs", "When the run starts, remove run folders past the newest N (0 keeps all); running runs are kept.");
        var grace = new Option<string>("--grace") { Description = "How long nodes may take to drain on stop before they are killed.", DefaultValueFactory = _ => "10s", HelpName = "DURATION" };
        var engine = new Option<string>("--engine")
        {
            Description = "Who starts the nodes: process (local processes), docker (containers), or external (an engine such as Compose or Kubernetes runs them and they join with 'corral node --join').",
            DefaultValueFactory = _ => "process",
        };
        engine.AcceptOnlyFromAmong("process", "docker", "external");
        var listen = new Option<string>("--listen")
        {
            Description = "The address the control API and the dashboard listen on (0.0.0.0 for nodes in containers).",
            DefaultValueFactory = _ => "127.0.0.1",
            HelpName = "ADDRESS",
        };
        var hostNames = new Option<string[]>("--host-name")
        {
            Description = "Another name the control API and the dashboard answer to (the supervisor's service name, e.g. corral-supervisor). Repeatable.",
            HelpName = "NAME",
        };
        var signingKey = new Option<string?>("--signing-key-file")
        {
            Description = "With --engine external: the run's signing key as 'corral render' wrote it; the rendered nodes' credentials are accepted.",
            HelpName = "PATH",
        };
        var image = new Option<string>("--image")
        {
            Description = "With --engine docker: Corral's image (built by 'corral image'); program roles run from corral-PROGRAM with the same tag ('corral image --program').",
            HelpName = "TAG",
            DefaultValueFactory = _ => $"corral:{ImageCommand.Version}",
        };
        var command = new Command("up", "Start an app's nodes from a topology file, stream their logs, supervise them, and stop them on Ctrl+C.")
        {
            data, resume, portOffset, ports, dashboard, noDashboard, grace, keepRuns, engine, listen, hostNames, signingKey, image,
        };
        topology.AddTo(command);
        // Only what concerns the command line itself is checked here; the port offset, the dashboard's port and the
        // other options are checked once, by SupervisorOptions.Validate, when the options are built.
        command.Validators.Add(result =>
        {
            if (result.GetValue(dashboard) is not null && result.GetValue(noDashboard))
            {
                result.AddError("--dashboard PORT and --no-dashboard exclude each other");
            }

            if (result.GetValue(resume) is { } id && (id.Length == 0 || id.IndexOfAny(['/', '\\']) >= 0 || id.StartsWith('.')))
            {
                result.AddError($"--resume takes a run id as printed by 'corral up' (e.g. 20261122-041500-ab12), not a path: '{id}'");
            }
        });
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            var errors = result.InvocationConfiguration.Error;
            var path = result.GetValue(topology.File)!;
            var overrides = topology.Overrides(result);
            var offThisMachine = result.GetValue(engine) != "process";
            if (TopologyOptions.TryLoad(catalog, path, overrides, output, errors, offThisMachine) is not { } loaded)
            {
                return ExitCodes.BadInput;
            }

            if (!Durations.TryParse(result.GetValue(grace)!, out var gracePeriod))
            {
                errors.WriteLine($"--grace must be {Durations.Expected}, got '{result.GetValue(grace)}'");
                return ExitCodes.BadInput;
            }

            if (PruneCommand.ParseCount("--keep-runs", result.GetValue(keepRuns)!, errors) is not { } keep)
            {
                return ExitCodes.BadInput;
            }

            SigningKey? key = null;
            if (result.GetValue(signingKey) is { } keyPath)
            {
                try
                {
                    key = SigningKey.Read(keyPath);
                }
                catch (InvalidOperationException e)
                {
                    errors.WriteLine($"corral: --signing-key-file: {e.Message}");
                    return ExitCodes.BadInput;
                }
            }

            var options = new SupervisorOptions
            {
                Engine = result.GetValue(engine) switch
                {
                    "docker" => SupervisorEngine.Docker,
                    "external" => SupervisorEngine.External,
                    _ => SupervisorEngine.Process,
                },
                ListenAddress = result.GetValue(listen)!,
                HostNames = result.GetValue(hostNames) ?? [],
                DockerImage = result.GetValue(image)!,
                SigningKey = key,
                KeepRuns = keep,
                DataDirectory = Path.GetFullPath(result.GetValue(data)!),
                ResumeRunId = result.GetValue(resume),
                PortOffset = result.GetValue(portOffset),
                DynamicPorts = result.GetValue(ports) == "dynamic",
                Seed = GivenSeed(loaded.Document) ?? RandomNumberGenerator.GetInt32(int.MaxValue),
                ExplicitSeed = GivenSeed(loaded.Document) is not null,
                GracePeriod = gracePeriod,
                Launcher = NodeLauncher.ForCurrentProcess(),
                DashboardPort = result.GetValue(noDashboard) ? null
                    : result.GetValue(dashboard) ?? (result.GetValue(ports) == "dynamic" ? 0 : DefaultDashboardPort + result.GetValue(portOffset)),
            };
            if (options.Validate() is { Count: > 0 } problems)
            {
                foreach (var problem in problems)
                {
                    errors.WriteLine($"corral: {problem}");
                }

                return ExitCodes.BadInput;
            }

            LiveFooterSink? footer = null;
            if (loaded.App.Module is ILiveStatus && !Console.IsOutputRedirected)
            {
                footer = new LiveFooterSink(ConsoleOutputSink.ForConsole(), Console.Out, () => Console.WindowWidth);
            }

            options = options with { Sink = footer ?? (IOutputSink)ConsoleOutputSink.ForConsole() };
            var source = new FileTopologySource(path,
                file => catalog.Load(TopologyLoader.Load(file, overrides) with { NodesOffThisMachine = offThisMachine }).App);
            return await RunAsync(loaded.App.Module, options, source, footer, output, errors, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(IAppModule module, SupervisorOptions options, ITopologySource source, LiveFooterSink? footer,
        TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        // The first Ctrl+C or SIGTERM drains every node in order; a second ends corral at once (its nodes die with it).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var signals = StopSignals.Register(stop);

        await using var supervisor = new RunSupervisor(options, source);
        SupervisorResult outcome;
        using var live = new CancellationTokenSource();
        var showing = Task.CompletedTask;
        try
        {
            await supervisor.StartAsync(stop.Token);
            if (footer is not null && module is ILiveStatus status)
            {
                showing = ShowLiveStatusAsync(status, footer, supervisor, live.Token);
            }

            outcome = await supervisor.RunAsync(stop.Token);
        }
        catch (Exception e) when (e is SupervisorException or TopologyException)
        {
            errors.WriteLine($"corral: {e.Message}");
            return ExitCodes.BadInput;
        }
        finally
        {
            await live.CancelAsync();
            await showing;
            footer?.SetFooter([]);
        }

        if (outcome.Outcome is { } reported)
        {
            foreach (var line in module.DescribeOutcome(reported.Summary, outcome.Run.Path))
            {
                output.WriteLine(line);
            }
        }

        if (outcome.Error is { } error)
        {
            errors.WriteLine($"corral: {error}");
        }

        output.WriteLine($"run {outcome.Run.RunId}: {outcome.End.ToString().ToLowerInvariant()} (exit {outcome.ExitCode}); folder {outcome.Run.Path}");
        return outcome.ExitCode;
    }

    /// <summary>Feeds the app's live status (the shootout's health table) into the terminal footer until the run ends.</summary>
    private static async Task ShowLiveStatusAsync(ILiveStatus status, LiveFooterSink footer, RunSupervisor supervisor, CancellationToken cancellationToken)
    {
        using var control = new ControlClient(supervisor.ControlUrl, supervisor.OperatorCredential);
        try
        {
            await foreach (var lines in status.WatchAsync(control, cancellationToken))
            {
                footer.SetFooter(lines);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended.
        }
    }

    /// <summary>
    /// The topology's seed (after <c>--seed</c>/<c>--set</c>), or null: then a fresh one, so every run still has one to
    /// print and replay, and a resumed run keeps the one it started with.
    /// </summary>
    private static long? GivenSeed(TopologyDocument document) =>
        document.Setting("seed") is TopologyScalar seed
            && long.TryParse(seed.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;
}
