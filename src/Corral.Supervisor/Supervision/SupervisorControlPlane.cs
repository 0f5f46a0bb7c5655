using Corral.Node.Control;
using Corral.Supervisor.Control;

namespace Corral.Supervisor.Supervision;

/// <summary>The control API's view of a run: reads go to the node table and feeds, actions to the supervisor.</summary>
internal sealed class SupervisorControlPlane(RunSupervisor supervisor, Reconciler reconciler, ConfigFeed config, NodeCredentials credentials)
    : IControlPlane
{
    public IReadOnlyList<NodeStatus> Nodes() => reconciler.Nodes();

    public MembershipBoard Membership => supervisor.Membership;

    public ConfigFeed Config => config;

    public bool Finish(RunOutcome outcome) => supervisor.Finish(outcome);

    public bool ReportEndpoints(string nodeId, IReadOnlyDictionary<string, int> ports, System.Net.IPAddress? from)
    {
        if (reconciler.Find(nodeId) is not { } node)
        {
            return false;
        }

        node.ReportEndpoints(ports, from);
        return true;
    }

    public NodeActionResult RestartNode(string nodeId)
    {
        if (reconciler.Find(nodeId) is not { } node)
        {
            return NodeActionResult.UnknownNode;
        }

        // A node that has ended (or is leaving) has no process to replace; restarting it would silently do nothing.
        if (node.State is NodeState.Exited or NodeState.Failed or NodeState.Stopped or NodeState.Draining || supervisor.Stopping)
        {
            return NodeActionResult.NotRunning;
        }

        supervisor.Say($"{nodeId}: restart requested through the control API");
        node.Restart();
        return NodeActionResult.Accepted;
    }

    public NodeActionResult StopNode(string nodeId)
    {
        if (reconciler.Find(nodeId) is not { } node)
        {
            return NodeActionResult.UnknownNode;
        }

        supervisor.Say($"{nodeId}: stop requested through the control API");
        _ = node.DrainAsync();
        return NodeActionResult.Accepted;
    }

    public IssuedCredential? IssueCredential(string nodeId)
    {
        if (reconciler.Find(nodeId) is not { } node)
        {
            return null;
        }

        supervisor.Say($"{nodeId}: a credential was issued through the control API (for a node started by hand)");
        return credentials.ForHand(nodeId, node.Instance, node.Role.Role);
    }

    public ScaleReply Scale(string role, int count)
    {
        var (result, next) = reconciler.Scaled(role, count);
        if (next is null)
        {
            return new(result);
        }

        supervisor.Say($"scaling {role} to {count}");
        return supervisor.Apply(next) is { } problem ? new(ScaleResult.InvalidPlan, problem) : new(result);
    }
}
