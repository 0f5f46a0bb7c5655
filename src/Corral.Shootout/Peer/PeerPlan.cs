using Corral.Node.Planning;
using Corral.Shootout.Config;

namespace Corral.Shootout.Peer;

/// <summary>The nodes of a peer shootout: one process per cowboy, and a throwaway etcd when no cluster is named.</summary>
internal static class PeerPlan
{
    public const string EtcdRole = "shootout.etcd";

    /// <summary>
    /// The managed etcd's client socket, in its data folder. etcd wants a unix URL as <c>unix://HOST:PORT</c> and binds
    /// the file named <c>HOST:PORT</c> in its working folder, which is its data folder: hence the <c>:0</c>.
    /// </summary>
    public const string EtcdSocketFile = "etcd.sock:0";

    /// <summary>The raft peer socket: a member of one has no peer to talk to, but etcd listens for them all the same.</summary>
    private const string PeerSocketFile = "peer.sock:0";

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

    /// <summary>Where the managed etcd of the run in <paramref name="runDirectory"/> (data folder <paramref name="dataDirectory"/>) listens.</summary>
    public static string EtcdSocket(string dataDirectory, string runDirectory) =>
        Path.Combine(Etcd.Program!.DataFolderOf(dataDirectory, runDirectory, Etcd.NodeId(1)), EtcdSocketFile);

    /// <summary>
    /// A single-member etcd for the run: data in the run folder; no TCP port, client and peer on unix sockets in that
    /// folder, which the supervisor makes 0700, so no other process of the machine can read or write the game (a port on
    /// loopback is open to every local process, and etcd asks for no password); fast raft timings (one member, nothing to
    /// elect against), no compaction (the history is read back from its revisions), and room for a round start's
    /// transaction over up to 1000 cowboys.
    /// </summary>
    public static RolePlan Etcd { get; } = new()
    {
        Role = EtcdRole,
        NodePrefix = "etcd",
        Count = 1,
        Singleton = true,
        Ports = [],
        Probe = ProbeSpec.HttpOverUnixSocket("{data}/" + EtcdSocketFile, "/health"),
        GracePeriod = TimeSpan.FromSeconds(5),
        Restart = RestartPolicy.OnFailure,
        Program = new ProgramSpec
        {
            Executable = "etcd",
            Arguments =
            [
                // Its files one folder down: etcd warns about anything else in its data dir, here the sockets.
                "--name", "{node}", "--data-dir", "{data}/store",
                "--listen-client-urls", "unix://" + EtcdSocketFile, "--advertise-client-urls", "unix://" + EtcdSocketFile,
                "--listen-peer-urls", "unix://" + PeerSocketFile, "--initial-advertise-peer-urls", "unix://" + PeerSocketFile,
                "--initial-cluster", "{node}=unix://" + PeerSocketFile, "--initial-cluster-state", "new",
                "--heartbeat-interval", "10", "--election-timeout", "100", "--max-txn-ops", "2048",
            ],
            Sockets = ["{data}/" + EtcdSocketFile, "{data}/" + PeerSocketFile],
            InstallHint = InstallHint,
        },
    };
}
