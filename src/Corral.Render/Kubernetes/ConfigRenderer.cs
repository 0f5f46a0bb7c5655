using k8s.Models;

namespace Corral.Render.Kubernetes;

/// <summary>The topology as a ConfigMap (the file unchanged, for the supervisor) and the nodes' credentials as a Secret.</summary>
internal static class ConfigRenderer
{
    public static V1ConfigMap Topology(RenderInput input) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = new V1ObjectMeta { Name = KubernetesNames.ConfigMap(input), Labels = Labels(input) },
        Data = new Dictionary<string, string> { [input.TopologyFileName] = input.TopologyText },
    };

    /// <summary>One key per credential file; each pod mounts only its own key (see <see cref="WorkloadRenderer"/>).</summary>
    public static V1Secret Credentials(RenderInput input) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = "Opaque",
        Metadata = new V1ObjectMeta { Name = KubernetesNames.Secret(input), Labels = Labels(input) },
        StringData = input.Credentials.Files.ToDictionary(f => f.Key, f => f.Value),
    };

    private static Dictionary<string, string> Labels(RenderInput input) => new()
    {
        [KubernetesNames.AppLabel] = "corral",
        [KubernetesNames.PartOfLabel] = input.AppName,
    };
}
