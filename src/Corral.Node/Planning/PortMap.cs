using System.Globalization;

namespace Corral.Node.Planning;

/// <summary>How ports are chosen for a run: <c>--port-offset N</c>, or <c>--ports dynamic</c>.</summary>
public sealed record PortSettings
{
    /// <summary>The supervisor's control API port before the offset (<c>7999</c>).</summary>
    public const int DefaultControlPort = 7999;

    public int Offset { get; init; }
    public bool Dynamic { get; init; }

    /// <summary>The control API's port before the offset, checked against the nodes'; null leaves it out.</summary>
    public int? ControlPort { get; init; } = DefaultControlPort;
}

/// <summary>One node's ports by name; 0 is a port chosen at start (<c>--ports dynamic</c>).</summary>
public sealed record NodePorts(string NodeId, string Role, int Ordinal, IReadOnlyDictionary<string, int> Ports);

/// <summary>
/// Every node's ports for a plan (a role's sequence, single nodes' own ports, the offset, a balancer worker's
/// admin port as much as its main one), with every problem that would stop them from listening: two nodes on one
/// port, a port outside 1..65535, a probe or argument naming a port the role does not have. Pure: it binds nothing;
/// start, reload, scale and <c>corral validate</c> all read the same map.
/// </summary>
public sealed class PortMap
{
    private PortMap(IReadOnlyList<NodePorts> nodes, int? controlPort, IReadOnlyList<string> errors)
    {
        Nodes = nodes;
        ControlPort = controlPort;
        Errors = errors;
    }

    public IReadOnlyList<NodePorts> Nodes { get; }

    /// <summary>The control API's port after the offset; 0 when dynamic, null when not part of the map.</summary>
    public int? ControlPort { get; }

    public IReadOnlyList<string> Errors { get; }
    public bool IsValid => Errors.Count == 0;

    public NodePorts? Of(string nodeId) => Nodes.FirstOrDefault(n => n.NodeId == nodeId);

    /// <summary>Every node's ports, and what is wrong with them.</summary>
    public static PortMap Build(AppPlan plan, PortSettings settings)
    {
        var errors = new List<string>();
        var nodes = new List<NodePorts>();
        var owners = new Dictionary<int, string>();
        int? control = settings.ControlPort is { } c ? (settings.Dynamic ? 0 : c + settings.Offset) : null;
        if (control is > 0)
        {
            Claim(control.Value, "the control API", owners, errors);
        }

        foreach (var role in plan.Roles)
        {
            var structural = CheckRole(role);
            errors.AddRange(structural);
            for (var ordinal = 1; ordinal <= role.Count; ordinal++)
            {
                var ports = PortsOf(role, ordinal, settings);
                nodes.Add(new NodePorts(role.NodeId(ordinal), role.Role, ordinal, ports));
                if (settings.Dynamic || structural.Count > 0)
                {
                    continue;
                }

                foreach (var (name, port) in ports)
                {
                    Claim(port, $"node {role.NodeId(ordinal)} ({name})", owners, errors);
                }
            }
        }

        return new PortMap(nodes, control, errors);
    }

    /// <summary>
    /// One node's ports: its own override or its role's sequence, plus the offset; every port 0 when dynamic
    /// (a Corral node binds 0 and reports, a program gets a free port picked just before it starts).
    /// </summary>
    public static IReadOnlyDictionary<string, int> PortsOf(RolePlan role, int ordinal, PortSettings settings)
    {
        var ports = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var port in role.Ports)
        {
            ports[port.Name] = settings.Dynamic ? 0 : role.PortOf(port, ordinal) + settings.Offset;
        }

        return ports;
    }

    /// <summary>The map as printed at start: one row per node, the control API first.</summary>
    public IEnumerable<(string Node, string Role, string Ports)> Rows()
    {
        foreach (var node in Nodes)
        {
            yield return (node.NodeId, node.Role, string.Join(", ", node.Ports.Select(p =>
                $"{p.Key} {(p.Value == 0 ? "dynamic" : p.Value.ToString(CultureInfo.InvariantCulture))}")));
        }
    }

    /// <summary>Problems in a role's own description: duplicate or empty port names, a probe, override or template naming a missing port.</summary>
    private static List<string> CheckRole(RolePlan role)
    {
        var errors = new List<string>();
        var names = role.Ports.Select(p => p.Name).ToList();
        if (names.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add($"role {role.Role} has a port without a name");
        }

        foreach (var duplicate in names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1))
        {
            errors.Add($"role {role.Role} names port '{duplicate.Key}' twice");
        }

        var valid = string.Join(", ", names);
        var probe = role.EffectiveProbe;
        if (probe.Kind is ProbeKind.Http or ProbeKind.Tcp && probe.SocketPath is null && (probe.Port is null || !names.Contains(probe.Port)))
        {
            errors.Add($"role {role.Role} probes port '{probe.Port}', which it does not have (its ports: {valid})");
        }

        foreach (var own in role.PortOverrides)
        {
            if (!names.Contains(own.Port))
            {
                errors.Add($"role {role.Role} gives node {own.Ordinal} its own port '{own.Port}', which the role does not have (its ports: {valid})");
            }

            if (own.Ordinal < 1 || (role.Singleton && own.Ordinal != 1))
            {
                errors.Add($"role {role.Role} gives its own port to node {own.Ordinal}, which cannot exist (nodes count from 1)");
            }
        }

        if (role.Program is { } program)
        {
            if (string.IsNullOrWhiteSpace(program.Executable))
            {
                errors.Add($"role {role.Role} runs a program without a name");
            }

            foreach (var template in program.Arguments.Concat(program.Environment.Values))
            {
                if (ProgramTemplate.Check(template, names) is { } problem)
                {
                    errors.Add($"role {role.Role}: {problem}");
                }
            }
        }

        return errors;
    }

    private static void Claim(int port, string owner, Dictionary<int, string> owners, List<string> errors)
    {
        if (port is < 1 or > 65535)
        {
            errors.Add($"{owner} would listen on port {port}, outside 1..65535; change --port-offset or the plan's ports");
            return;
        }

        if (owners.TryGetValue(port, out var other))
        {
            errors.Add($"{owner} and {other} would both listen on port {port}");
            return;
        }

        owners[port] = owner;
    }
}
