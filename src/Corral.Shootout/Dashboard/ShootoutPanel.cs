using Corral.Node.Dashboard;
using Corral.Shootout.Config;

namespace Corral.Shootout.Dashboard;

/// <summary>The shootout's dashboard panel: each cowboy's health, the shot feed, the round and the winner, from the game server's read endpoints (in peer mode, any cowboy's, with the leader marked).</summary>
internal static class ShootoutPanel
{
    public static DashboardPanel Create() => new()
    {
        Title = "Shootout",
        ScriptAssembly = typeof(ShootoutPanel).Assembly,
        ScriptResource = "Corral.Shootout.Dashboard.panel.js",
        Routes =
        [
            new PanelRoute(ShootoutPlan.ServerRole, "GET", "/state"),
            new PanelRoute(ShootoutPlan.ServerRole, "GET", "/events"),
            // Peer mode has no server: every cowboy serves the agreed state, with the leader.
            new PanelRoute(ShootoutPlan.CowboyRole, "GET", "/state"),
        ],
    };
}
