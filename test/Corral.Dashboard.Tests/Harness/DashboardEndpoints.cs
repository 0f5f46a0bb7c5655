using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Supervisor.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Corral.Dashboard.Tests.Harness;

/// <summary>
/// Every route the dashboard maps, with every method it accepts, read from the dashboard's own mapping (the code the
/// real run executes), so an access test covers a route the day it is added instead of a hand-written list.
/// </summary>
internal static class DashboardEndpoints
{
    public static IReadOnlyList<(string Method, string Path)> All()
    {
        var app = WebApplication.CreateSlimBuilder().Build();
        var run = new NoRun();
        using var control = new HttpClient();
        using var proxy = new DashboardProxy(run, null);
        app.MapDashboard(run, new DashboardFeed(), new OneTimeCodes(TimeProvider.System), null, control, proxy, () => 0, TimeProvider.System);
        return ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(source => source.Endpoints)
            .OfType<RouteEndpoint>()
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } declared
                    ? declared
                    : ["GET", "POST", "PUT", "DELETE", "PATCH"])
                .Select(method => (method, Path(endpoint.RoutePattern))))
            .ToArray();
    }

    /// <summary>A concrete path for a route pattern: every parameter filled with a harmless value.</summary>
    private static string Path(RoutePattern pattern) =>
        "/" + string.Join("/", pattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternParameterPart => "worker-1",
            RoutePatternSeparatorPart separator => separator.Content,
            _ => "",
        }))));

    /// <summary>Only mapped, never asked: mapping reads nothing of the run.</summary>
    private sealed class NoRun : IDashboardRun
    {
        public string RunId => "none";
        public string App => "none";
        public IReadOnlyList<NodeStatus> Nodes() => [];
        public IReadOnlyList<RolePlan> Roles() => [];
        public Task Changed => Task.CompletedTask;
        public Uri ControlUrl => new("http://127.0.0.1:1");
        public string Token => "none";
    }
}
