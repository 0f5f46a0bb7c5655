using Corral.Node.Planning;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// Before a run starts: every fixed port it will listen on (the control API's, the dashboard's, each node's) can be
/// listened on now, so a taken port is reported once, naming its owner and the remedy, instead of as a node that
/// fails to bind until its restart cap. With <c>--ports dynamic</c> there is nothing to check.
/// </summary>
internal static class PortPreCheck
{
    /// <summary>Every fixed port of the run with who will listen on it, in the order they are checked.</summary>
    public static IReadOnlyList<(int Port, string Owner)> Owners(PortMap map, int? dashboardPort)
    {
        var owned = new List<(int Port, string Owner)>();
        if (map.ControlPort is > 0 and var control)
        {
            owned.Add((control, "the control API"));
        }

        if (dashboardPort is > 0 and var dashboard)
        {
            owned.Add((dashboard, "the dashboard"));
        }

        owned.AddRange(map.Nodes.SelectMany(n => n.Ports.Where(p => p.Value > 0).Select(p => (p.Value, $"node {n.NodeId} ({p.Key})"))));
        return owned;
    }

    /// <summary>
    /// The first fixed port that cannot be listened on, as a sentence naming its owner and the remedy; null when every one
    /// is free. The supervisor's own listeners are checked on <paramref name="listenAddress"/>, the nodes' on
    /// <paramref name="nodeAddress"/>, or not at all when null (an engine runs them elsewhere).
    /// </summary>
    public static string? FirstTaken(PortMap map, int? dashboardPort, string listenAddress, string? nodeAddress)
    {
        var supervisorOwn = map.ControlPort is > 0 ? 1 : 0;
        supervisorOwn += dashboardPort is > 0 ? 1 : 0;
        foreach (var ((port, owner), index) in Owners(map, dashboardPort).Select((o, i) => (o, i)))
        {
            var address = index < supervisorOwn ? listenAddress : nodeAddress;
            if (address is not null && !LoopbackPorts.IsFree(address, port, out var error))
            {
                return $"port {port} for {owner} is not free on {address} ({error}); stop what uses it, shift every port with --port-offset N, or use --ports dynamic";
            }
        }

        return null;
    }
}
