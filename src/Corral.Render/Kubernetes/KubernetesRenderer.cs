using System.Text.Json;
using k8s;

namespace Corral.Render.Kubernetes;

/// <summary>
/// <c>corral render k8s</c>: a topology as Kubernetes objects, in apply order (definitions, config, supervisor, nodes).
/// </summary>
public static class KubernetesRenderer
{
    public static IReadOnlyList<IKubernetesObject> Objects(RenderInput input)
    {
        var objects = new List<IKubernetesObject>();
        if (input.CustomResource is { Kind: "Shootout" } resource)
        {
            var slash = resource.ApiVersion.IndexOf('/');
            objects.Add(ShootoutResourceRenderer.Definition(resource.ApiVersion[..slash], resource.ApiVersion[(slash + 1)..]));
        }

        objects.Add(ConfigRenderer.Topology(input));
        objects.Add(ConfigRenderer.Credentials(input));
        objects.AddRange(SupervisorRenderer.For(input));
        foreach (var role in input.Plan.Roles)
        {
            objects.AddRange(WorkloadRenderer.For(input, role));
        }

        return objects;
    }

    /// <summary>The objects as one YAML stream; a custom resource the topology is (001's <c>Shootout</c>) follows unchanged.</summary>
    public static string Yaml(RenderInput input)
    {
        var text = JsonYamlWriter.Write(Objects(input).Select(ManifestJson.Element));
        return input.CustomResource is null ? text : text.TrimEnd('\n') + "\n---\n" + input.TopologyText.TrimEnd('\n') + "\n";
    }
}
