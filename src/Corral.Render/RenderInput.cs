using Corral.Node.Apps;
using Corral.Node.Planning;
using Corral.Node.Topology;

namespace Corral.Render;

/// <summary>
/// What a renderer needs: the validated app (its plan), the topology file as written (it ships unchanged in a
/// ConfigMap or beside the compose file), the image version, and the credentials the nodes are given.
/// </summary>
public sealed record RenderInput
{
    public required LoadedApp App { get; init; }

    /// <summary>The topology file's own name (<c>shootout.yaml</c>); the supervisor reads it under <see cref="ConfigFolder"/>.</summary>
    public required string TopologyFileName { get; init; }

    public required string TopologyText { get; init; }

    /// <summary>The tag of Corral's image (<c>corral:&lt;version&gt;</c>) and of the program roles' images.</summary>
    public required string Version { get; init; }

    public required RenderedCredentials Credentials { get; init; }

    /// <summary>
    /// The <c>--set key=value</c> overrides the plan was made with. The topology file ships as written, so the
    /// supervisor is given them too: its plan must be the one the nodes were rendered from.
    /// </summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];

    /// <summary>The Kubernetes resource the topology file is (<c>apiVersion</c>, <c>kind</c>), like 001's <c>Shootout</c>; null for other files.</summary>
    public CustomResourceKind? CustomResource { get; init; }

    public string AppName => App.Module.Name;

    public AppPlan Plan => App.Plan;

    /// <summary>A finite app (one whose roles report an outcome) ends; its Corral nodes are jobs, not services.</summary>
    public bool Finite => App.Module.OutcomeRoles.Count > 0;

    /// <summary>Corral's image as the files name it: <c>corral:&lt;version&gt;</c> unless the user names another (a registry's copy).</summary>
    [System.Diagnostics.CodeAnalysis.AllowNull]
    public string CorralImage { get => field ?? $"corral:{Version}"; init; }

    /// <summary>A program role's image, as <c>corral image</c> builds it from the host's executable (<c>corral-etcd:0.1.0</c>).</summary>
    public string ProgramImage(ProgramSpec program) => Node.Planning.ProgramImage.For(CorralImage, program.Executable);

    /// <summary>The host port Compose publishes the dashboard on (loopback only); 0 lets Docker pick a free one.</summary>
    public int DashboardHostPort { get; init; } = DashboardPort;

    public const string ConfigFolder = "/etc/corral";
    public const string CredentialFolder = "/run/corral/credentials";
    public const string DataFolder = "/data";
    public const string SupervisorName = "corral-supervisor";
    public const int ControlPort = 7999;
    public const int DashboardPort = 8000;

    /// <summary>Where nodes reach the supervisor's control API: the supervisor's service name on the engine's network.</summary>
    public static string JoinUrl => $"http://{SupervisorName}:{ControlPort}";

    /// <summary>A store keeps state across restarts: a program role (etcd, redis) or a role the plan gives a persistent folder.</summary>
    public static bool IsStore(RolePlan role) => role.Program is not null || role.Role == "counter.worker";

    /// <summary>The command after the image's entry point (<c>corral</c>) for a Corral node, or the program's arguments.</summary>
    public IReadOnlyList<string> NodeArguments(RolePlan role, int ordinal)
    {
        var nodeId = role.NodeId(ordinal);
        if (role.Program is { } program)
        {
            var ports = role.Ports.ToDictionary(p => p.Name, p => role.PortOf(p, ordinal));
            return program.Arguments.Select(a => ProgramTemplate.Expand(a, ports, DataFolder, nodeId, "0.0.0.0")).ToArray();
        }

        // The planned ports, not ones picked at start: probes, Services and users address a node at its planned port
        // (every container has an address of its own, so the same port in two containers does not clash).
        return ["node", role.Role, "--id", nodeId, "--join", JoinUrl, "--bind", "0.0.0.0",
            "--credential-file", $"{CredentialFolder}/{nodeId}",
            .. role.Ports.SelectMany(p => new[] { "--port", $"{p.Name}={role.PortOf(p, ordinal)}" }), .. role.Args];
    }

    /// <summary>
    /// The supervisor's command: it plans, supervises membership and outcomes, and starts no node itself; its control API
    /// and dashboard listen where the nodes (and a published port) reach them, answering to its service name.
    /// </summary>
    public IReadOnlyList<string> SupervisorArguments() =>
        ["up", $"{ConfigFolder}/{TopologyFileName}", "--engine", "external", "--data", DataFolder, "--listen", "0.0.0.0", "--host-name", SupervisorName,
            .. Overrides.SelectMany(o => new[] { "--set", o })];
}

/// <summary>A custom resource's type: <c>example.com/v1alpha1</c>, <c>Shootout</c>.</summary>
public sealed record CustomResourceKind(string ApiVersion, string Kind)
{
    /// <summary>The type of a topology file that is a Kubernetes resource (001's <c>Shootout</c>), from the parsed document; else null.</summary>
    public static CustomResourceKind? Of(TopologyDocument document) =>
        document.Root is TopologyMapping root && root["kind"] is TopologyScalar { IsNull: false } kind &&
        root["apiVersion"] is TopologyScalar { IsNull: false } apiVersion && apiVersion.Value.Contains('/')
            ? new CustomResourceKind(apiVersion.Value, kind.Value)
            : null;
}
