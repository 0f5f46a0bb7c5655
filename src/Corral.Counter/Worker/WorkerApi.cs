using System.Net.Http.Headers;
using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Store;
using Corral.Node.Security;
using Corral.Node.Nodes;
using Corral.Node.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Corral.Counter.Worker;

/// <summary>
/// A counter worker's routes, the original's four (<c>GET /</c>, <c>POST /items</c>, <c>GET /items/{tenant}/count</c>,
/// <c>/kill</c>) over the partitions it owns. A write is answered only once the items are durable.
/// </summary>
internal sealed partial class WorkerApi(NodeContext context, CounterConfig config, PartitionSet partitions,
    IHostApplicationLifetime lifetime, ILogger<WorkerApi> logger)
{
    public void Map(IEndpointRouteBuilder routes)
    {
        // The original's health check: 200 with an empty body.
        routes.MapGet("/", () => TypedResults.Ok());
        // Items reach a worker only through the coordinator, which routes each partition to its owner.
        routes.MapPost("/items", WriteAsync).RequireCaller(context.Credentials, CounterPlan.CoordinatorRole);
        routes.MapGet("/items/{tenant}/count", Results<Ok<CountReply>, ProblemHttpResult> (string tenant) =>
            ItemRules.Problem(tenant) is { } problem
                ? JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid tenant", $"tenant {ItemRules.Show(tenant)} {problem}")
                : TypedResults.Ok(new CountReply(partitions.Count(tenant))));
        routes.MapMethods("/kill", ["GET", "POST"], KillAsync).RequireCaller(context.Credentials, Credential.OperatorRole, CounterPlan.CoordinatorRole);
    }

    private async Task<Results<Ok<AcceptedReply>, Accepted<AcceptedReply>, ProblemHttpResult>> WriteAsync(HttpRequest request)
    {
        var (items, problem) = await BodyReader.ReadItemsAsync(request, config.BatchLimit);
        if (items is null) return problem!;
        var result = await partitions.WriteAsync(items);
        if (result.Errors.Count > 0)
        {
            return JsonBody.Problem(StatusCodes.Status500InternalServerError, "Store failed", string.Join("; ", result.Errors));
        }

        if (result.StalePartitions.Count > 0)
        {
            return JsonBody.Problem(StatusCodes.Status409Conflict, "Not the owner",
                $"partition(s) {string.Join(", ", result.StalePartitions)} have a newer owner; send their items there");
        }

        return config.Durability == Durability.Periodic
            ? TypedResults.Accepted((string?)null, new AcceptedReply(items.Count))
            : TypedResults.Ok(new AcceptedReply(items.Count));
    }

    /// <summary>
    /// The original's <c>/kill</c>: the worker drains. It asks the supervisor to restart it, so a worker still in the
    /// config comes back (as the original's coordinator respawned it); with no supervisor it just drains and exits.
    /// </summary>
    private async Task<Accepted<KillReply>> KillAsync()
    {
        LogKill(logger, context.NodeId);
        using var http = new HttpClient { BaseAddress = context.ControlUrl, Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(CredentialVerifier.Scheme, context.Token);
        try
        {
            using var response = await http.PostAsync($"/v1/nodes/{Uri.EscapeDataString(context.NodeId)}/restart", null);
            response.EnsureSuccessStatusCode();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            LogKillAlone(logger, e.Message);
            lifetime.StopApplication();
        }

        return TypedResults.Accepted((string?)null, new KillReply(context.NodeId, "draining"));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "gracefully killing worker {NodeId}: draining, then the supervisor starts it again")]
    private static partial void LogKill(ILogger logger, string nodeId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "no supervisor took the restart ({Error}); draining and exiting")]
    private static partial void LogKillAlone(ILogger logger, string error);
}
