using Corral.Node.Nodes;
using Corral.WorkQueue.PlaywrightRuns;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.StaticFiles;

namespace Corral.WorkQueue.Reporter;

/// <summary>
/// The reporter's routes shared by the live controller and <c>corral report</c>: the page at <c>/</c> (the original had
/// no home page), a task's Playwright tests at <c>/api/tasks/{key}/tests</c>, and the files they link under
/// <c>/artifacts/</c> (only from the run's tasks folder; see <see cref="ArtifactFiles"/>).
/// </summary>
internal static class ReportApi
{
    public const string TestsRoute = "/api/tasks/{key}/tests";
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();

    /// <param name="testsOf">A task's tests, or null when the run has no such task.</param>
    public static IEndpointRouteBuilder MapRunReport(this IEndpointRouteBuilder app, string runDirectory, Func<string, Task<IReadOnlyList<TestView>?>> testsOf)
    {
        app.MapGet("/", () => TypedResults.Content(ReporterPage.Html, "text/html; charset=utf-8"));
        app.MapGet(TestsRoute, async Task<Results<Ok<IReadOnlyList<TestView>>, ProblemHttpResult>> (string key) =>
            await testsOf(key) is { } tests
                ? TypedResults.Ok(tests)
                : JsonBody.Problem(StatusCodes.Status404NotFound, "No such task", $"the run has no task '{key}'; task keys look like task:<group>:<index>"));
        app.MapGet(ArtifactFiles.Route + "{**path}", Results<PhysicalFileHttpResult, ProblemHttpResult> (string path) =>
        {
            if (ArtifactFiles.Resolve(runDirectory, path) is not { } file)
            {
                return JsonBody.Problem(StatusCodes.Status404NotFound, "No such artifact",
                    $"'{path}' is not a file under the run's tasks folder (only attempt logs, reports, traces and screenshots are served)");
            }

            return TypedResults.PhysicalFile(file, ContentTypes.TryGetContentType(file, out var type) ? type : "application/octet-stream");
        });
        return app;
    }
}
