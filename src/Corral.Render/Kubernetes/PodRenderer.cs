using Corral.Node.Planning;
using k8s.Models;

namespace Corral.Render.Kubernetes;

/// <summary>The pod of one planned node: its image, command, ports, probes, its own credential file and its data volume.</summary>
internal static class PodRenderer
{
    public const string CredentialVolume = "credential";
    public const string DataVolume = "data";

    /// <summary>Owner-read only: <c>corral node</c> refuses a credential file that others could read.</summary>
    private const int OwnerReadOnly = 0b100_000_000;

    public static V1PodTemplateSpec For(RenderInput input, RolePlan role, int ordinal, string restartPolicy)
    {
        var nodeId = role.NodeId(ordinal);
        var (ready, live) = ProbeRenderer.For(role, ordinal);
        var container = new V1Container
        {
            Name = nodeId,
            Image = role.Program is { } program ? input.ProgramImage(program) : input.CorralImage,
            Args = input.NodeArguments(role, ordinal).ToList(),
            Ports = role.Ports.Select(p => new V1ContainerPort { Name = KubernetesNames.PortName(p), ContainerPort = role.PortOf(p, ordinal) }).ToList(),
            ReadinessProbe = ready,
            LivenessProbe = live,
            VolumeMounts = [],
        };
        var volumes = new List<V1Volume>();
        if (role.Ports.Count == 0)
        {
            container.Ports = null;
        }

        if (role.Program is { Environment.Count: > 0 } spec)
        {
            container.Env = spec.Environment.Select(e => new V1EnvVar { Name = e.Key, Value =
                ProgramTemplate.Expand(e.Value, role.Ports.ToDictionary(p => p.Name, p => role.PortOf(p, ordinal)), RenderInput.DataFolder, nodeId, "0.0.0.0") }).ToList();
        }
        if (role.Program is null)
        {
            container.VolumeMounts.Add(new V1VolumeMount { Name = CredentialVolume, MountPath = RenderInput.CredentialFolder, ReadOnlyProperty = true });
            volumes.Add(new V1Volume
            {
                Name = CredentialVolume,
                Secret = new V1SecretVolumeSource
                {
                    SecretName = KubernetesNames.Secret(input),
                    Items = [new V1KeyToPath { Key = nodeId, Path = nodeId, Mode = OwnerReadOnly }],
                },
            });
        }

        if (RenderInput.IsStore(role))
        {
            // The claim comes from the StatefulSet's volume claim template of the same name.
            container.VolumeMounts.Add(new V1VolumeMount { Name = DataVolume, MountPath = RenderInput.DataFolder });
        }

        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta { Labels = KubernetesNames.Labels(input, nodeId, role.Role) },
            Spec = new V1PodSpec
            {
                Containers = [container],
                Volumes = volumes.Count > 0 ? volumes : null,
                RestartPolicy = restartPolicy,
                Hostname = nodeId,
                TerminationGracePeriodSeconds = (long)(role.GracePeriod ?? TimeSpan.FromSeconds(10)).TotalSeconds,
            },
        };
    }
}
