using System.Text.Json;
using System.Text.Json.Serialization;
using Corral.Node.Control;

namespace Corral.Supervisor.Dashboard;

/// <summary>One row of the dashboard's node table.</summary>
internal sealed record DashboardNode
{
    public required string NodeId { get; init; }
    public required string Role { get; init; }
    public required NodeState State { get; init; }
    public int? Pid { get; init; }
    public int? Port { get; init; }
    public int Restarts { get; init; }

    /// <summary>When the running process started; the page counts uptime from it.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    public string? LastLine { get; init; }
}

/// <summary>A role as the page's scale controls see it.</summary>
internal sealed record DashboardRole(string Role, int Count, bool Scalable);

/// <summary>The <c>nodes</c> event: the whole table and the roles, after any change.</summary>
internal sealed record DashboardNodes(IReadOnlyList<DashboardNode> Nodes, IReadOnlyList<DashboardRole> Roles, DateTimeOffset Now);

/// <summary>The <c>hello</c> event: what this run is, and whether its app has a panel.</summary>
internal sealed record DashboardHello(string RunId, string App, string? PanelTitle);

/// <summary>
/// A <c>log</c> event: one line of a node (or of the supervisor, as <c>corral</c>), its level when the line has one
/// (<c>INF</c>, <c>WRN</c>, ...) and the ANSI colour code its name has on the terminal.
/// </summary>
internal sealed record DashboardLogLine(long Seq, string Node, string Level, string Colour, string Text);

/// <summary>The <c>run</c> event: the run has an outcome (or ended without one); the app's own lines describe it.</summary>
internal sealed record DashboardRun(string End, bool? Passed, IReadOnlyList<string> Lines);

/// <summary>The body of <c>POST /api/roles/{role}/scale</c>: +1 or -1.</summary>
internal sealed record DashboardScale([property: JsonRequired] int Delta);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(DashboardNodes))]
[JsonSerializable(typeof(DashboardHello))]
[JsonSerializable(typeof(DashboardLogLine))]
[JsonSerializable(typeof(IReadOnlyList<DashboardLogLine>))]
[JsonSerializable(typeof(DashboardRun))]
[JsonSerializable(typeof(DashboardScale))]
[JsonSerializable(typeof(DashboardLink))]
[JsonSerializable(typeof(ScaleRequest))]
internal sealed partial class DashboardJson : JsonSerializerContext;
