using Corral.Node.Control;
using Corral.Node.Planning;
using Corral.Supervisor.Control;

namespace Corral.Supervisor.Supervision;

/// <summary>
/// The node table and the running plan: applies a new plan as the difference from the current one, and tracks
/// every node that was drained until its process has exited, so a successor with the same id starts only after
/// its predecessor is gone and stopping the run waits for it too.
/// </summary>
internal sealed class Reconciler(Func<PlannedNode, long, SupervisedNode> create)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SupervisedNode> _nodes = new(StringComparer.Ordinal);
    private readonly List<SupervisedNode> _leaving = [];
    private readonly List<Task> _retiring = [];
    private readonly Dictionary<string, NodeStatus> _retired = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _instances = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private AppPlan? _plan;

    public AppPlan Plan
    {
        get
        {
            lock (_lock)
            {
                return _plan ?? throw new InvalidOperationException("no plan yet");
            }
        }
    }

    /// <summary>Completes at the next change of any node (state, table); take it, re-check, then await it.</summary>
    public Task Changed
    {
        get
        {
            lock (_lock)
            {
                return _changed.Task;
            }
        }
    }

    public static IEnumerable<PlannedNode> Planned(AppPlan plan) =>
        plan.Roles.SelectMany(role => Enumerable.Range(1, role.Count).Select(i => new PlannedNode(role, i)));

    /// <summary>Takes the first plan and creates its nodes (not started).</summary>
    public IReadOnlyList<SupervisedNode> Load(AppPlan plan)
    {
        lock (_lock)
        {
            _plan = plan;
            foreach (var planned in Planned(plan))
            {
                _nodes[planned.NodeId] = CreateLocked(planned);
            }

            return _nodes.Values.ToArray();
        }
    }

    public void NotifyChanged()
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>The planned nodes (not the ones leaving).</summary>
    public IReadOnlyList<SupervisedNode> Current()
    {
        lock (_lock)
        {
            return _nodes.Values.ToArray();
        }
    }

    /// <summary>Every tracked node, draining ones included, in plan order (then ordinal, then instance).</summary>
    public IReadOnlyList<NodeStatus> Nodes()
    {
        lock (_lock)
        {
            var order = _plan?.Roles.Select(r => r.Role).ToList() ?? [];
            return _nodes.Values.Concat(_leaving)
                .OrderBy(n => order.IndexOf(n.Role.Role)).ThenBy(n => n.Ordinal).ThenBy(n => n.Instance)
                .Select(n => n.Status()).ToArray();
        }
    }

    /// <summary>Every node the run had: the tracked ones, then the last incarnation of each id that was drained and is gone.</summary>
    public IReadOnlyList<NodeStatus> AllNodes()
    {
        lock (_lock)
        {
            var tracked = Nodes();
            var ids = tracked.Select(n => n.NodeId).ToHashSet(StringComparer.Ordinal);
            return [.. tracked, .. _retired.Values.Where(r => !ids.Contains(r.NodeId))];
        }
    }

    /// <summary>The planned (current) node with this id; a draining predecessor is not it.</summary>
    public SupervisedNode? Find(string nodeId)
    {
        lock (_lock)
        {
            return _nodes.GetValueOrDefault(nodeId);
        }
    }

    public bool IsCurrent(SupervisedNode node)
    {
        lock (_lock)
        {
            return _nodes.TryGetValue(node.NodeId, out var current) && ReferenceEquals(current, node);
        }
    }

    /// <summary>Whether every planned node has ended on its own (and there is at least one).</summary>
    public bool AllEnded()
    {
        lock (_lock)
        {
            return _nodes.Count > 0 && _nodes.Values.All(n => n.State is NodeState.Exited or NodeState.Failed or NodeState.Stopped);
        }
    }

    /// <summary>The first role among <paramref name="role"/>'s dependencies that has a node not yet ready, or null.</summary>
    public string? UnreadyDependency(RolePlan role)
    {
        lock (_lock)
        {
            foreach (var dependency in role.DependsOn)
            {
                if (_nodes.Values.Any(n => n.Role.Role == dependency && n.State is not (NodeState.Ready or NodeState.Unhealthy)))
                {
                    return dependency;
                }
            }

            return null;
        }
    }

    /// <summary>Why <paramref name="role"/> can never start: a node of a dependency that has ended (exited, failed, stopped) for good; else null.</summary>
    public string? EndedDependency(RolePlan role)
    {
        lock (_lock)
        {
            foreach (var dependency in role.DependsOn)
            {
                if (_nodes.Values.FirstOrDefault(n => n.Role.Role == dependency && n.State is NodeState.Exited or NodeState.Failed or NodeState.Stopped) is { } ended)
                {
                    return $"it depends on {dependency}, whose node {ended.NodeId} has {ended.State.ToString().ToLowerInvariant()} and will not become ready";
                }
            }

            return null;
        }
    }

    /// <summary>The plan with <paramref name="role"/> at <paramref name="count"/> nodes, or why it cannot be scaled.</summary>
    public (ScaleResult Result, AppPlan? Next) Scaled(string role, int count)
    {
        lock (_lock)
        {
            var current = _plan!.Find(role);
            if (current is null)
            {
                return (ScaleResult.UnknownRole, null);
            }

            return current.Scalable
                ? (ScaleResult.Accepted, _plan with { Roles = _plan.Roles.Select(r => r.Role == role ? r with { Count = count } : r).ToArray() })
                : (ScaleResult.NotScalable, null);
        }
    }

    /// <summary>Moves the running plan to <paramref name="next"/>, touching only the nodes the difference names.</summary>
    public PlanDiff Apply(AppPlan next)
    {
        PlanDiff diff;
        var restart = new List<(SupervisedNode Node, RolePlan Role)>();
        lock (_lock)
        {
            diff = PlanDiff.Compute(_plan!, next);
            _plan = next;
            var drained = diff.Drain.ToHashSet(StringComparer.Ordinal);
            var restarted = diff.Restart.Select(r => r.NodeId).ToHashSet(StringComparer.Ordinal);
            foreach (var node in _nodes.Values)
            {
                if (!drained.Contains(node.NodeId) && !restarted.Contains(node.NodeId) && next.Find(node.Role.Role) is { } role)
                {
                    node.Update(role);
                }
            }

            foreach (var id in diff.Drain)
            {
                if (_nodes.Remove(id, out var node))
                {
                    RetireLocked(node);
                }
            }

            foreach (var planned in diff.Start)
            {
                var node = CreateLocked(planned);
                _nodes[planned.NodeId] = node;
                node.Start(PredecessorLocked(planned.NodeId));
            }

            foreach (var planned in diff.Restart)
            {
                if (_nodes.TryGetValue(planned.NodeId, out var node))
                {
                    restart.Add((node, planned.Role));
                }
            }
        }

        foreach (var (node, role) in restart)
        {
            node.Restart(role);
        }

        NotifyChanged();
        return diff;
    }

    /// <summary>
    /// Every node, draining ones included, is marked draining at once, then roles get SIGTERM tier by tier,
    /// dependants first, so a coordinator outlives the workers that report to it; returns when every process has exited.
    /// </summary>
    public async Task StopAllAsync()
    {
        SupervisedNode[] nodes;
        AppPlan plan;
        lock (_lock)
        {
            nodes = [.. _nodes.Values, .. _leaving];
            plan = _plan!;
        }

        foreach (var node in nodes)
        {
            node.MarkDraining();
        }

        foreach (var tier in nodes.GroupBy(n => Depth(plan, n.Role.Role)).OrderByDescending(g => g.Key))
        {
            await Task.WhenAll(tier.Select(n => n.DrainAsync()));
        }

        Task[] remaining;
        lock (_lock)
        {
            remaining = [.. _nodes.Values.Select(n => n.Loop), .. _leaving.Select(n => n.Loop), .. _retiring];
        }

        await Task.WhenAll(remaining);
    }

    /// <summary>How many dependency levels sit under a role (0: depends on nothing); cycles count once.</summary>
    internal static int Depth(AppPlan plan, string role, HashSet<string>? visiting = null)
    {
        visiting ??= [];
        if (!visiting.Add(role) || plan.Find(role) is not { } found || found.DependsOn.Count == 0)
        {
            return 0;
        }

        var depth = 1 + found.DependsOn.Max(d => Depth(plan, d, visiting));
        visiting.Remove(role);
        return depth;
    }

    private SupervisedNode CreateLocked(PlannedNode planned)
    {
        var instance = _instances.GetValueOrDefault(planned.NodeId) + 1;
        _instances[planned.NodeId] = instance;
        return create(planned, instance);
    }

    /// <summary>The latest incarnation of <paramref name="nodeId"/> still leaving: its successor starts after its loop ends.</summary>
    private Task? PredecessorLocked(string nodeId) => _leaving.LastOrDefault(n => n.NodeId == nodeId)?.Loop;

    /// <summary>Drains a node that left the plan; it stays listed (as draining) until its process has exited.</summary>
    private void RetireLocked(SupervisedNode node)
    {
        _leaving.Add(node);
        _retiring.RemoveAll(t => t.IsCompleted);
        _retiring.Add(RetireAsync(node));
    }

    private async Task RetireAsync(SupervisedNode node)
    {
        await node.DrainAsync();
        lock (_lock)
        {
            _leaving.Remove(node);
            _retired[node.NodeId] = node.Status();
        }

        NotifyChanged();
    }
}
