using System.Reflection;

namespace Corral.Node.Dashboard;

/// <summary>
/// An app module that contributes a panel to the run's dashboard (optional: a module without one gets the nodes
/// table and logs only). The supervisor knows no app: it serves the panel's script and proxies, for the browser,
/// exactly the node endpoints the panel lists here, so the page only ever talks to the dashboard's own origin.
/// </summary>
/// <remarks>
/// Adding a panel for an app takes three small pieces in the app's project:
/// <list type="number">
/// <item>a script, <c>Dashboard/panel.js</c>, embedded (<c>&lt;EmbeddedResource Include="Dashboard/panel.js" LogicalName="..." /&gt;</c>),
/// that calls <c>Corral.panel(function (root, api) { ... })</c>. <c>root</c> is the panel's element; <c>api</c> offers
/// <c>nodes()</c> (the node table now), <c>onNodes(fn)</c>, <c>get(nodeId, path)</c> (JSON), <c>send(nodeId, method, path, body)</c>
/// (resolves to <c>{ok, status, body}</c>), <c>events(nodeId, path, fn(type, data))</c> (server-sent events, reconnecting),
/// <c>el(tag, attributes, ...children)</c> and <c>every(ms, fn)</c> (a poll that stops with the page);</item>
/// <item>a class implementing this interface whose <see cref="Panel"/> names the script and the routes;</item>
/// <item>the module (or that class) registered as the module: <c>IAppModule</c> implementing <see cref="IDashboardPanel"/>.</item>
/// </list>
/// Routes not listed are refused with 403; a route's request carries the run's token to the node (the browser never
/// sees it), so a listed mutating route (a worker's <c>PUT /faults</c>) needs nothing more.
/// </remarks>
public interface IDashboardPanel
{
    DashboardPanel Panel { get; }
}

/// <summary>An app's panel: its title, its script (an embedded resource) and the node routes the supervisor may proxy for it.</summary>
public sealed record DashboardPanel
{
    public required string Title { get; init; }

    /// <summary>The assembly whose manifest holds <see cref="ScriptResource"/>.</summary>
    public required Assembly ScriptAssembly { get; init; }

    /// <summary>The embedded script's logical name.</summary>
    public required string ScriptResource { get; init; }

    public IReadOnlyList<PanelRoute> Routes { get; init; } = [];

    /// <summary>The route that allows <paramref name="method"/> on <paramref name="path"/> of a node of <paramref name="role"/>, or null.</summary>
    public PanelRoute? Find(string role, string method, string path) =>
        Routes.FirstOrDefault(r => r.Role == role && string.Equals(r.Method, method, StringComparison.OrdinalIgnoreCase) && r.Path == path);

    /// <summary>The script's text; a missing resource is the app's bug, named in the exception.</summary>
    public string ReadScript()
    {
        using var stream = ScriptAssembly.GetManifestResourceStream(ScriptResource)
            ?? throw new InvalidOperationException($"{ScriptAssembly.GetName().Name} has no embedded resource '{ScriptResource}'");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// One node endpoint a panel may reach through the supervisor: a node of <paramref name="Role"/>, the HTTP method, the
/// exact path (a query string is passed on), and which of the node's named ports serves it (<c>http</c>, <c>admin</c>).
/// </summary>
public sealed record PanelRoute(string Role, string Method, string Path, string Port = "http");
