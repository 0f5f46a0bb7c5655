using Corral.Node.Security;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.WorkQueue.Store;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Corral.WorkQueue.Controller;

/// <summary>The controller's endpoints: the worker API (token required) and the reporter (read-only, open on loopback).</summary>
internal static class QueueApi
{
    public static IEndpointRouteBuilder MapWorkQueue(this IEndpointRouteBuilder app, CredentialVerifier credentials)
    {
        // Workers of this run only, each for itself: the worker named in a body must be the caller (a worker's
        // credential cannot claim, extend or complete in another worker's name).
        var workers = app.MapGroup("").RequireCaller(credentials, WorkQueuePlan.WorkerRole);
        workers.MapPost(QueueRoutes.Claim, async Task<Results<Ok<ClaimReply>, ProblemHttpResult>> (HttpRequest request, QueueService queue) =>
        {
            var (body, problem) = await JsonBody.ReadAsync(request, WorkQueueJson.Default.ClaimRequest);
            if (problem is not null) return problem;
            if (!IsName(body!.Worker)) return BadName("worker", body.Worker);
            if (NotCallers(request, body.Worker) is { } notYours) return notYours;
            return TypedResults.Ok(await queue.ClaimAsync(body.Worker));
        });
        workers.MapPost(QueueRoutes.Heartbeat, async Task<Results<Ok<ReportReply>, ProblemHttpResult>> (HttpRequest request, QueueService queue) =>
        {
            var (body, problem) = await JsonBody.ReadAsync(request, WorkQueueJson.Default.HeartbeatRequest);
            if (problem is not null) return problem;
            if (!IsName(body!.Worker)) return BadName("worker", body.Worker);
            if (NotCallers(request, body.Worker) is { } notYours) return notYours;
            return await queue.HeartbeatAsync(body)
                ? TypedResults.Ok(new ReportReply("extended"))
                : LeaseLost(body.Key, body.Attempt, body.Worker);
        });
        workers.MapPost(QueueRoutes.Complete, async Task<Results<Ok<ReportReply>, ProblemHttpResult>> (HttpRequest request, QueueService queue, bool? next) =>
        {
            var (body, problem) = await JsonBody.ReadAsync(request, WorkQueueJson.Default.Completion, maxBytes: 256 * 1024);
            if (problem is not null) return problem;
            if (!IsName(body!.Worker)) return BadName("worker", body.Worker);
            if (NotCallers(request, body.Worker) is { } notYours) return notYours;
            if (body.Attempt < 1 || body.DurationMs < 0) return JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid report", "attempt must be ≥ 1 and durationMs ≥ 0");
            var (outcome, claim) = await queue.CompleteAsync(body with { OutputTail = Tail(body.OutputTail) }, next == true);
            return outcome switch
            {
                ReportOutcome.Recorded => TypedResults.Ok(new ReportReply("recorded") { Next = claim }),
                ReportOutcome.Duplicate => TypedResults.Ok(new ReportReply("duplicate") { Next = claim }),
                // The next task is claimed already: it travels with the refusal rather than being leased to no one.
                _ when claim is not null => TypedResults.Ok(new ReportReply("refused") { Next = claim }),
                _ => LeaseLost(body.Key, body.Attempt, body.Worker),
            };
        });

        app.MapGet(QueueRoutes.Health, () => TypedResults.Ok());
        app.MapReporter();
        return app;
    }

    public static async Task<ResultsDocument> SnapshotAsync(QueueService queue) =>
        ResultsView.Build(queue.RunId, await queue.Store.ListAsync(), queue.StartedMs, queue.Now, queue.Config.Slots, queue.Config.Skipped);

    /// <summary>403 when a worker names another worker: the lease is the named worker's, and only its credential may use it.</summary>
    private static ProblemHttpResult? NotCallers(HttpRequest request, string worker) =>
        Caller.Of(request.HttpContext) is { } caller && caller.NodeId != worker ? Caller.NotYours(caller, worker) : null;

    private static ProblemHttpResult LeaseLost(string key, int attempt, string worker) => JsonBody.Problem(StatusCodes.Status409Conflict, "Lease lost",
        $"{worker} does not hold the lease of {key} attempt {attempt} (it expired and the task went back to the queue, or the task is final)");

    private static ProblemHttpResult BadName(string field, string value) => JsonBody.Problem(StatusCodes.Status400BadRequest, "Invalid name",
        $"{field} '{value}' must be 1 to 64 letters, digits, '-', '_' or '.'");

    private static bool IsName(string? name) =>
        name is { Length: > 0 and <= 64 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');

    // Null when the report has no outputTail: the source-generated reader does not keep an init property's default.
    private static string Tail(string? text) => text is null ? "" : text.Length <= 8192 ? text : text[^8192..];
}
