using System.Runtime.CompilerServices;
using Corral.Node.Http;
using Corral.Node.Nodes;
using Corral.WorkQueue.Reporter;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Corral.WorkQueue.Controller;

/// <summary>
/// The reporter's open routes: the page, <c>/api/results</c> and <c>/api/events</c>. They read the
/// <see cref="ResultsSnapshot"/> only, never the store, and the event streams are capped, so an open route costs the
/// queue nothing however often it is asked.
/// </summary>
internal static class ReporterApi
{
    public static IEndpointRouteBuilder MapReporter(this IEndpointRouteBuilder app)
    {
        app.MapGet(QueueRoutes.Results, Results<ContentHttpResult, ProblemHttpResult> (HttpContext http, ResultsSnapshot snapshot) =>
            snapshot.Json is { } json ? TypedResults.Content(json, "application/json; charset=utf-8") : NotYet(http));
        app.MapGet(QueueRoutes.Page, () => TypedResults.Content(ReporterPage.Html, "text/html; charset=utf-8"));
        app.MapGet(QueueRoutes.Events, (HttpContext http, ResultsSnapshot snapshot, TimeProvider time) => StreamAsync(http, snapshot, time));
        return app;
    }

    /// <summary>Server-sent events: the results document now and after every look of the monitor (at most ten a second), a heartbeat when quiet.</summary>
    private static async Task StreamAsync(HttpContext http, ResultsSnapshot snapshot, TimeProvider time)
    {
        using var subscription = snapshot.TrySubscribe();
        if (subscription is null)
        {
            http.Response.Headers.RetryAfter = "5";
            await JsonBody.Problem(StatusCodes.Status503ServiceUnavailable, "Too many live feeds",
                $"the reporter serves at most {ResultsSnapshot.MaxSubscribers} live feeds at once; try again later or read {QueueRoutes.Results}").ExecuteAsync(http);
            return;
        }

        await EventStream.WriteAsync(http, Documents(snapshot, time, http.RequestAborted), EventStream.DefaultHeartbeat, time, cacheControl: "no-store");
    }

    private static async IAsyncEnumerable<string> Documents(ResultsSnapshot snapshot, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        while (true)
        {
            var next = snapshot.NextChange;
            if (snapshot.Json is { } json)
            {
                yield return EventStream.Frame(json);
            }

            await next.WaitAsync(cancellationToken);
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
        }
    }

    private static ProblemHttpResult NotYet(HttpContext http)
    {
        http.Response.Headers.RetryAfter = "1";
        return JsonBody.Problem(StatusCodes.Status503ServiceUnavailable, "Results not read yet",
            "the controller has not read the queue yet (it is starting, or its store is away); try again in a moment");
    }
}
