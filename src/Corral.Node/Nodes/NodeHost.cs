using System.Net;
using System.Text.Json.Serialization.Metadata;
using Corral.Node.Control;
using Corral.Node.Http;
using Corral.Node.Randomness;
using Corral.Node.Resilience;
using Corral.Node.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Corral.Node.Nodes;

/// <summary>
/// Defaults shared by every role: Kestrel on the node's address and port, <c>/healthz</c> and <c>/readyz</c>,
/// problem details for errors, one-line logs, a control-API client and the node's readiness flag.
/// </summary>
public static partial class NodeHost
{
    /// <summary>Bodies are small everywhere except where a role raises the limit on purpose (the balancer's proxy).</summary>
    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    public static WebApplicationBuilder CreateBuilder(NodeContext context, string portName = "http")
    {
        var ports = new NodePorts(portName);
        var builder = HttpServer.CreateBuilder("corral-" + context.Role, context.BindAddress, context.Port(portName), DefaultMaxRequestBodyBytes,
            ports.SetMain);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        ConfigureLogging(builder.Logging);
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, ControlJson.Default));
        builder.Services.AddSingleton(context);
        builder.Services.AddSingleton(ports);
        builder.Services.AddSingleton(context.Time);
        builder.Services.AddSingleton<NodeReadiness>();
        builder.Services.AddSingleton(_ => new ControlClient(context.ControlUrl, context.Token, context.Time) { Seed = context.Seed });
        return builder;
    }

    /// <summary>
    /// Lets the role's typed results (<c>TypedResults.Ok(record)</c>) serialize its own types: under Native AOT
    /// there is no reflection to fall back on, so the role's source-generated context is asked first.
    /// </summary>
    public static WebApplicationBuilder AddJsonContext(this WebApplicationBuilder builder, IJsonTypeInfoResolver context)
    {
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, context));
        return builder;
    }

    /// <summary>
    /// Opens another listener beside the main one, on the planned port <paramref name="portName"/> (the balancer's h2c
    /// listener), and has <see cref="RunAsync"/> report it with the main one.
    /// </summary>
    public static WebApplicationBuilder AddListener(this WebApplicationBuilder builder, NodeContext context, string portName,
        Action<ListenOptions>? configure = null)
    {
        ListenOptions? opened = null;
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Parse(context.BindAddress), context.Port(portName), listen =>
        {
            configure?.Invoke(listen);
            opened = listen;
        }));
        Ports(builder).Add(portName, () => opened?.IPEndPoint?.Port);
        return builder;
    }

    /// <summary>The ports <see cref="CreateBuilder"/>'s node reports; a role adds those of listeners it opens itself.</summary>
    public static NodePorts Ports(WebApplicationBuilder builder) =>
        builder.Services.Where(d => !d.IsKeyedService).Select(d => d.ImplementationInstance).OfType<NodePorts>().LastOrDefault()
        ?? throw new InvalidOperationException("the builder was not made by NodeHost.CreateBuilder");

    /// <summary>One-line logs on stdout; framework chatter only from warnings up.</summary>
    public static void ConfigureLogging(ILoggingBuilder logging)
    {
        logging.ClearProviders();
        // Registered by hand: AddConsoleFormatter<,> binds its options from configuration by reflection.
        logging.AddConsole(o => o.FormatterName = NodeLogFormatter.FormatterName);
        logging.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, NodeLogFormatter>());
        logging.AddFilter("Microsoft", LogLevel.Warning);
        logging.AddFilter("System.Net.Http", LogLevel.Warning);
    }

    /// <summary>
    /// Maps <c>/healthz</c> (the process serves) and <c>/readyz</c> (it takes work), the error handlers, and the listener
    /// rules: a foreign Host gets 421 (<see cref="HostGuard"/>), a write with a non-JSON body 415 (<see cref="JsonWrites"/>).
    /// </summary>
    public static WebApplication UseNodeDefaults(this WebApplication app)
    {
        app.UseHostGuard(IPAddress.Parse(app.Services.GetRequiredService<NodeContext>().BindAddress));
        app.UseJsonWrites();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        var readiness = app.Services.GetRequiredService<NodeReadiness>();
        var node = app.Services.GetRequiredService<NodeContext>();
        app.Lifetime.ApplicationStopping.Register(readiness.MarkDraining);
        // Both probes name the node instance, so the supervisor can tell its node from a stranger on the planned port.
        app.MapGet("/healthz", () => TypedResults.Json(ProbeReply.Of("live", node), ControlJson.Default.ProbeReply));
        app.MapGet("/readyz", Results<JsonHttpResult<ProbeReply>, ProblemHttpResult> () => readiness.IsReady
            ? TypedResults.Json(ProbeReply.Of("ready", node), ControlJson.Default.ProbeReply)
            : TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
                title: readiness.IsDraining ? "Draining" : "Not ready",
                detail: readiness.IsDraining ? "the node is leaving and takes no new work" : "the node is still starting"));
        return app;
    }

    /// <summary>The port Kestrel actually bound (differs from the planned one when it was 0).</summary>
    public static int BoundPort(this WebApplication app) =>
        app.Services.GetService<NodePorts>()?.MainPort ?? HttpServer.BoundPort(app);

    /// <summary>
    /// Starts the node, reports its bound ports to the supervisor, and waits until the host stops
    /// (SIGTERM from the supervisor means "drain"). Returns the node's exit code: 0, it drained; 1, its background
    /// work failed (see <see cref="ExitCode"/>).
    /// </summary>
    public static async Task<int> RunAsync(WebApplication app, CancellationToken cancellationToken = default,
        IReadOnlyDictionary<string, int>? extraPorts = null)
    {
        var context = app.Services.GetRequiredService<NodeContext>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Corral.Node");
        await app.StartAsync(cancellationToken);
        var ports = new Dictionary<string, int>(extraPorts ?? new Dictionary<string, int>());
        var bound = app.Services.GetService<NodePorts>()?.Bound(app.BoundPort()) ?? new Dictionary<string, int> { ["http"] = app.BoundPort() };
        foreach (var (name, port) in bound) ports[name] = port;
        await ReportEndpointsAsync(app.Services.GetRequiredService<ControlClient>(), context, ports, logger, cancellationToken);
        LogListening(logger, context.NodeId, context.Role, string.Join(", ", ports.Select(p => $"{p.Key} {p.Value}")));
        await using var stop = cancellationToken.Register(() => app.Lifetime.StopApplication());
        using var watching = new CancellationTokenSource();
        var lost = WatchControlPlaneAsync(app, context, logger, watching.Token);
        await app.WaitForShutdownAsync(CancellationToken.None);
        await watching.CancelAsync();
        return await lost ? 1 : ExitCode(app, logger);
    }

    /// <summary>
    /// With <see cref="NodeContext.ControlLossGrace"/> set (a node in a container, which does not die with its
    /// supervisor), stops the node once the control API has not answered for that long; true when it did. The node
    /// then drains as on SIGTERM and exits 1: it did not choose to leave.
    /// </summary>
    private static async Task<bool> WatchControlPlaneAsync(WebApplication app, NodeContext context, ILogger logger, CancellationToken cancellationToken)
    {
        if (context.ControlLossGrace is not { } grace)
        {
            return false;
        }

        var control = app.Services.GetRequiredService<ControlClient>();
        var watch = new ControlPlaneWatch(async ct => await control.GetMembershipAsync(ct), new ControlPlaneWatchOptions { Grace = grace }, context.Time);
        try
        {
            var lost = await watch.WaitLostAsync(cancellationToken);
            LogControlPlaneLost(logger, context.NodeId, control.BaseAddress, Durations.Brief(lost.Silence), lost.LastError);
            app.Lifetime.StopApplication();
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// A crash is never a clean exit. Background work that ends with an exception stops the host (the default
    /// <see cref="BackgroundServiceExceptionBehavior"/>), which on its own would look like a drain (exit 0) and the
    /// supervisor would not restart the node; any faulted <see cref="BackgroundService"/> makes the exit code 1.
    /// </summary>
    private static int ExitCode(WebApplication app, ILogger logger)
    {
        var failed = app.Services.GetServices<IHostedService>().OfType<BackgroundService>()
            .Where(work => work.ExecuteTask is { IsFaulted: true }).ToArray();
        foreach (var work in failed)
        {
            LogWorkFailed(logger, work.GetType().Name, work.ExecuteTask!.Exception!.GetBaseException().Message);
        }

        return failed.Length == 0 ? 0 : 1;
    }

    // Twenty tries, 50 ms apart at first and at most 1 s later, about 15 s in all: enough for a supervisor still
    // starting its control API, short enough that a node started by hand with a wrong --join URL soon says so
    // instead of retrying in silence (it then runs on unreported).
    private const int EndpointReportAttempts = 20;

    /// <summary>Tells the supervisor where this node listens; bounded retries, since a node started by hand may have no supervisor yet.</summary>
    public static async Task ReportEndpointsAsync(ControlClient control, NodeContext context, IReadOnlyDictionary<string, int> ports,
        ILogger logger, CancellationToken cancellationToken)
    {
        var backoff = new Backoff(new BackoffOptions { Initial = TimeSpan.FromMilliseconds(50), Max = TimeSpan.FromSeconds(1) },
            context.Time, new SeededRandom(context.Seed, $"{context.NodeId}/endpoints"));
        while (true)
        {
            try
            {
                await control.ReportEndpointsAsync(context.NodeId, ports, cancellationToken);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Attempt counts the waits so far: after the last try there is no wait left, only the warning.
                if (backoff.Attempt == EndpointReportAttempts - 1)
                {
                    LogReportFailed(logger, control.BaseAddress, e.Message);
                    return;
                }

                await backoff.WaitAsync(cancellationToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{NodeId} ({Role}) listening: {Ports}")]
    private static partial void LogListening(ILogger logger, string nodeId, string role, string ports);

    [LoggerMessage(Level = LogLevel.Error, Message = "{NodeId} lost the control plane: {Control} has not answered for {Silence} ({Error}); stopping, exit 1")]
    private static partial void LogControlPlaneLost(ILogger logger, string nodeId, Uri control, string silence, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Work} failed, so the node exits 1: {Error}")]
    private static partial void LogWorkFailed(ILogger logger, string work, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not report endpoints to the supervisor at {Control}: {Error}")]
    private static partial void LogReportFailed(ILogger logger, Uri control, string error);
}

/// <summary>
/// The body of <c>/healthz</c> and <c>/readyz</c>: <c>{"status": "live"}</c> or <c>{"status": "ready"}</c>, with the node
/// id and instance of the process that answers (the supervisor accepts only its own node's answer).
/// </summary>
public sealed record ProbeReply(string Status)
{
    public string? NodeId { get; init; }
    public long? Instance { get; init; }

    public static ProbeReply Of(string status, NodeContext node) => new(status) { NodeId = node.NodeId, Instance = node.Instance };
}
