using Corral.Node.Planning;
using Corral.WorkQueue.Config;

namespace Corral.WorkQueue;

/// <summary>The nodes of a work queue: a controller (queue owner and reporter), N workers, and redis-server when the store is <c>redis</c>.</summary>
public static class WorkQueuePlan
{
    public const string App = "workqueue";
    public const string ControllerRole = "workqueue.controller";
    public const string WorkerRole = "workqueue.worker";
    public const string RedisRole = "workqueue.redis";
    public const string ControllerNodeId = "controller";

    /// <summary>The managed Redis keeps its files under the data folder, so durations and resumable runs outlive a run.</summary>
    public const string RedisDataFolder = "workqueue-redis";

    /// <summary>The managed Redis's socket, in <see cref="RedisDataFolder"/>.</summary>
    public const string RedisSocketFile = "redis.sock";

    /// <summary>Where the managed Redis listens under the data folder <paramref name="dataDirectory"/>.</summary>
    public static string RedisSocket(string dataDirectory) => Path.Combine(Path.GetFullPath(dataDirectory), RedisDataFolder, RedisSocketFile);

    internal static AppPlan Create(WorkQueueConfig config)
    {
        var roles = new List<RolePlan>();
        if (config.ManagedRedis)
        {
            roles.Add(new RolePlan
            {
                Role = RedisRole,
                NodePrefix = "redis",
                Count = 1,
                Singleton = true,
                // No TCP port: a unix socket in the data folder, which the supervisor makes 0700, so no other user of the
                // machine can reach the queue (a TCP port on loopback is open to every local process).
                Ports = [],
                Probe = ProbeSpec.UnixSocket("{data}/" + RedisSocketFile),
                GracePeriod = TimeSpan.FromSeconds(5),
                Program = new ProgramSpec
                {
                    Executable = "redis-server",
                    // Foreground (a daemon would escape supervision); every acknowledged write fsynced before the reply.
                    Arguments = ["--port", "0", "--unixsocket", "{data}/" + RedisSocketFile, "--unixsocketperm", "700", "--dir", "{data}",
                        "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--protected-mode", "yes"],
                    DataFolder = RedisDataFolder,
                    InstallHint = "apt-get install redis-server",
                },
            });
        }

        roles.Add(new RolePlan
        {
            Role = ControllerRole,
            NodePrefix = ControllerNodeId,
            Count = 1,
            Singleton = true,
            Ports = [new PlannedPort("http", config.ReporterPort)],
            DependsOn = config.ManagedRedis ? [RedisRole] : [],
            // The queue lives in the store: a restarted controller continues the run where it was.
            Restart = RestartPolicy.OnFailure,
        });
        roles.Add(new RolePlan
        {
            Role = WorkerRole,
            NodePrefix = "worker",
            Count = config.Workers,
            Ports = [new PlannedPort("http", WorkQueueConfig.DefaultWorkerPort)],
            DependsOn = [ControllerRole],
            // Exit 0 means the run is drained; a crash restarts the worker, and its lost lease puts its task back.
            Restart = RestartPolicy.OnFailure,
            Scalable = true,
        });
        return new AppPlan { App = App, Roles = roles };
    }
}
