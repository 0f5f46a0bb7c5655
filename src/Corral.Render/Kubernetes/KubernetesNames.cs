using Corral.Node.Planning;

namespace Corral.Render.Kubernetes;

/// <summary>Labels and names shared by every rendered object, so a selector written by one renderer matches another's pods.</summary>
internal static class KubernetesNames
{
    public const string AppLabel = "app.kubernetes.io/name";
    public const string PartOfLabel = "app.kubernetes.io/part-of";
    public const string NodeLabel = "corral.dev/node";
    public const string RoleLabel = "corral.dev/role";

    public static string ConfigMap(RenderInput input) => $"{input.AppName}-topology";

    public static string Secret(RenderInput input) => $"{input.AppName}-credentials";

    public static Dictionary<string, string> Labels(RenderInput input, string node, string role) => new()
    {
        [AppLabel] = "corral",
        [PartOfLabel] = input.AppName,
        [NodeLabel] = node,
        [RoleLabel] = role,
    };

    /// <summary>Only the node's own label: a selector must not change when other labels do.</summary>
    public static Dictionary<string, string> Selector(string node) => new() { [NodeLabel] = node };

    /// <summary>A port name Kubernetes accepts (at most 15 characters, lowercase letters, digits and '-').</summary>
    public static string PortName(PlannedPort port)
    {
        var name = port.Name.ToLowerInvariant().Replace('_', '-');
        return name.Length > 15 ? name[..15] : name;
    }
}
