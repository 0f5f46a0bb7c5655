using Corral.Node.Planning;

namespace Corral.Supervisor.Supervision;

/// <summary>One planned node: a role and a 1-based ordinal.</summary>
internal sealed record PlannedNode(RolePlan Role, int Ordinal)
{
    public string NodeId => Role.NodeId(Ordinal);
}

/// <summary>
/// What changes between two plans, so a reload touches only the difference: new nodes start, removed ones
/// drain (a smaller count removes the highest ordinals), nodes whose arguments or ports changed restart.
/// </summary>
internal sealed record PlanDiff(IReadOnlyList<PlannedNode> Start, IReadOnlyList<string> Drain, IReadOnlyList<PlannedNode> Restart)
{
    public bool IsEmpty => Start.Count == 0 && Drain.Count == 0 && Restart.Count == 0;

    public static PlanDiff Compute(AppPlan running, AppPlan next)
    {
        var start = new List<PlannedNode>();
        var drain = new List<string>();
        var restart = new List<PlannedNode>();
        foreach (var role in next.Roles)
        {
            var old = running.Find(role.Role);
            if (old is null || old.Singleton != role.Singleton || old.NodePrefix != role.NodePrefix)
            {
                if (old is not null)
                {
                    drain.AddRange(old.NodeIds());
                }

                start.AddRange(Enumerable.Range(1, role.Count).Select(i => new PlannedNode(role, i)));
                continue;
            }

            var kept = Math.Min(old.Count, role.Count);
            restart.AddRange(Enumerable.Range(1, kept).Where(i => ProcessChanged(old, role, i)).Select(i => new PlannedNode(role, i)));

            start.AddRange(Enumerable.Range(kept + 1, Math.Max(0, role.Count - kept)).Select(i => new PlannedNode(role, i)));
            drain.AddRange(Enumerable.Range(kept + 1, Math.Max(0, old.Count - kept)).Select(old.NodeId));
        }

        foreach (var old in running.Roles.Where(r => next.Find(r.Role) is null))
        {
            drain.AddRange(old.NodeIds());
        }

        return new PlanDiff(start, drain, restart);
    }

    /// <summary>
    /// Whether node <paramref name="ordinal"/>'s running process would have been started differently (other arguments,
    /// ports, probe or program). Other nodes' own ports do not count: adding a URL to an original's worker list starts one
    /// worker and leaves the others running.
    /// </summary>
    private static bool ProcessChanged(RolePlan old, RolePlan next, int ordinal) =>
        !old.StartsLike(next with { PortOverrides = old.PortOverrides }) ||
        old.Ports.Any(port => old.PortOf(port, ordinal) != next.PortOf(port, ordinal));
}
