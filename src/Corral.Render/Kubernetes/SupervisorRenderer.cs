using k8s;
using k8s.Models;

namespace Corral.Render.Kubernetes;

/// <summary>The supervisor as a one-replica Deployment with a Service: nodes join it at <see cref="RenderInput.JoinUrl"/>.</summary>
internal static class SupervisorRenderer
{
    private const string TopologyVolume = "topology";
    private const string KeyVolume = "signing-key";

    public static IEnumerable<IKubernetesObject> For(RenderInput input)
    {
        var labels = KubernetesNames.Labels(input, RenderInput.SupervisorName, "supervisor");
        var container = new V1Container
        {
            Name = "supervisor",
            Image = input.CorralImage,
            Args = input.SupervisorArguments().Concat(["--signing-key-file", $"/run/corral/{RenderedCredentials.SupervisorKeyFile}"]).ToList(),
            Ports =
            [
                new V1ContainerPort { Name = "control", ContainerPort = RenderInput.ControlPort },
                new V1ContainerPort { Name = "dashboard", ContainerPort = RenderInput.DashboardPort },
            ],
            VolumeMounts =
            [
                new V1VolumeMount { Name = TopologyVolume, MountPath = RenderInput.ConfigFolder, ReadOnlyProperty = true },
                new V1VolumeMount { Name = KeyVolume, MountPath = "/run/corral", ReadOnlyProperty = true },
                new V1VolumeMount { Name = "data", MountPath = RenderInput.DataFolder },
            ],
        };
        yield return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta { Name = RenderInput.SupervisorName, Labels = labels },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = KubernetesNames.Selector(RenderInput.SupervisorName) },
                Strategy = new V1DeploymentStrategy { Type = "Recreate" },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec
                    {
                        Containers = [container],
                        Volumes =
                        [
                            // Run folders (logs, history for `corral check`); a claim instead keeps them past the pod.
                            new V1Volume { Name = "data", EmptyDir = new V1EmptyDirVolumeSource() },
                            new V1Volume { Name = TopologyVolume, ConfigMap = new V1ConfigMapVolumeSource { Name = KubernetesNames.ConfigMap(input) } },
                            new V1Volume
                            {
                                Name = KeyVolume,
                                Secret = new V1SecretVolumeSource
                                {
                                    SecretName = KubernetesNames.Secret(input),
                                    Items = [new V1KeyToPath { Key = RenderedCredentials.SupervisorKeyFile, Path = RenderedCredentials.SupervisorKeyFile, Mode = 0b100_000_000 }],
                                },
                            },
                        ],
                    },
                },
            },
        };
        yield return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta { Name = RenderInput.SupervisorName, Labels = labels },
            Spec = new V1ServiceSpec
            {
                Selector = KubernetesNames.Selector(RenderInput.SupervisorName),
                Ports =
                [
                    new V1ServicePort { Name = "control", Port = RenderInput.ControlPort },
                    new V1ServicePort { Name = "dashboard", Port = RenderInput.DashboardPort },
                ],
            },
        };
    }
}
