using System.Globalization;
using System.Net.Http.Headers;
using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Partitioning;
using Corral.Counter.Store;
using Corral.Node.Control;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Counter.Worker;

/// <summary>
/// A counter worker: the original's four routes (<c>GET /</c>, <c>POST /items</c>, <c>GET /items/{tenant}/count</c>,
/// <c>/kill</c>) over the partitions it owns. It answers a write only once the items are durable, and drains on
/// SIGTERM or <c>/kill</c>: it stops taking requests, finishes the ones it holds, commits and closes its partitions.
/// </summary>
public sealed partial class WorkerNode : IAsyncDisposable
{
    private readonly NodeContext _context;
    private readonly CounterConfig _config;
    private readonly ILogger _logger;
    private readonly CountReader _reads;
    private readonly CancellationTokenSource _stopping = new();
    private Task _following = Task.CompletedTask;

    private WorkerNode(NodeContext context, CounterConfig config, WebApplication app, StoreLayout layout)
    {
        _context = context;
        _config = config;
        App = app;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Corral.Counter.Worker");
        Partitions = new PartitionSet(layout, context.NodeId, config, context.Time, _logger);
        _reads = new CountReader(layout);
    }

    public WebApplication App { get; }
    public PartitionSet Partitions { get; }
    public int Port => App.BoundPort();

    /// <summary>The node's entry point under <c>corral node counter.worker</c>.</summary>
    public static async Task<int> RunAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = CounterConfig.FromJson(context.Config);
        WorkerNode node;
        try
        {
            node = await StartAsync(context, config, cancellationToken);
        }
        catch (StoreMismatchException e)
        {
            using var logging = LoggerFactory.Create(NodeHost.ConfigureLogging);
            LogStoreRefused(logging.CreateLogger("Corral.Counter.Worker"), e.Message);
            return 1;
        }

        await using (node)
        {
            var control = node.App.Services.GetRequiredService<ControlClient>();
            await NodeHost.ReportEndpointsAsync(control, context, new Dictionary<string, int> { ["http"] = node.Port }, node._logger, cancellationToken);
            LogListening(node._logger, context.NodeId, node.Port, node.Partitions.Partitioner.Count, config.Durability.ToString().ToLowerInvariant());
            node._following = node.FollowMembershipAsync(control);
            await using (cancellationToken.Register(() => node.App.Lifetime.StopApplication()))
            {
                await node.App.WaitForShutdownAsync(CancellationToken.None);
            }
        }

