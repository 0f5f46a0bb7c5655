using Corral.Counter.Config;
using Corral.Counter.Items;
using Corral.Counter.Partitioning;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Corral.Counter.Coordinator;

/// <summary>Which worker owns which partitions, as the coordinator routes now (<c>GET /counter/owners</c>).</summary>
public sealed record OwnersView(long Version, IReadOnlyDictionary<string, IReadOnlyList<int>> Workers);

/// <summary>
/// The coordinator's routes: the original's two public ones (<c>POST /items</c>, <c>GET /items/{tenant}/count</c>) and
/// the dashboard's. A batch is checked whole (a bad item is a 400 and nothing is sent), split by partition owner,
/// forwarded in parallel, and answered 200 only when every part is durable.
/// </summary>
internal sealed class CoordinatorApi(CounterConfig config, OwnerTable owners, Forwarder forwarder, IngestActivity ingest)
{
    public void Map(IEndpointRouteBuilder routes)
    {
        // 003 read the body whatever its type, and `curl -d` sends a form type: the public write takes any (still parsed as JSON).
        routes.MapPost("/items", WriteAsync).AcceptAnyContentType();
        routes.MapGet("/items/{tenant}/count", CountAsync);
        routes.MapGet("/counter/owners", () => TypedResults.Ok(OwnersNow()));
        routes.MapGet("/counter/tenants", TenantsAsync);
    }

    public OwnersView OwnersNow()
    {
        var view = owners.Current;
        var byWorker = view.Workers.ToDictionary(w => w.NodeId, w => (IReadOnlyList<int>)Enumerable.Range(0, view.Owners.Count)
            .Where(p => view.Owners[p] >= 0 && view.Workers[view.Owners[p]] == w).ToArray());
        return new OwnersView(view.Version, byWorker);
    }

    private async Task<Results<Ok<AcceptedReply>, Accepted<AcceptedReply>, ProblemHttpResult>> WriteAsync(HttpRequest request)
    {
        var (items, problem) = await BodyReader.ReadItemsAsync(request, config.BatchLimit);
        if (items is null) return problem!;
        if (items.Count == 0) return TypedResults.Ok(new AcceptedReply(0));
        var outcome = await forwarder.WriteAsync(items, request.HttpContext.RequestAborted);
        if (outcome.Status is WriteStatus.Written or WriteStatus.Queued) ingest.Record(items);
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
        var ingested = ingest.Ingested;
        var counts = await Task.WhenAll(ingest.Recent().Select(async tenant =>
            new TenantCount(tenant, (await forwarder.CountAsync(tenant, cancellationToken)).Count)));
        return TypedResults.Ok(new TenantsView(ingested, counts));
    }

    private async Task<Results<Ok<CountReply>, ProblemHttpResult>> CountAsync(string tenant, HttpContext http)
    {
        if (ItemRules.Problem(tenant) is { } problem)
        {
            return JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid tenant", $"tenant {ItemRules.Show(tenant)} {problem}");
        }

        var (count, unavailable) = await forwarder.CountAsync(tenant, http.RequestAborted);
        return count is { } n
            ? TypedResults.Ok(new CountReply(n))
            : JsonBody.Problem(StatusCodes.Status503ServiceUnavailable, "No worker can answer",
                $"partition {new Partitioner(config.Partitions).Of(tenant)}'s owner did not answer within {config.RetryBudget.TotalSeconds:0.#} s ({unavailable})");
    }
}
