using System.Runtime.CompilerServices;
using System.Text.Json;
using Corral.Node.Http;
using Corral.WorkQueue.Controller;
using Corral.WorkQueue.PlaywrightRuns;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Corral.WorkQueue.Reporter;

/// <summary>
/// <c>corral report &lt;run-id&gt;</c>: the reporter page of a finished run, from its <c>results/results.json</c> (the
/// original's controller stayed up after its run to show the page; Corral's nodes leave, so the page comes back on
/// demand). The same routes as the live reporter, read-only, on loopback.
/// </summary>
internal static class ReportServer
{
    public static async Task<int> RunAsync(string runFolder, string bindAddress, int port, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        var path = Path.Combine(runFolder, ResultsWriter.Folder, ResultsWriter.JsonFile);
        ResultsFile results;
        try
        {
            results = JsonSerializer.Deserialize(await File.ReadAllTextAsync(path, cancellationToken), WorkQueueJson.Default.ResultsFile)
                      ?? throw new JsonException("empty document");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            await errors.WriteLineAsync($"{path}: cannot read the run's results ({e.Message}); a run writes them when every task is final");
            return 2;
        }

        var document = new ResultsDocument(results.RunId, results.Progress, results.Tasks.Select(t => t.Task).ToArray());
        var tests = results.Tasks.ToDictionary(t => t.Task.Key, t => t.Tests, StringComparer.Ordinal);
        var builder = HttpServer.CreateBuilder("corral-report", bindAddress, port, 64 * 1024);
        builder.Logging.ClearProviders();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, WorkQueueJson.Default));
        await using var app = builder.Build();
        app.MapGet(QueueRoutes.Page, () => TypedResults.Content(ReporterPage.Html, "text/html; charset=utf-8"));
        app.MapGet(QueueRoutes.Health, () => TypedResults.Ok());
        app.MapGet(QueueRoutes.Results, () => TypedResults.Json(document, WorkQueueJson.Default.ResultsDocument));
        app.MapGet(QueueRoutes.Events, (HttpContext http, CancellationToken aborted) => EventStream.WriteAsync(http, Once(JsonSerializer.Serialize(document, WorkQueueJson.Default.ResultsDocument), aborted),
            EventStream.DefaultHeartbeat, TimeProvider.System, cacheControl: "no-store"));
        app.MapRunReport(runFolder, key => Task.FromResult(tests.TryGetValue(key, out var list) ? list : null));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            await errors.WriteLineAsync($"cannot listen on {bindAddress}:{port}: {e.Message}; choose another with --port");
            return 2;
        }

        await output.WriteLineAsync($"report of run {results.RunId}: http://{bindAddress}:{HttpServer.BoundPort(app)}/ (Ctrl+C to stop)");
        await output.FlushAsync(cancellationToken);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Ctrl+C: stop serving.
        }

        await app.StopAsync(CancellationToken.None);
        return 0;
    }

    /// <summary>The finished run's document once; the stream then stays open (with heartbeats) so the page does not reconnect.</summary>
    private static async IAsyncEnumerable<string> Once(string json, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        yield return EventStream.Frame(json);
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}