        return 0;
    }

    /// <summary>Opens the store (creating it, or checking its partition count) and starts serving.</summary>
    public static async Task<WorkerNode> StartAsync(NodeContext context, CounterConfig config, CancellationToken cancellationToken = default)
    {
        var layout = new StoreLayout(config.StoreFolder(context.DataDirectory), config.Partitions);
        layout.EnsureCreated();
        var builder = NodeHost.CreateBuilder(context).AddJsonContext(CounterJson.Default);
        if (config.WorkerLogs is { } logs)
        {
            // The original named each log after the worker's port; with ports chosen at start (--ports dynamic) the node id names it.
            var name = context.Port() is > 0 and var port ? port.ToString(CultureInfo.InvariantCulture) : context.NodeId;
            builder.Logging.AddProvider(new FileLogProvider(Path.Combine(logs, name)));
        }

        var app = builder.Build();
        var node = new WorkerNode(context, config, app, layout);
        app.UseNodeDefaults();
        node.Map(app);
        await app.StartAsync(cancellationToken);
        app.Services.GetRequiredService<NodeReadiness>().MarkReady();
        return node;
    }

    private void Map(IEndpointRouteBuilder routes)
    {
        // The original's health check: 200 with an empty body.
        routes.MapGet("/", () => TypedResults.Ok());
        routes.MapPost("/items", WriteAsync).RequireClusterToken(_context.Token);
        routes.MapGet("/items/{tenant}/count", Results<Ok<CountReply>, ProblemHttpResult> (string tenant) =>
            ItemRules.Problem(tenant) is { } problem
                ? JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid tenant", $"tenant {ItemRules.Show(tenant)} {problem}")
                : TypedResults.Ok(new CountReply(_reads.Count(Partitions.Partitioner.Of(tenant), tenant))));
        routes.MapMethods("/kill", ["GET", "POST"], KillAsync).RequireClusterToken(_context.Token);
    }

    private async Task<Results<Ok<AcceptedReply>, Accepted<AcceptedReply>, ProblemHttpResult>> WriteAsync(HttpRequest request)
    {
        var (body, length, tooLarge) = await BodyReader.ReadAsync(request, NodeHost.DefaultMaxRequestBodyBytes);
        if (tooLarge is not null) return tooLarge;
        var parsed = ItemBatchParser.Parse(body.AsSpan(0, length), _config.BatchLimit);
        if (parsed.Problem is { } problem) return JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid items", problem + "; nothing was written");
        var items = parsed.Items!;
        var result = await Partitions.WriteAsync(items);
        if (result.Errors.Count > 0)
        {
            return JsonBody.Problem(StatusCodes.Status500InternalServerError, "Store failed", string.Join("; ", result.Errors));
        }

        if (result.StalePartitions.Count > 0)
        {
            return JsonBody.Problem(StatusCodes.Status409Conflict, "Not the owner",
                $"partition(s) {string.Join(", ", result.StalePartitions)} have a newer owner; send their items there");
        }

        return _config.Durability == Durability.Periodic
            ? TypedResults.Accepted((string?)null, new AcceptedReply(items.Count))
            : TypedResults.Ok(new AcceptedReply(items.Count));
    }

    /// <summary>
    /// The original's <c>/kill</c>: the worker drains. It asks the supervisor to restart it, so a worker still in the
    /// config comes back (as the original's coordinator respawned it); with no supervisor it just drains and exits.
    /// </summary>
    private async Task<Accepted<KillReply>> KillAsync()
    {
        LogKill(_logger, _context.NodeId);
        using var http = new HttpClient { BaseAddress = _context.ControlUrl, Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(ClusterToken.Scheme, _context.Token);
        try
        {
            using var response = await http.PostAsync($"/v1/nodes/{Uri.EscapeDataString(_context.NodeId)}/restart", null);
            response.EnsureSuccessStatusCode();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            LogKillAlone(_logger, e.Message);
            App.Lifetime.StopApplication();
        }

        return TypedResults.Accepted((string?)null, new KillReply(_context.NodeId, "draining"));
    }

    /// <summary>
    /// Lets go of the partitions the membership gives to another worker: each is drained (its queued commits finish)
    /// and closed, so the new owner finds the file free. The epoch keeps this safe even when the views differ.
    /// </summary>
    private async Task FollowMembershipAsync(ControlClient control)
    {
        try
        {
            await foreach (var change in control.WatchMembershipAsync(_stopping.Token))
            {
                var workers = change.Snapshot.OfRole(CounterPlan.WorkerRole).Select(m => m.NodeId).Order(StringComparer.Ordinal).ToArray();
                if (!workers.Contains(_context.NodeId)) continue;
                foreach (var partition in Partitions.Open().Keys)
                {
                    var owner = workers[Rendezvous.Owner(partition, workers)];
                    if (owner != _context.NodeId) await Partitions.ReleaseAsync(partition, $"{owner} owns it now");
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _following;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(timeout.Token);
        // After the listener has finished its requests: what they queued is committed before the files close.
        await Partitions.DisposeAsync();
        _reads.Dispose();
        await App.DisposeAsync();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "worker {NodeId} up on {Port}: {Partitions} partitions, durability {Durability}")]
    private static partial void LogListening(ILogger logger, string nodeId, int port, int partitions, string durability);

    [LoggerMessage(Level = LogLevel.Critical, Message = "cannot open the store: {Problem}")]
    private static partial void LogStoreRefused(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "gracefully killing worker {NodeId}: draining, then the supervisor starts it again")]
    private static partial void LogKill(ILogger logger, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "no supervisor took the restart ({Error}); draining and exiting")]
    private static partial void LogKillAlone(ILogger logger, string error);
}
