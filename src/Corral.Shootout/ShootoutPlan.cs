using Corral.Node.Planning;

namespace Corral.Shootout;

/// <summary>The nodes of a server-mode shootout: one game server and one process per cowboy.</summary>
public static class ShootoutPlan
{
    public const string App = "shootout";
    public const string ServerRole = "shootout.server";
    public const string CowboyRole = "shootout.cowboy";
    public const string ServerNodeId = "server";
    public const int ServerPort = 8080;
    public const int CowboyBasePort = 8100;

    public static AppPlan Create(int cowboys) => new()
    {
        App = App,
        Roles =
        [
            new RolePlan
            {
                Role = ServerRole,
                NodePrefix = ServerNodeId,
                Count = 1,
                Singleton = true,
                Ports = [new PlannedPort("http", ServerPort)],
                // The server resumes from its store, so a crash costs a restart, never the game.
                Restart = RestartPolicy.OnFailure,
            },
            new RolePlan
            {
                Role = CowboyRole,
                NodePrefix = "cowboy",
                Count = cowboys,
                Ports = [new PlannedPort("http", CowboyBasePort)],
                DependsOn = [ServerRole],
                Restart = RestartPolicy.OnFailure,
            },
        ],
    };
}
