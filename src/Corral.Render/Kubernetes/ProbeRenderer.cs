using Corral.Node.Planning;
using k8s.Models;

namespace Corral.Render.Kubernetes;

/// <summary>A role's readiness and liveness as Kubernetes probes: the same endpoints the supervisor probes on one machine.</summary>
internal static class ProbeRenderer
{
    /// <summary>The (readiness, liveness) probes of node <paramref name="ordinal"/>, or nulls where the role has none Kubernetes can run.</summary>
    public static (V1Probe? Ready, V1Probe? Live) For(RolePlan role, int ordinal)
    {
        var probe = role.EffectiveProbe;
        int PortOf(string? name) => role.PortOf(role.Ports.First(p => p.Name == (name ?? role.ProbePort)), ordinal);
        return probe.Kind switch
        {
            // A probe through a unix socket cannot be expressed without a shell in the image: the container's
            // own exit is then the only liveness signal, as for a role with no probe.
            ProbeKind.Http when probe.SocketPath is null => (Http(probe.ReadyPath, PortOf(probe.Port)), Http(probe.LivePath, PortOf(probe.Port), failures: 3)),
            ProbeKind.Tcp => (Tcp(PortOf(probe.Port)), Tcp(PortOf(probe.Port), failures: 3)),
            _ => (null, null),
        };
    }

    // Liveness as on one machine: every second, 1 s timeout, three misses in a row restart the node.
    private static V1Probe Http(string path, int port, int failures = 1) => new()
    {
        HttpGet = new V1HTTPGetAction { Path = path, Port = port },
        PeriodSeconds = 1,
        TimeoutSeconds = 1,
        FailureThreshold = failures,
    };

    private static V1Probe Tcp(int port, int failures = 1) => new()
    {
        TcpSocket = new V1TCPSocketAction { Port = port },
        PeriodSeconds = 1,
        TimeoutSeconds = 1,
        FailureThreshold = failures,
    };
}
