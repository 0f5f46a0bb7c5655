using Corral.Node.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace Corral.Testing.Fuzz;

/// <summary>One route a listener maps: its pattern and the methods it declares (none: any method).</summary>
public sealed record FuzzRoute(RoutePattern Pattern, IReadOnlyList<string> Methods)
{
    public override string ToString() => $"{(Methods.Count == 0 ? "*" : string.Join(",", Methods))} {Pattern.RawText}";
}

/// <summary>
/// A listener to fuzz: where it answers, every route it maps (read from its <see cref="EndpointDataSource"/>, so a route
/// added later is fuzzed without anyone listing it), the credential that opens its protected routes, and bodies of the
/// shapes its routes take (the engine sends them whole, broken and mutated).
/// </summary>
public sealed record FuzzTarget(string Name, Uri BaseUrl, IReadOnlyList<FuzzRoute> Routes)
{
    /// <summary>The bearer token most cases carry, so they reach the code behind authentication.</summary>
    public string? Token { get; init; } = TestNodeContext.Operator;

    /// <summary>Well-formed bodies of this listener's routes, the seeds the engine mutates.</summary>
    public IReadOnlyList<string> SampleBodies { get; init; } = [];

    /// <summary>Values the engine puts in route parameters besides its odd ones (real node ids, tenants, roles).</summary>
    public IReadOnlyList<string> SampleValues { get; init; } = [];

    /// <summary>Asked (with the token) after the run: a listener that no longer answers it 2xx has crashed.</summary>
    public string HealthPath { get; init; } = "/healthz";

    /// <summary>Waited for (2xx) before the run, so a node still starting is not taken for a failing one; null: no wait.</summary>
    public string? ReadyPath { get; init; } = "/readyz";

    /// <summary>The port the listener bound (what its own Host names).</summary>
    public int Port => BaseUrl.Port;

    /// <summary>A started node or server: its routes from its endpoint data source, its port as it bound it.</summary>
    public static FuzzTarget Of(string name, WebApplication app, int? port = null) =>
        Of(name, new Uri($"http://127.0.0.1:{port ?? app.BoundPort()}"), app.Services.GetRequiredService<EndpointDataSource>().Endpoints);

    /// <summary>A listener at <paramref name="baseUrl"/> that maps <paramref name="endpoints"/>.</summary>
    public static FuzzTarget Of(string name, Uri baseUrl, IEnumerable<Endpoint> endpoints)
    {
        var routes = endpoints.OfType<RouteEndpoint>()
            .Select(e => new FuzzRoute(e.RoutePattern, e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.ToArray() ?? []))
            .ToArray();
        if (routes.Length == 0) throw new InvalidOperationException($"{name} maps no routes: nothing to fuzz");
        return new FuzzTarget(name, baseUrl, routes);
    }
}
