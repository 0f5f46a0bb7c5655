using Corral.Node.Planning;
using k8s;
using k8s.Models;

namespace Corral.Render.Kubernetes;

/// <summary>
/// One workload per planned node, so each keeps the stable id the supervisor planned (<c>cowboy-3</c>), with a Service
/// of the same name as its address. Stores are StatefulSets (their data on a claim that outlives the pod); the Corral
/// nodes of a finite app are Jobs (a node that drained exits 0 and must not be started again); the rest Deployments.
/// </summary>
internal static class WorkloadRenderer
{
    public static IEnumerable<IKubernetesObject> For(RenderInput input, RolePlan role)
    {
        for (var ordinal = 1; ordinal <= role.Count; ordinal++)
        {
            yield return Workload(input, role, ordinal);
            if (role.Ports.Count > 0)
            {
                // A node's address is its id; a role that listens on no TCP port (etcd on unix sockets) gets none.
                yield return Service(input, role, ordinal);
            }
        }
    }

    private static IKubernetesObject Workload(RenderInput input, RolePlan role, int ordinal)
    {
        var nodeId = role.NodeId(ordinal);
        var metadata = new V1ObjectMeta { Name = nodeId, Labels = KubernetesNames.Labels(input, nodeId, role.Role) };
        var selector = new V1LabelSelector { MatchLabels = KubernetesNames.Selector(nodeId) };
        if (RenderInput.IsStore(role))
        {
            return new V1StatefulSet
            {
                ApiVersion = "apps/v1",
                Kind = "StatefulSet",
                Metadata = metadata,
                Spec = new V1StatefulSetSpec
                {
                    Replicas = 1,
                    ServiceName = nodeId,
                    Selector = selector,
                    Template = PodRenderer.For(input, role, ordinal, "Always"),
                    VolumeClaimTemplates =
                    [
                        new V1PersistentVolumeClaim
                        {
                            Metadata = new V1ObjectMeta { Name = PodRenderer.DataVolume },
                            Spec = new V1PersistentVolumeClaimSpec
                            {
                                AccessModes = ["ReadWriteOnce"],
                                Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new("1Gi") } },
                            },
                        },
                    ],
                },
            };
        }

        if (input.Finite)
        {
            return new V1Job
            {
                ApiVersion = "batch/v1",
                Kind = "Job",
                Metadata = metadata,
                Spec = new V1JobSpec
                {
                    // Kubernetes restarts a failed node up to the topology's cap; a drained node (exit 0) completes.
                    BackoffLimit = role.Restart == RestartPolicy.Never ? 0 : role.MaxRestarts,
                    Template = PodRenderer.For(input, role, ordinal, role.Restart == RestartPolicy.Never ? "Never" : "OnFailure"),
                },
            };
        }

        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = metadata,
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = selector,
                // One node id, one pod: never two incarnations of a node at once.
                Strategy = new V1DeploymentStrategy { Type = "Recreate" },
                Template = PodRenderer.For(input, role, ordinal, "Always"),
            },
        };
    }

    private static V1Service Service(RenderInput input, RolePlan role, int ordinal)
    {
        var nodeId = role.NodeId(ordinal);
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta { Name = nodeId, Labels = KubernetesNames.Labels(input, nodeId, role.Role) },
            Spec = new V1ServiceSpec
            {
                Selector = KubernetesNames.Selector(nodeId),
                Ports = role.Ports.Select(p => new V1ServicePort { Name = KubernetesNames.PortName(p), Port = role.PortOf(p, ordinal) }).ToList(),
            },
        };
    }
}
