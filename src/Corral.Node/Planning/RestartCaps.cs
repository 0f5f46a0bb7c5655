using Corral.Node.Topology;

namespace Corral.Node.Planning;

/// <summary>
/// The topology's <c>restarts:</c> mapping (role name → restarts allowed per node), shared by every app:
/// <c>restarts: {cowboy: 10}</c> lets each cowboy restart ten times within any 60 s before the run fails.
/// </summary>
public static class RestartCaps
{
    public const string Key = "restarts";

    public static AppPlan Apply(MappingReader topology, AppPlan plan)
    {
        var caps = topology.OptionalMapping(Key);
        if (caps is null)
        {
            return plan;
        }

        var roles = plan.Roles.ToList();
        foreach (var role in plan.Roles)
        {
            var shortName = role.Role[(role.Role.IndexOf('.') + 1)..];
            if (caps.OptionalInt(shortName, min: 0, max: 1000) is { } cap)
            {
                roles[roles.IndexOf(role)] = role with { MaxRestarts = cap };
            }
        }

        caps.RejectUnknownKeys();
        return plan with { Roles = roles };
    }
}
