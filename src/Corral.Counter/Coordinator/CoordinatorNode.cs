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

namespace Corral.Counter.Coordinator;

/// <summary>Which worker owns which partitions, as the coordinator routes now (<c>GET /counter/owners</c>).</summary>
public sealed record OwnersView(long Version, IReadOnlyDictionary<string, IReadOnlyList<int>> Workers);

/// <summary>
/// The coordinator: the original's two public routes. It checks a batch whole (a bad item is a 400 and nothing is
/// sent), splits it by partition owner, forwards the parts in parallel and answers 200 only when every part is durable.
/// </summary>
public sealed partial class CoordinatorNode : IAsyncDisposable
{
    private readonly NodeContext _context;
    private readonly CounterConfig _config;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task _following = Task.CompletedTask;

    private CoordinatorNode(NodeContext context, CounterConfig config, WebApplication app)
    {
        _context = context;
        _config = config;
        App = app;
        _logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Corral.Counter.Coordinator");
        Owners = new OwnerTable(config.Partitions, context.Time);
        Forwarder = new Forwarder(Owners, config, context.Token, context.Time, _logger);
    }

    public WebApplication App { get; }
    public OwnerTable Owners { get; }
    public Forwarder Forwarder { get; }
    internal IngestActivity Ingest { get; } = new();
    public int Port => App.BoundPort();

    public static async Task<int> RunAsync(NodeContext context, CancellationToken cancellationToken)
    {
        var config = CounterConfig.FromJson(context.Config);
        var folder = config.StoreFolder(context.DataDirectory);
        await using var node = await StartAsync(context, config, cancellationToken);
        try
        {
            new StoreLayout(folder, config.Partitions).EnsureCreated();
        }
        catch (StoreMismatchException e)
        {
            LogStoreRefused(node._logger, e.Message);
            return 1;
        }

        var control = node.App.Services.GetRequiredService<ControlClient>();
        await NodeHost.ReportEndpointsAsync(control, context, new Dictionary<string, int> { ["http"] = node.Port }, node._logger, cancellationToken);
        LogUp(node._logger, node.Port, config.Partitions, folder);
        LogDurability(node._logger, Describe(config));
        node.Follow(control);
        await using (cancellationToken.Register(() => node.App.Lifetime.StopApplication()))
        {
            await node.App.WaitForShutdownAsync(CancellationToken.None);
        }

        return 0;
    }

