using Corral.Node.Planning;
using Corral.Shootout.Config;

namespace Corral.Shootout.Peer;

/// <summary>The nodes of a peer shootout: one process per cowboy, and a throwaway etcd when no cluster is named.</summary>
internal static class PeerPlan
{
    public const string EtcdRole = "shootout.etcd";
    public const string EtcdClientPort = "client";
    public const int EtcdClientPortBase = 2379;
    public const int EtcdPeerPortBase = 2380;

    public const string InstallHint =
        "apt-get install etcd-server, or point the shootout at a running etcd cluster with 'etcd: http://HOST:2379[,http://HOST:PORT...]' in the topology (or --set etcd=...)";

    public static AppPlan Create(int cowboys, string? etcdEndpoints)
    {
        var cowboyRole = new RolePlan
        {
            Role = ShootoutPlan.CowboyRole,
            NodePrefix = "cowboy",
            Count = cowboys,
            Ports = [new PlannedPort("http", ShootoutPlan.CowboyBasePort)],
            DependsOn = etcdEndpoints is null ? [EtcdRole] : [],
            Restart = RestartPolicy.OnFailure,
        };
        return new AppPlan { App = ShootoutPlan.App, Roles = etcdEndpoints is null ? [Etcd, cowboyRole] : [cowboyRole] };
    }

    /// <summary>
    /// A single-member etcd for the run: data in the run folder, loopback ports, fast raft timings (one member, nothing
    /// to elect against), no compaction (the history is read back from its revisions), and room for a round start's
    /// transaction over up to 1000 cowboys.
    /// </summary>
    public static RolePlan Etcd { get; } = new()
    {
        Role = EtcdRole,
        NodePrefix = "etcd",
        Count = 1,
        Singleton = true,
        Ports = [new PlannedPort(EtcdClientPort, EtcdClientPortBase), new PlannedPort("peer", EtcdPeerPortBase)],
        Probe = ProbeSpec.HttpPath(EtcdClientPort, "/health"),
        GracePeriod = TimeSpan.FromSeconds(5),
        Restart = RestartPolicy.OnFailure,
        Program = new ProgramSpec
        {
            Executable = "etcd",
            Arguments =
            [
                "--name", "{node}", "--data-dir", "{data}",
                "--listen-client-urls", "http://{bind}:{port:client}", "--advertise-client-urls", "http://{bind}:{port:client}",
                "--listen-peer-urls", "http://{bind}:{port:peer}", "--initial-advertise-peer-urls", "http://{bind}:{port:peer}",
                "--initial-cluster", "{node}=http://{bind}:{port:peer}", "--initial-cluster-state", "new",
                "--heartbeat-interval", "10", "--election-timeout", "100", "--max-txn-ops", "2048",
            ],
            InstallHint = InstallHint,
        },
    };
}
