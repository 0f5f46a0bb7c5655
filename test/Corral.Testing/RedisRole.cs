using Corral.Node.Planning;

namespace Corral.Testing;

/// <summary>A redis-server program role, as an app would plan it.</summary>
public static class RedisRole
{
    public static RolePlan Plan { get; } = new()
    {
        Role = "test.redis",
        NodePrefix = "redis",
        Count = 1,
        Singleton = true,
        Ports = [new PlannedPort("client", 6379) { Scheme = "redis" }],
        Probe = ProbeSpec.Tcp("client"),
        GracePeriod = TimeSpan.FromSeconds(5),
        Program = new ProgramSpec
        {
            Executable = "redis-server",
            // In the foreground (--daemonize no): a daemonized redis would leave the supervisor's session and outlive it.
            Arguments = ["--bind", "{bind}", "--port", "{port:client}", "--dir", "{data}", "--save", "", "--appendonly", "no", "--daemonize", "no"],
            InstallHint = "apt-get install redis-server",
        },
    };
}