    /// <summary>The one line at start that says when a write is acknowledged (and, for the original's file, what <c>worker_persist</c> does).</summary>
    internal static string Describe(CounterConfig config) => config.Durability switch
    {
        Durability.Periodic => $"durability periodic: POST /items answers 202 once the items are in a worker's memory; they are persisted every " +
            $"{config.PersistInterval.TotalSeconds:0.###} s, a crash loses at most that much, and counts lag by as much",
        _ => $"durability {(config.Durability == Durability.Fsync ? "fsync (synchronous=FULL: survives power loss)" : "sync (synchronous=NORMAL: survives any process's SIGKILL)")}: " +
            "POST /items answers 200 only after every item is committed" +
            (config.FromOriginal ? $"; the original's worker_persist ({config.PersistInterval.TotalSeconds:0.###} s) only sets the interval of 'durability: periodic'" : ""),
    };

    public static async Task<CoordinatorNode> StartAsync(NodeContext context, CounterConfig config, CancellationToken cancellationToken = default)
    {
        var builder = NodeHost.CreateBuilder(context).AddJsonContext(CounterJson.Default);
        var app = builder.Build();
        var node = new CoordinatorNode(context, config, app);
        app.UseNodeDefaults();
        node.Map(app);
        await app.StartAsync(cancellationToken);
        return node;
    }

    /// <summary>Routes by the supervisor's membership feed; the node is ready once the first snapshot is in.</summary>
    public void Follow(ControlClient control) => _following = FollowMembershipAsync(control);

    /// <summary>Routes to a fixed set of workers (tests and benchmarks without a supervisor).</summary>
    public void UseWorkers(MembershipSnapshot snapshot)
    {
        Owners.Update(snapshot, CounterPlan.WorkerRole);
        App.Services.GetRequiredService<NodeReadiness>().MarkReady();
    }

    private void Map(IEndpointRouteBuilder routes)
    {
        routes.MapPost("/items", WriteAsync);
        routes.MapGet("/items/{tenant}/count", CountAsync);
        routes.MapGet("/counter/owners", () => TypedResults.Ok(OwnersNow()));
        routes.MapGet("/counter/tenants", TenantsAsync);
    }

    internal OwnersView OwnersNow()
    {
        var view = Owners.Current;
        var byWorker = view.Workers.ToDictionary(w => w.NodeId, w => (IReadOnlyList<int>)Enumerable.Range(0, view.Owners.Count)
            .Where(p => view.Owners[p] >= 0 && view.Workers[view.Owners[p]] == w).ToArray());
        return new OwnersView(view.Version, byWorker);
    }

    private async Task<Results<Ok<AcceptedReply>, Accepted<AcceptedReply>, ProblemHttpResult>> WriteAsync(HttpRequest request)
    {
        var (body, length, tooLarge) = await BodyReader.ReadAsync(request, NodeHost.DefaultMaxRequestBodyBytes);
        if (tooLarge is not null) return tooLarge;
        var parsed = ItemBatchParser.Parse(body.AsSpan(0, length), _config.BatchLimit);
        if (parsed.Problem is { } problem) return JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid items", problem + "; nothing was written");
        var items = parsed.Items!;
        if (items.Count == 0) return TypedResults.Ok(new AcceptedReply(0));
        var outcome = await Forwarder.WriteAsync(items, request.HttpContext.RequestAborted);
        if (outcome.Status is WriteStatus.Written or WriteStatus.Queued) Ingest.Record(items);
        return outcome.Status switch
        {
            WriteStatus.Written => TypedResults.Ok(new AcceptedReply(items.Count)),
            WriteStatus.Queued => TypedResults.Accepted((string?)null, new AcceptedReply(items.Count)),
            WriteStatus.Refused => JsonBody.Problem(StatusCodes.Status502BadGateway, "Worker refused the items", outcome.Detail!),
            _ => JsonBody.Problem(StatusCodes.Status503ServiceUnavailable, "No worker can take the write", outcome.Detail!),
        };
    }

    /// <summary>The dashboard's view: recent tenants' counts, read from their owners as <c>GET /items/{tenant}/count</c> reads them.</summary>
    private async Task<Ok<TenantsView>> TenantsAsync(CancellationToken cancellationToken)
    {
        var ingested = Ingest.Ingested;
        var counts = await Task.WhenAll(Ingest.Recent().Select(async tenant =>
            new TenantCount(tenant, (await Forwarder.CountAsync(tenant, cancellationToken)).Count)));
        return TypedResults.Ok(new TenantsView(ingested, counts));
    }

    private async Task<Results<Ok<CountReply>, ProblemHttpResult>> CountAsync(string tenant, HttpContext http)
    {
        if (ItemRules.Problem(tenant) is { } problem)
        {
            return JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid tenant", $"tenant {ItemRules.Show(tenant)} {problem}");
        }

        var (count, unavailable) = await Forwarder.CountAsync(tenant, http.RequestAborted);
        return count is { } n
            ? TypedResults.Ok(new CountReply(n))
            : JsonBody.Problem(StatusCodes.Status503ServiceUnavailable, "No worker can answer",
                $"partition {new Partitioner(_config.Partitions).Of(tenant)}'s owner did not answer within {_config.RetryBudget.TotalSeconds:0.#} s ({unavailable})");
    }

    private async Task FollowMembershipAsync(ControlClient control)
    {
        var readiness = App.Services.GetRequiredService<NodeReadiness>();
        try
        {
            await foreach (var change in control.WatchMembershipAsync(_stopping.Token))
            {
                Owners.Update(change.Snapshot, CounterPlan.WorkerRole);
                readiness.MarkReady();
                if (change.Member is { Role: CounterPlan.WorkerRole } member)
                {
                    LogMembership(_logger, change.Change.ToString(), member.NodeId, Owners.Current.Workers.Count);
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
        await App.DisposeAsync();
        Forwarder.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Coordinator is up on :{Port} ({Partitions} partitions, store {Store})")]
    private static partial void LogUp(ILogger logger, int port, int partitions, string store);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Line}")]
    private static partial void LogDurability(ILogger logger, string line);

    [LoggerMessage(Level = LogLevel.Information, Message = "membership {Change} {NodeId}: {Count} worker(s) routed")]
    private static partial void LogMembership(ILogger logger, string change, string nodeId, int count);

    [LoggerMessage(Level = LogLevel.Critical, Message = "cannot open the store: {Problem}")]
    private static partial void LogStoreRefused(ILogger logger, string problem);
}
